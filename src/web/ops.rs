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
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers, the recordings folder takes a file and has room, and, with
/// `[sip.register]`, the trunk registration is up. The body says `ready` or `not ready`, then
/// one line per check.
pub async fn readyz(State(svc): State<Service>) -> (StatusCode, String) {
    let r = svc.readiness().await;
    let mut body = String::from(if r.ok { "ready\n" } else { "not ready\n" });
    for l in &r.lines {
        body.push_str(l);
        body.push('\n');
    }
    let status = if r.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}
