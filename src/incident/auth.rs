//! Webhook authentication, pure: a bearer token or an HMAC-SHA256 signature of the
//! body, both compared in constant time. The route passes in the header values.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a webhook request is not authenticated. The route answers 401 and should
/// not say more than [`AuthError`]'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` or signature header.
    #[error("missing credentials")]
    Missing,
    /// The header is there but not in a form we read.
    #[error("malformed credentials: {0}")]
    Malformed(&'static str),
    /// Wrong token or signature.
    #[error("credentials do not match")]
    Mismatch,
    /// A signed timestamp too far from our clock (an old delivery replayed, or a bad clock).
    #[error("signed timestamp is more than 5 minutes from our clock")]
    Stale,
    /// This exact signed delivery was accepted before (a replay).
    #[error("this signed delivery was already received")]
    Replayed,
    /// Nothing is configured to check against, so nothing is accepted.
    #[error("no authentication configured for this source")]
    NotConfigured,
}

/// Checks an `Authorization: Bearer <token>` header value against `expected`.
/// The scheme is case-insensitive. Both tokens are hashed before the constant-time
/// compare, so neither their contents nor their lengths leak through timing.
/// An empty `expected` accepts nothing.
pub fn verify_bearer(header: Option<&str>, expected: &str) -> Result<(), AuthError> {
    if expected.is_empty() {
        return Err(AuthError::NotConfigured);
    }
    let header = header.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = header
        .split_once(char::is_whitespace)
        .ok_or(AuthError::Malformed("expected \"Bearer <token>\""))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed("expected \"Bearer <token>\""));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed("empty token"));
    }
    let given = Sha256::digest(token.as_bytes());
    let wanted = Sha256::digest(expected.as_bytes());
    if bool::from(given.as_slice().ct_eq(wanted.as_slice())) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

/// Checks a signature header holding HMAC-SHA256(`secret`, `body`) as hex, bare
/// (Grafana's `X-Grafana-Alerting-Signature`) or as `sha256=<hex>` (GitHub style).
/// Hex case does not matter. The compare is hmac's constant-time `verify_slice`.
/// An empty `secret` accepts nothing.
pub fn verify_hmac(body: &[u8], header: Option<&str>, secret: &[u8]) -> Result<(), AuthError> {
    if secret.is_empty() {
        return Err(AuthError::NotConfigured);
    }
    let header = header.ok_or(AuthError::Missing)?.trim();
    let hex_digits = match header.get(..7) {
        // `get(..7)` succeeded, so byte 7 is a character boundary.
        Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &header[7..],
        _ => header,
    };
    let signature =
        hex::decode(hex_digits).map_err(|_| AuthError::Malformed("signature is not hex"))?;
    if signature.len() != 32 {
        return Err(AuthError::Malformed(
            "signature must be 64 hex digits (hmac-sha256)",
        ));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| AuthError::NotConfigured)?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| AuthError::Mismatch)
}

/// HMAC-SHA256(`secret`, `body`) as lower-case hex: what a sender puts in the
/// signature header. For tests and for documenting the scheme.
pub fn sign_hmac(body: &[u8], secret: &[u8]) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac accepts any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
