//! Fingerprints: the identity that makes a re-delivered alert the same incident.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::IntakeError;
use super::json::quote;

/// Longest fingerprint accepted from a sender (PagerDuty allows 255 for `dedup_key`).
pub const MAX_FINGERPRINT_CHARS: usize = 255;

/// A stable fingerprint of a label set: the first 8 bytes of SHA-256 over the
/// labels sorted by name, as 16 hex digits (the length of Alertmanager's own).
/// Unlike `std`'s hasher it is the same across builds and machines.
pub fn of_labels(labels: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (name, value) in labels {
        // Length prefixes keep ("ab","c") and ("a","bc") apart.
        for part in [name, value] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
    }
    short_hex(&hasher.finalize())
}

/// A stable fingerprint of some ordered parts.
pub(crate) fn of_parts(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    short_hex(&hasher.finalize())
}

fn short_hex(digest: &[u8]) -> String {
    hex::encode(&digest[..8.min(digest.len())])
}

/// A fingerprint received at `path`: trimmed, 1 to [`MAX_FINGERPRINT_CHARS`]
/// characters, no control characters. Refused rather than cut, since a cut
/// fingerprint could merge two incidents.
pub(crate) fn received(path: String, text: &str) -> Result<String, IntakeError> {
    let text = text.trim();
    let reason = if text.is_empty() {
        "must not be empty".to_string()
    } else if text.chars().count() > MAX_FINGERPRINT_CHARS {
        format!("longer than {MAX_FINGERPRINT_CHARS} characters")
    } else if text.chars().any(char::is_control) {
        format!(
            "\"{}\" contains control characters",
            quote(text).escape_debug()
        )
    } else {
        return Ok(text.to_string());
    };
    Err(IntakeError::Value { path, reason })
}
