//! How values become column text and back: times, flags and the enums the store keeps by name.

use super::error::StoreError;
use crate::call::Outcome;
use crate::incident::{Severity, Status};
use chrono::{DateTime, SecondsFormat, Utc};

/// A time as stored: RFC 3339 UTC, microseconds, `Z`; fixed width, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A stored time read back.
pub fn parse_ts(column: &'static str, s: String) -> Result<DateTime<Utc>, StoreError> {
    match DateTime::parse_from_rfc3339(&s) {
        Ok(t) => Ok(t.with_timezone(&Utc)),
        Err(_) => Err(StoreError::BadColumn { column, value: s }),
    }
}

/// An optional stored time read back.
pub fn parse_ts_opt(
    column: &'static str,
    s: Option<String>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.map(|s| parse_ts(column, s)).transpose()
}

/// A count or duration for a BIGINT column (saturating: no value hotline keeps gets near).
pub fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A BIGINT column read back as unsigned (a negative value would be a foreign write).
pub fn uint(column: &'static str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::BadColumn {
        column,
        value: v.to_string(),
    })
}

/// Incident status by name.
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Firing => "firing",
        Status::Resolved => "resolved",
        Status::Acknowledged => "acknowledged",
    }
}

/// Incident status from its name.
pub fn parse_status(s: String) -> Result<Status, StoreError> {
    match s.as_str() {
        "firing" => Ok(Status::Firing),
        "resolved" => Ok(Status::Resolved),
        "acknowledged" => Ok(Status::Acknowledged),
        _ => Err(StoreError::BadColumn {
            column: "status",
            value: s,
        }),
    }
}

/// Severity by name.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Major => "major",
        Severity::Critical => "critical",
    }
}

/// Severity from its name.
pub fn parse_severity(s: String) -> Result<Severity, StoreError> {
    match s.as_str() {
        "info" => Ok(Severity::Info),
        "warning" => Ok(Severity::Warning),
        "major" => Ok(Severity::Major),
        "critical" => Ok(Severity::Critical),
        _ => Err(StoreError::BadColumn {
            column: "severity",
            value: s,
        }),
    }
}

/// A call outcome by name (the same names as in the call record's JSON).
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Answered => "answered",
        Outcome::Busy => "busy",
        Outcome::NoAnswer => "no_answer",
        Outcome::Rejected => "rejected",
        Outcome::Cancelled => "cancelled",
        Outcome::Failed => "failed",
    }
}

/// A call outcome from its name.
pub fn parse_outcome(column: &'static str, s: String) -> Result<Outcome, StoreError> {
    match s.as_str() {
        "answered" => Ok(Outcome::Answered),
        "busy" => Ok(Outcome::Busy),
        "no_answer" => Ok(Outcome::NoAnswer),
        "rejected" => Ok(Outcome::Rejected),
        "cancelled" => Ok(Outcome::Cancelled),
        "failed" => Ok(Outcome::Failed),
        _ => Err(StoreError::BadColumn { column, value: s }),
    }
}

/// Fails with `NoIncident` unless the incident exists (inside the caller's transaction).
pub fn require_incident(
    conn: &super::conn::Conn,
    id: &super::id::IncidentId,
) -> Result<(), StoreError> {
    let known: bool = conn
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = ?1)",
            super::conn::args![id.as_str()],
        )?
        .get(0)?;
    if known {
        Ok(())
    } else {
        Err(StoreError::NoIncident(id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_agree_with_serde() {
        // The store's column names must read like the JSON the rest of hotline writes.
        for o in [
            Outcome::Answered,
            Outcome::Busy,
            Outcome::NoAnswer,
            Outcome::Rejected,
            Outcome::Cancelled,
            Outcome::Failed,
        ] {
            assert_eq!(serde_json::json!(o), outcome_name(o));
            assert_eq!(parse_outcome("t", outcome_name(o).into()).ok(), Some(o));
        }
        for s in [
            Severity::Info,
            Severity::Warning,
            Severity::Major,
            Severity::Critical,
        ] {
            assert_eq!(serde_json::json!(s), severity_name(s));
            assert_eq!(parse_severity(severity_name(s).into()).ok(), Some(s));
        }
        for s in [Status::Firing, Status::Resolved] {
            assert_eq!(serde_json::json!(s), status_name(s));
            assert_eq!(parse_status(status_name(s).into()).ok(), Some(s));
        }
    }

    #[test]
    fn times_sort_as_text() {
        let a = Utc::now();
        let b = a + chrono::Duration::microseconds(1);
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts("t", ts(a)).ok().map(ts), Some(ts(a)));
    }
}
