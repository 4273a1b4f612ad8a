//! HTTP: webhooks in, the incident/call API, metrics and health (axum). Handlers are thin:
//! they authenticate, parse and hand over to `app::Service`.

mod api;
mod error;
mod hooks;
mod ops;

pub use error::ApiError;

use crate::app::Service;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The whole router.
pub fn router(svc: Service) -> Router {
    let limit = svc.config().http.body_limit;
    Router::new()
        .route("/v1/hooks/{format}", post(hooks::receive))
        .route("/v1/incidents", get(api::list_incidents))
        .route("/v1/incidents/{id}", get(api::incident))
        .route("/v1/incidents/{id}/resolve", post(api::resolve))
        .route("/v1/calls/{id}", get(api::call))
        .route("/v1/calls/{id}/recording", get(api::recording))
        .route("/v1/dialplans/{id}/dial", post(api::dial))
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(svc)
}
