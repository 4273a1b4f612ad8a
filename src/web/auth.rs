//! Who is asking, and may they: the token (a bearer header, or the one behind the console's
//! session cookie, see [`crate::runtime::sessions`]) is hashed and compared in constant time with `[[http.tokens]]` (and the legacy
//! `[http] api_token`, an admin). Auditors read everything and change nothing; webhook
//! tokens read nothing. The middleware that applies this to every request, and writes the
//! access log, is `auth_layer.rs`.

use crate::config::{HttpConfig, Role};
use axum::http::{HeaderMap, header};
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
