//! Identifiers for dialplans and contacts: `[a-z0-9][a-z0-9_-]*`.

use std::fmt;

use serde::Deserialize;

/// True for `[a-z0-9][a-z0-9_-]*`.
fn is_valid_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A dialplan's id: its file stem, e.g. `hpe` for `dialplans/hpe.toml`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DialplanId(String);

impl DialplanId {
    /// Checks `text` against `[a-z0-9][a-z0-9_-]*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if is_valid_id(text) {
            Ok(Self(text.to_string()))
        } else {
            Err(format!(
                "bad dialplan id \"{text}\": use [a-z0-9][a-z0-9_-]*"
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DialplanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact's id, unique across all dialplans, e.g. `hpe-hotline`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct ContactId(String);

impl ContactId {
    /// Checks `text` against `[a-z0-9][a-z0-9_-]*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if is_valid_id(text) {
            Ok(Self(text.to_string()))
        } else {
            Err(format!(
                "bad contact id \"{text}\": use [a-z0-9][a-z0-9_-]*"
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContactId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ids() {
        for ok in ["hpe", "dell-vip", "a_1", "0day"] {
            assert!(ContactId::parse(ok).is_ok(), "{ok}");
            assert!(DialplanId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "HPE", "-x", "_x", "a b", "a.b", "é"] {
            assert!(ContactId::parse(bad).is_err(), "{bad}");
            assert!(DialplanId::parse(bad).is_err(), "{bad}");
        }
    }
}
