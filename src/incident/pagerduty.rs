//! PagerDuty Events API v2 (`POST /v2/enqueue` bodies), so anything that can page
//! PagerDuty can point at hotline instead. `trigger` is firing, `acknowledge` is
//! [`Status::Acknowledged`], `resolve` is resolved; `dedup_key` is the fingerprint.
//! `payload.custom_details` is read like labels (nested keys joined with `.`,
//! lists one item per line). `routing_key` is a credential and is never kept.
//! See <https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>.

use std::collections::BTreeMap;

use serde_json::Value;

use super::extract::{extract, inert};
use super::json::{Obj, parse_body, quote};
use super::limits::finish;
use super::{Incident, IntakeError, LabelMap, Severity, Status, fingerprint};

/// `payload` fields that become labels of the same name.
const PAYLOAD_LABELS: &[&str] = &["source", "component", "group", "class"];

/// Parses one PagerDuty v2 event into one incident.
pub fn parse(body: &[u8], map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
    let value = parse_body(body)?;
    let root = Obj::new(&value, String::new())?;
    let action = root.str("event_action")?;
    let status = match action {
        "trigger" => Status::Firing,
        "acknowledge" => Status::Acknowledged,
        "resolve" => Status::Resolved,
        other => {
            return Err(IntakeError::Value {
                path: root.at("event_action"),
                reason: format!(
                    "\"{}\" is not \"trigger\", \"acknowledge\" or \"resolve\"",
                    quote(other)
                ),
            });
        }
    };
    let dedup_key = root.opt_text("dedup_key")?;
    let payload = if status == Status::Firing {
        Some(root.obj("payload")?)
    } else {
        root.opt_obj("payload")?
    };

    let mut labels = BTreeMap::new();
    let mut summary = String::new();
    let mut severity = Severity::default();
    let mut started_at = None;
    let mut details_text = None;
    if let Some(payload) = &payload {
        summary = if status == Status::Firing {
            payload.str("summary")?.trim().to_string()
        } else {
            payload.opt_str("summary")?.unwrap_or("").trim().to_string()
        };
        let severity_word = if status == Status::Firing {
            Some(payload.str("severity")?)
        } else {
            payload.opt_str("severity")?
        };
        if let Some(word) = severity_word {
            severity = pagerduty_severity(word).ok_or_else(|| IntakeError::Value {
                path: payload.at("severity"),
                reason: format!(
                    "\"{}\" is not \"critical\", \"error\", \"warning\" or \"info\"",
                    quote(word)
                ),
            })?;
        }
        if status == Status::Firing {
            payload.str("source")?;
        }
        started_at = payload.opt_time("timestamp")?;
        match payload.get("custom_details") {
            None => {}
            Some(Value::Object(_)) => {
                let details = payload.obj("custom_details")?;
                flatten("", &details, &mut labels);
            }
            Some(other) => details_text = Some(scalar(other)),
        }
        for key in PAYLOAD_LABELS {
            if let Some(text) = payload.opt_text(key)? {
                labels.insert(key.to_string(), text.to_string());
            }
        }
    }

    let fingerprint = match dedup_key {
        Some(key) => fingerprint::received(root.at("dedup_key"), key)?,
        None if status == Status::Firing => {
            let part = |key: &str| labels.get(key).map_or("", String::as_str);
            fingerprint::of_parts(&[
                &summary,
                part("source"),
                part("component"),
                part("group"),
                part("class"),
            ])
        }
        None => {
            return Err(IntakeError::Missing {
                path: root.at("dedup_key"),
            });
        }
    };

    let mut found = extract(&labels, &BTreeMap::new(), map);
    found.fault.summary = if summary.is_empty() {
        found.fault.summary
    } else {
        summary
    };
    found.fault.started_at = started_at;
    if let Some(text) = details_text {
        found.fault.details = Some(inert("custom_details", &text));
    }
    Ok(vec![finish(Incident {
        id: String::new(),
        source: "pagerduty".to_string(),
        fingerprint,
        status,
        severity,
        asset: found.asset,
        fault: found.fault,
        labels: found.labels,
    })])
}

/// PagerDuty's four severities; anything else is refused, as PagerDuty does.
fn pagerduty_severity(word: &str) -> Option<Severity> {
    match word {
        "critical" => Some(Severity::Critical),
        "error" => Some(Severity::Major),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// `custom_details` as labels: `{"a": {"b": 1}}` is `a.b = "1"`; a list is one
/// item per line; `null` is left out.
fn flatten(prefix: &str, obj: &Obj<'_>, out: &mut BTreeMap<String, String>) {
    for (key, value) in obj.entries() {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Null => {}
            Value::Object(_) => {
                // `value` is an object, so `Obj::new` cannot fail.
                if let Ok(inner) = Obj::new(value, obj.at(key)) {
                    flatten(&name, &inner, out);
                }
            }
            Value::Array(items) => {
                let lines: Vec<String> = items.iter().map(scalar).collect();
                out.insert(name, lines.join("\n"));
            }
            other => {
                out.insert(name, scalar(other));
            }
        }
    }
}

/// A value as one line of text: strings as they are, anything else as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
