//! JSON errors with a reason: `{"error": "...", "reason": "..."}` and the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    /// An error with a status and a reason.
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let name = self
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase();
        let body = serde_json::json!({ "error": name, "reason": self.reason });
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::runtime::ServiceError> for ApiError {
    fn from(e: crate::runtime::ServiceError) -> Self {
        use crate::runtime::ServiceError as E;
        match e {
            E::NotFound(r) => Self::new(StatusCode::NOT_FOUND, r),
            E::BadRequest(r) => Self::new(StatusCode::BAD_REQUEST, r),
            E::Store(s) => {
                tracing::error!(error = %s, "store error");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        crate::runtime::ServiceError::Store(e).into()
    }
}
