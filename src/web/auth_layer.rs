//! The middleware in front of the API and the console: identifies the caller (`auth.rs`),
//! refuses what their role may not do (as the console's sign-in or error page, or JSON for the
//! API) and writes every request that reaches it to the access log.

use super::ApiError;
use super::auth::{identify, identify_hash, session_of, token_of};
use crate::config::Role;
use crate::runtime::Service;
use crate::store::AccessEntry;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

fn is_read(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD)
}

/// The refusal, as HTML for the console and JSON for the API.
fn refuse(console: bool, status: StatusCode, reason: &str) -> Response {
    if console {
        let body = if status == StatusCode::UNAUTHORIZED {
            super::console::login_page(Some(reason))
        } else {
            super::console::error_page(status, reason)
        };
        (status, Html(body)).into_response()
    } else {
        ApiError::new(status, reason).into_response()
    }
}

/// The middleware in front of the API and the console.
pub async fn layer(State(svc): State<Service>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let console = req.uri().path().starts_with("/console");
    let http = &svc.config().http;
    let token = token_of(req.headers());
    let session = session_of(req.headers());
    let who = match (&token, &session) {
        (Some(t), _) => identify(http, Some(t)),
        (None, Some(id)) => svc
            .sessions()
            .token_sha256(id, std::time::Instant::now())
            .and_then(|h| identify_hash(http, &h))
            // The loopback demo (no tokens) ignores a stale cookie.
            .or_else(|| identify(http, None)),
        (None, None) => identify(http, None),
    };
    let refusal = match &who {
        None if token.is_none() && session.is_some() => Some((
            StatusCode::UNAUTHORIZED,
            "your session has ended: sign in again",
        )),
        None if token.is_none() => Some((StatusCode::UNAUTHORIZED, "missing token")),
        None => Some((StatusCode::UNAUTHORIZED, "unknown token")),
        Some(p) if p.role == Role::Webhook => Some((
            StatusCode::FORBIDDEN,
            "webhook tokens cannot read the console or the API",
        )),
        Some(p) if !is_read(&method) && !p.can_write() => Some((
            StatusCode::FORBIDDEN,
            "auditors read everything and change nothing",
        )),
        Some(_) => None,
    };
    let res = match (refusal, &who) {
        (Some((status, reason)), _) => refuse(console, status, reason),
        (None, Some(p)) => {
            req.extensions_mut().insert(p.clone());
            next.run(req).await
        }
        // `refusal` is None only with a principal.
        (None, None) => refuse(console, StatusCode::UNAUTHORIZED, "missing token"),
    };
    // A path from the network is kept, but not without bound.
    let path: String = path.chars().take(MAX_LOGGED_PATH).collect();
    let status = res.status().as_u16();
    let mut rows = vec![];
    if who.is_none() {
        // Unauthenticated: sampled per minute, so a flood cannot grow the store (finding 6).
        let log = svc.metrics().refused(std::time::Instant::now());
        if let Some(n) = log.summary {
            rows.push(AccessEntry {
                at: chrono::Utc::now(),
                token_name: "-".into(),
                role: "none".into(),
                method: "*".into(),
                path: format!("(and {n} more refused requests in the minute before)"),
                status: 401,
            });
        }
        if !log.this {
            return res;
        }
    }
    rows.push(AccessEntry {
        at: chrono::Utc::now(),
        token_name: who.as_ref().map_or("-".into(), |p| p.name.clone()),
        role: who.as_ref().map_or("none", |p| p.role.as_str()).into(),
        method: method.to_string(),
        path,
        status,
    });
    for entry in rows {
        if let Err(e) = svc.store().log_access(entry).await {
            tracing::error!(error = %e, "cannot write the access log");
        }
    }
    res
}

/// Longest request path kept in the access log, in characters.
const MAX_LOGGED_PATH: usize = 512;
