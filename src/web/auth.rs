//! Who is asking, and may they: the token (a bearer header, or the one behind the console's
//! session cookie, see [`super::sessions`]) is hashed and compared in constant time with `[[http.tokens]]` (and the legacy
//! `[http] api_token`, an admin). Auditors read everything and change nothing; webhook
//! tokens read nothing. Every request that reaches this layer is written to the access log.

use super::ApiError;
use crate::runtime::Service;
use crate::config::{HttpConfig, Role};
use crate::store::AccessEntry;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use crate::runtime::sessions::SESSION_COOKIE as COOKIE;

/// An authenticated caller, put in the request's extensions for the handlers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's name (`[[http.tokens]] name`, `api_token`, or `loopback`).
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// May change things (resolve, dial, edit notes and ownership).
    pub fn can_write(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Operator)
    }
}

/// The token a request carries in `Authorization: Bearer`.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let (scheme, t) = v.trim().split_once(char::is_whitespace)?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| t.trim().to_string())
}

/// The console session id a request carries in its cookie.
pub fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Whether no token is configured and the loopback-only demo mode applies.
fn open_loopback(http: &HttpConfig) -> bool {
    http.tokens.is_empty()
        && http.api_token.as_ref().is_none_or(|t| t.is_empty())
        && http.allow_unauthenticated_loopback
        && http.listen.ip().is_loopback()
}

/// Finds the token's holder. `None` token: only the loopback demo mode lets one in.
pub fn identify(http: &HttpConfig, token: Option<&str>) -> Option<Principal> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return open_loopback(http).then(|| Principal {
            name: "loopback".into(),
            role: Role::Admin,
        });
    };
    identify_hash(http, &Sha256::digest(token.as_bytes()).into())
}

/// Finds the holder of the token with this SHA-256 (a console session keeps only the hash).
pub fn identify_hash(http: &HttpConfig, given: &[u8; 32]) -> Option<Principal> {
    // Every configured hash is compared, so timing says nothing about which matched.
    let mut found = None;
    for t in &http.tokens {
        if bool::from(given.as_slice().ct_eq(&t.sha256)) && found.is_none() {
            found = Some(Principal {
                name: t.name.clone(),
                role: t.role,
            });
        }
    }
    if let Some(legacy) = http.api_token.as_ref().filter(|t| !t.is_empty()) {
        let wanted = Sha256::digest(legacy.expose().as_bytes());
        if bool::from(given.as_slice().ct_eq(wanted.as_slice())) && found.is_none() {
            found = Some(Principal {
                name: "api_token".into(),
                role: Role::Admin,
            });
        }
    }
    found
}

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
