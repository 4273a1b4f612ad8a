//! HTTP: webhooks in, the incident/call API, the auditor console, metrics and health
//! (axum). Handlers are thin: they parse and hand over to `runtime::Service` or the store. The
//! API and the console sit behind `auth_layer::layer` (tokens with roles, access log).

mod admin;
mod api;
pub mod auth;
mod auth_layer;
mod callback;
pub mod console;
mod error;
mod events;
mod guard;
mod hooks;
mod join;
pub mod listener;
mod operator_stream;
pub mod operator_view;
mod ops;

pub use error::ApiError;

use crate::runtime::Service;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

/// The whole router.
pub fn router(svc: Service) -> Router {
    let limit = svc.config().http.body_limit;
    let people = Router::new()
        .route("/v1/incidents", get(api::list_incidents))
        .route("/v1/incidents/{id}", get(api::incident))
        .route("/v1/incidents/{id}/events", get(events::stream))
        .route("/v1/incidents/{id}/resolve", post(api::resolve))
        .route("/v1/incidents/{id}/case", post(callback::case))
        .route("/v1/incidents/{id}/response", post(callback::response))
        .route("/v1/calls/{id}", get(api::call))
        .route("/v1/calls/{id}/recording", get(api::recording))
        .route("/v1/calls/{id}/join", post(join::mint))
        .route("/v1/calls/{id}/phone", post(api::phone))
        .route("/v1/dialplans/{id}/dial", post(api::dial))
        .route("/v1/admin/reload", post(admin::reload))
        .merge(console::routes())
        .layer(from_fn_with_state(svc.clone(), auth_layer::layer));
    Router::new()
        .route("/v1/hooks/{format}", post(hooks::receive))
        .merge(people)
        .merge(console::public_routes())
        // The operator bridge: each link and leg is its own credential.
        .route("/join/{token}", get(join::page))
        .route("/join/{token}/offer", post(join::offer))
        .route("/join/{token}/events", get(join::token_events))
        .route("/join/{token}/phone", post(join::phone))
        .route("/leg/{secret}/state", get(join::state))
        .route("/leg/{secret}/events", get(join::leg_events))
        .route("/leg/{secret}/handover", post(join::handover))
        .route("/leg/{secret}/{action}", post(join::action))
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(guard::layer))
        // A slow body cannot hold a connection (finding 7); headers: see listener.rs.
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            svc.config().http.body_timeout,
        ))
        .with_state(svc)
}
