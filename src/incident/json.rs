//! Walking a JSON body while keeping each value's path (`alerts[1].labels.severity`),
//! so every error names the field, what was expected and what was found.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::IntakeError;

/// Largest webhook body accepted; the route should use the same limit for its
/// body extractor so larger bodies are refused before they are buffered.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest piece of received text quoted back in an error message.
const QUOTE_CHARS: usize = 64;

/// Parses `body` as JSON, refusing bodies over [`MAX_BODY_BYTES`].
/// serde_json limits nesting to 128 levels, so deep bodies are an error, not a
/// stack overflow.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, IntakeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(IntakeError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    serde_json::from_slice(body).map_err(|e| {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let reason = full.strip_suffix(&position).unwrap_or(&full).to_string();
        IntakeError::Json {
            reason,
            line: e.line(),
            column: e.column(),
        }
    })
}

/// `text` cut to a length fit for an error message or a path.
pub(crate) fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// What a JSON value is, for "expected X, found Y".
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `parent.key`, or `key` at the top.
pub(crate) fn join(parent: &str, key: &str) -> String {
    let key = quote(key);
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// A JSON object and where it is in the body.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `value`, which must be an object, found at `path` ("" for the whole body).
    pub(crate) fn new(value: &'a Value, path: String) -> Result<Self, IntakeError> {
        match value {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(IntakeError::Type {
                path: if path.is_empty() {
                    "body".to_string()
                } else {
                    path
                },
                expected: "an object",
                found: kind(other),
            }),
        }
    }

    /// The path of `key` in this object.
    pub(crate) fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The entries, in key order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.map.iter()
    }

    /// `key`'s value; absent and `null` are both `None`.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> IntakeError {
        IntakeError::Type {
            path: self.at(key),
            expected,
            found: kind(found),
        }
    }

    /// A required string.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str, IntakeError> {
        self.opt_str(key)?
            .ok_or_else(|| IntakeError::Missing { path: self.at(key) })
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, IntakeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// An optional string that is absent when empty or blank.
    pub(crate) fn opt_text(&self, key: &str) -> Result<Option<&'a str>, IntakeError> {
        Ok(self.opt_str(key)?.filter(|text| !text.trim().is_empty()))
    }

    /// A required object.
    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>, IntakeError> {
        self.opt_obj(key)?
            .ok_or_else(|| IntakeError::Missing { path: self.at(key) })
    }

    /// An optional object.
    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, IntakeError> {
        self.get(key)
            .map(|value| Obj::new(value, self.at(key)))
            .transpose()
    }

    /// A required list, with the path of each element.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<(String, &'a Value)>, IntakeError> {
        match self.get(key) {
            None => Err(IntakeError::Missing { path: self.at(key) }),
            Some(Value::Array(items)) => {
                let path = self.at(key);
                Ok(items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{path}[{i}]"), item))
                    .collect())
            }
            Some(other) => Err(self.wrong(key, "a list", other)),
        }
    }

    /// An optional list of strings.
    pub(crate) fn opt_strings(&self, key: &str) -> Result<Vec<String>, IntakeError> {
        if self.get(key).is_none() {
            return Ok(Vec::new());
        }
        self.list(key)?
            .into_iter()
            .map(|(path, item)| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(IntakeError::Type {
                    path,
                    expected: "a string",
                    found: kind(other),
                }),
            })
            .collect()
    }

    /// An optional object whose values are all strings (labels, annotations).
    /// Absent means empty.
    pub(crate) fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, IntakeError> {
        let Some(obj) = self.opt_obj(key)? else {
            return Ok(BTreeMap::new());
        };
        obj.entries()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name.clone(), text.clone())),
                other => Err(IntakeError::Type {
                    path: obj.at(name),
                    expected: "a string",
                    found: kind(other),
                }),
            })
            .collect()
    }

    /// An optional timestamp (RFC 3339, or ISO 8601 with a `+0000` offset).
    /// Go's zero time `0001-01-01T00:00:00Z` (Alertmanager's "no end") is absent.
    pub(crate) fn opt_time(&self, key: &str) -> Result<Option<DateTime<Utc>>, IntakeError> {
        let Some(text) = self.opt_text(key)? else {
            return Ok(None);
        };
        let time = parse_time(text).ok_or_else(|| IntakeError::Value {
            path: self.at(key),
            reason: format!(
                "\"{}\" is not a timestamp; expected RFC 3339, e.g. 2024-05-03T02:14:37Z",
                quote(text)
            ),
        })?;
        Ok((time.timestamp() > GO_ZERO_TIME).then_some(time))
    }

    /// Fails on the first key not in `accepted`.
    pub(crate) fn deny_unknown(
        &self,
        accepted: &'static [&'static str],
    ) -> Result<(), IntakeError> {
        match self
            .map
            .keys()
            .find(|key| !accepted.contains(&key.as_str()))
        {
            Some(key) => Err(IntakeError::Unknown {
                path: self.at(key),
                accepted,
            }),
            None => Ok(()),
        }
    }
}

/// Seconds of `0001-01-01T00:00:00Z`, Go's zero `time.Time`.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// RFC 3339, or ISO 8601 with a colon-less offset (`2024-05-03T02:14:37.512+0000`,
/// as PagerDuty documents it).
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    // A time without a zone is refused: guessing UTC could be hours wrong.
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|time| time.with_timezone(&Utc))
}
