//! Serde helpers for strings and paths that must not be blank.

use std::path::PathBuf;

use serde::de::{Deserialize, Deserializer, Error};

/// A string that is not empty or all whitespace.
pub(crate) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.trim().is_empty() {
        return Err(D::Error::custom("value must not be empty"));
    }
    Ok(text)
}

/// A path that is not empty.
pub(crate) fn path<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    string(deserializer).map(PathBuf::from)
}
