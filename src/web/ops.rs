//! `/metrics`, `/healthz`, `/readyz`.

use crate::app::Service;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// Prometheus text.
pub async fn metrics(State(svc): State<Service>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        svc.metrics().render(),
    )
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers.
pub async fn readyz(State(svc): State<Service>) -> (StatusCode, &'static str) {
    match svc.store().schema_version().await {
        Ok(_) => (StatusCode::OK, "ready\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n"),
    }
}
