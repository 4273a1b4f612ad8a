//! Why a webhook body was refused. Every variant names the field and what was
//! expected, so the route can answer 400 with a reason the sender can act on.

/// A webhook body that could not become incidents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The body is larger than [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES).
    #[error("body is {size} bytes, at most {limit} are accepted")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes accepted.
        limit: usize,
    },
    /// The body is not JSON (truncated, bad syntax, not UTF-8, nested too deep).
    #[error("body is not json: {reason} at line {line} column {column}")]
    Json {
        /// What the JSON parser found.
        reason: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A required field is absent or null.
    #[error("{path}: required field is missing")]
    Missing {
        /// Where, e.g. `alerts[0].status`.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("{path}: expected {expected}, found {found}")]
    Type {
        /// Where.
        path: String,
        /// What was expected, e.g. "a string".
        expected: &'static str,
        /// What was there, e.g. "a number".
        found: &'static str,
    },
    /// A field this format does not have (only our own `generic` format refuses these).
    #[error("{path}: unknown field, expected one of: {}", accepted.join(", "))]
    Unknown {
        /// Where.
        path: String,
        /// The fields accepted there.
        accepted: &'static [&'static str],
    },
    /// A field has the right type but a value that cannot be used.
    #[error("{path}: {reason}")]
    Value {
        /// Where.
        path: String,
        /// What is wrong and what is expected.
        reason: String,
    },
}

impl IntakeError {
    /// The path of the offending field, if the error is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Missing { path }
            | Self::Type { path, .. }
            | Self::Unknown { path, .. }
            | Self::Value { path, .. } => Some(path),
            Self::TooLarge { .. } | Self::Json { .. } => None,
        }
    }
}
