//! `/metrics`, `/healthz`, `/readyz`.

use crate::runtime::Service;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Prometheus text; behind `[http] metrics_token` when it is set.
pub async fn metrics(State(svc): State<Service>, headers: HeaderMap) -> Response {
    if let Some(t) = &svc.config().http.metrics_token {
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Err(e) = crate::incident::verify_bearer(got, t.expose()) {
            return (StatusCode::UNAUTHORIZED, format!("metrics: {e}\n")).into_response();
        }
    }
    let mut text = svc.metrics().render();
    svc.registration_metrics(&mut text);
    svc.trunk_metrics(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers, the recordings folder takes a file and has room, with
/// `[sip.register]` the trunk registration is up, and at least one trunk is not down. The
/// body says `ready` or `not ready`, then one line per check; with `Accept:
/// application/json`: `{"ready", "checks": [lines], "trunks": {name: {up, rtt_ms, ..}}}`.
pub async fn readyz(State(svc): State<Service>, headers: HeaderMap) -> Response {
    let r = svc.readiness().await;
    let status = if r.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if json {
        let trunks: serde_json::Map<String, serde_json::Value> = r
            .trunks
            .iter()
            .map(|t| (t.name.clone(), serde_json::json!(t)))
            .collect();
        let body = serde_json::json!({ "ready": r.ok, "checks": r.lines, "trunks": trunks });
        return (status, axum::Json(body)).into_response();
    }
    let mut body = String::from(if r.ok { "ready\n" } else { "not ready\n" });
    for l in &r.lines {
        body.push_str(l);
        body.push('\n');
    }
    (status, body).into_response()
}
