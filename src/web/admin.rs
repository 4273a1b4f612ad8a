//! `POST /v1/admin/reload` (admins only): reload `hotline.toml` and the dialplans, like
//! SIGHUP. 200 with what changed; 422 with every error when the new files are invalid (the
//! running config is kept).

use super::ApiError;
use super::auth::Principal;
use crate::config::Role;
use crate::runtime::{ReloadError, Service};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

/// `POST /v1/admin/reload`.
pub async fn reload(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    if who.role != Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "reloading the config needs an admin token",
        ));
    }
    tracing::info!(by = %who.name, "reload requested through the API");
    let e = match svc.reload().await {
        Ok(done) => {
            return Ok(
                Json(serde_json::json!({ "reloaded": true, "result": done })).into_response(),
            );
        }
        Err(e) => e,
    };
    let reason = e.to_string();
    match e {
        ReloadError::Invalid(errors) => {
            let body = serde_json::json!({
                "error": "unprocessable entity",
                "reason": reason,
                "errors": errors,
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
        ReloadError::NoSource => Err(ApiError::new(StatusCode::CONFLICT, reason)),
    }
}
