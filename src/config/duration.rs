//! Human-written durations such as `"250ms"`, `"90s"` or `"1m30s"`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string was empty.
    #[error("empty duration")]
    Empty,
    /// The string started with a minus sign.
    #[error("negative durations are not allowed")]
    Negative,
    /// A number was not followed by a unit.
    #[error("missing unit after \"{0}\" (use h, m, s or ms)")]
    MissingUnit(String),
    /// A unit was not preceded by a number.
    #[error("expected a number before \"{0}\"")]
    MissingNumber(String),
    /// The unit is not one of h, m, s, ms.
    #[error("unknown unit \"{0}\" (use h, m, s or ms)")]
    UnknownUnit(String),
    /// Units repeated or from small to large, as in `"30s1m"`.
    #[error("units must go from largest to smallest, each at most once")]
    UnitOrder,
    /// The total does not fit.
    #[error("duration is too long")]
    Overflow,
}

/// Parses `"250ms"`, `"3s"`, `"2m"`, `"1m30s"`, `"1h"`: one or more number+unit
/// pairs with units `h`, `m`, `s`, `ms` from largest to smallest. `"0s"` is accepted;
/// callers reject zero where it makes no sense.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    let mut last_unit_ms = u64::MAX;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let unit_len = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(unit_len);
        if number.is_empty() {
            return Err(DurationError::MissingNumber(rest.to_string()));
        }
        if unit.is_empty() {
            return Err(match after.chars().next() {
                None => DurationError::MissingUnit(number.to_string()),
                Some(_) => DurationError::UnknownUnit(after.to_string()),
            });
        }
        let unit_ms = match unit {
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1_000,
            "ms" => 1,
            other => return Err(DurationError::UnknownUnit(other.to_string())),
        };
        if unit_ms >= last_unit_ms {
            return Err(DurationError::UnitOrder);
        }
        last_unit_ms = unit_ms;
        let value: u64 = number.parse().map_err(|_| DurationError::Overflow)?;
        total_ms = value
            .checked_mul(unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or(DurationError::Overflow)?;
        rest = after;
    }
    Ok(Duration::from_millis(total_ms))
}

/// Serde helper: a duration string that must be greater than zero.
pub(crate) fn positive<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_str(PositiveVisitor)
}

/// Serde helper: like [`positive`], for optional fields (use with `#[serde(default)]`).
pub(crate) fn positive_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    positive(deserializer).map(Some)
}

struct PositiveVisitor;

impl Visitor<'_> for PositiveVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration like \"30s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        match parse_duration(text) {
            Ok(Duration::ZERO) => Err(E::custom("duration must be greater than zero")),
            Ok(duration) => Ok(duration),
            Err(e) => Err(E::custom(format!("bad duration \"{text}\": {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_durations() {
        let cases = [
            ("250ms", 250),
            ("3s", 3_000),
            ("90s", 90_000),
            ("2m", 120_000),
            ("1m30s", 90_000),
            ("1h", 3_600_000),
            ("1h2m3s4ms", 3_723_004),
            ("0s", 0),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_invalid_durations() {
        use DurationError::*;
        let cases = [
            ("", Empty),
            ("-3s", Negative),
            ("30", MissingUnit("30".into())),
            ("s", MissingNumber("s".into())),
            ("3d", UnknownUnit("d".into())),
            ("1.5s", UnknownUnit(".5s".into())),
            ("3 s", UnknownUnit(" s".into())),
            ("30s1m", UnitOrder),
            ("1s1s", UnitOrder),
            ("99999999999999999999s", Overflow),
            ("9999999999999999h", Overflow),
        ];
        for (text, error) in cases {
            assert_eq!(parse_duration(text), Err(error), "{text}");
        }
    }
}
