//! hotline's own JSON shape, for senders without a format of their own (scripts,
//! other tools): the incident's fields directly. Documented in docs/webhooks.md.
//! Unlike the other formats, unknown fields are refused, at every level: a
//! typo must not pass silently, and there is no field to name a destination.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::extract::{inert, lines, pattern};
use super::json::{Obj, parse_body, quote};
use super::limits::finish;
use super::{Asset, Fault, Incident, IntakeError, LabelMap, Severity, Status, fingerprint};

const TOP: &[&str] = &[
    "fingerprint",
    "status",
    "severity",
    "asset",
    "fault",
    "labels",
];
const ASSET: &[&str] = &[
    "tag",
    "serial",
    "vendor",
    "model",
    "os",
    "site",
    "room",
    "rack",
    "unit",
    "instance_id",
    "region",
    "contract",
    "timezone",
];
const FAULT: &[&str] = &[
    "summary",
    "started_at",
    "last_change",
    "impact",
    "loss_per_minute",
    "pattern",
    "tried",
    "request",
    "timeline",
    "details",
];

/// Parses one incident object, or a list of them. The label map is not used:
/// fields are named directly.
pub fn parse(body: &[u8], _map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
    let value = parse_body(body)?;
    match &value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| incident(&Obj::new(item, format!("[{i}]"))?))
            .collect(),
        _ => Ok(vec![incident(&Obj::new(&value, String::new())?)?]),
    }
}

fn incident(root: &Obj<'_>) -> Result<Incident, IntakeError> {
    root.deny_unknown(TOP)?;
    let fingerprint = fingerprint::received(root.at("fingerprint"), root.str("fingerprint")?)?;
    let status = match root.opt_str("status")? {
        None | Some("firing") => Status::Firing,
        Some("acknowledged") => Status::Acknowledged,
        Some("resolved") => Status::Resolved,
        Some(other) => {
            return Err(IntakeError::Value {
                path: root.at("status"),
                reason: format!(
                    "\"{}\" is not \"firing\", \"acknowledged\" or \"resolved\"",
                    quote(other)
                ),
            });
        }
    };
    let severity = match root.opt_str("severity")? {
        None => Severity::default(),
        Some(word) => Severity::from_word(word).ok_or_else(|| IntakeError::Value {
            path: root.at("severity"),
            reason: format!(
                "\"{}\" is not a severity; use \"critical\", \"major\", \"warning\" or \"info\"",
                quote(word)
            ),
        })?,
    };
    let asset = match root.opt_obj("asset")? {
        Some(obj) => asset(&obj)?,
        None => Asset::default(),
    };
    let fault = match root.opt_obj("fault")? {
        Some(obj) => fault(&obj)?,
        None => Fault::default(),
    };
    if status == Status::Firing && fault.summary.is_empty() {
        return Err(IntakeError::Missing {
            path: root.at("fault.summary"),
        });
    }
    let labels = root
        .string_map("labels")?
        .into_iter()
        .map(|(name, value)| {
            let value = inert(&name, &value);
            (name, value)
        })
        .collect();
    Ok(finish(Incident {
        id: String::new(),
        source: "generic".to_string(),
        fingerprint,
        status,
        severity,
        asset,
        fault,
        labels,
    }))
}

fn text(obj: &Obj<'_>, key: &str) -> Result<Option<String>, IntakeError> {
    Ok(obj.opt_text(key)?.map(|text| text.trim().to_string()))
}

fn asset(obj: &Obj<'_>) -> Result<Asset, IntakeError> {
    obj.deny_unknown(ASSET)?;
    Ok(Asset {
        tag: text(obj, "tag")?,
        serial: text(obj, "serial")?,
        vendor: text(obj, "vendor")?,
        model: text(obj, "model")?,
        os: text(obj, "os")?,
        site: text(obj, "site")?,
        room: text(obj, "room")?,
        rack: text(obj, "rack")?,
        unit: text(obj, "unit")?,
        instance_id: text(obj, "instance_id")?,
        region: text(obj, "region")?,
        contract: text(obj, "contract")?,
        timezone: text(obj, "timezone")?,
    })
}

fn fault(obj: &Obj<'_>) -> Result<Fault, IntakeError> {
    obj.deny_unknown(FAULT)?;
    let pattern = match obj.opt_text("pattern")? {
        None => None,
        Some(word) => Some(pattern(word).ok_or_else(|| IntakeError::Value {
            path: obj.at("pattern"),
            reason: format!(
                "\"{}\" is not \"constant\" or \"intermittent\"",
                quote(word)
            ),
        })?),
    };
    let started_at: Option<DateTime<Utc>> = obj.opt_time("started_at")?;
    let timeline = obj
        .opt_strings("timeline")?
        .iter()
        .flat_map(|entry| lines(entry))
        .collect();
    Ok(Fault {
        summary: text(obj, "summary")?.unwrap_or_default(),
        started_at,
        last_change: text(obj, "last_change")?,
        impact: text(obj, "impact")?,
        loss_per_minute: text(obj, "loss_per_minute")?,
        pattern,
        tried: text(obj, "tried")?,
        request: text(obj, "request")?,
        timeline,
        details: text(obj, "details")?,
    })
}
