//! `POST /v1/hooks/{format}`: authenticate, parse, store durably, answer 202 with what happens.

use super::ApiError;
use crate::incident::Format;
use crate::runtime::Service;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

/// Signed deliveries seen in the last timestamp windows (one per process: a signature is
/// bound to one hotline's secret anyway).
static REPLAYS: std::sync::LazyLock<std::sync::Mutex<crate::incident::replay::ReplayCache>> =
    std::sync::LazyLock::new(Default::default);

/// Receives one webhook delivery.
pub async fn receive(
    State(svc): State<Service>,
    Path(format): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let r = handle(&svc, &format, &headers, &body).await;
    let code = match &r {
        Ok((c, _)) => c.as_u16(),
        Err(e) => e.status.as_u16(),
    };
    // Only known format names become label values: a path segment from the network would
    // grow /metrics without bound (security review finding 6).
    let label = format.parse::<Format>().map_or("unknown", Format::as_str);
    svc.metrics().webhook(label, code);
    r
}

async fn handle(
    svc: &Service,
    format: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let f: Format = format.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no webhook format \"{format}\" (alertmanager, grafana, zabbix, pagerduty, generic)"
            ),
        )
    })?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let http = &svc.config().http;
    let open_demo = http.allow_unauthenticated_loopback
        && http.listen.ip().is_loopback()
        && svc
            .config()
            .intake
            .auth
            .get(f)
            .is_some_and(|a| a.is_empty());
    // A `[[http.tokens]]` token with role `webhook` stands for a format's bearer token (one
    // named, revocable token per monitoring system); it never replaces a format's table nor
    // its HMAC signature (docs/webhooks.md).
    let webhook_token = super::auth::identify(http, super::auth::token_of(headers).as_deref())
        .is_some_and(|p| p.role == crate::config::Role::Webhook);
    if !open_demo {
        let intake = &svc.config().intake.auth;
        let checked = if webhook_token {
            intake.verify_with_webhook_token(f, body, header)
        } else {
            intake.verify(f, body, header)
        };
        checked.map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))?;
        // Timestamp mode: each signed delivery is good once (replay protection).
        if let Some(a) = intake.get(f)
            && a.timestamp_header().is_some()
            && let Some(sig) = header(a.signature_header(f))
        {
            let window = 2 * crate::config::TIMESTAMP_WINDOW_SECS;
            let first = REPLAYS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .first_time(sig, chrono::Utc::now().timestamp(), window);
            if !first {
                let e = crate::incident::AuthError::Replayed;
                return Err(ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()));
            }
        }
    }
    let incidents = f
        .parse(body, &svc.config().intake.labels)
        .map_err(|e| match e {
            crate::incident::IntakeError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            _ => ApiError::new(StatusCode::BAD_REQUEST, e.to_string()),
        })?;
    // One delivery: groups form within it before any ladder starts; its ladders share the
    // per-delivery cap.
    let accepted = svc.ingest_delivery(incidents, body.len()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "incidents": accepted })),
    ))
}
