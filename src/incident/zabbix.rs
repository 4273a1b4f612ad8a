//! Zabbix, through the webhook media type in `contrib/zabbix/hotline_media_type.yaml`:
//! Zabbix resolves each parameter's macro and the script POSTs them as one flat
//! JSON object of strings. Problem events fire, recovery events (`event_value`
//! 0) resolve, an acknowledgement update acknowledges. `event_id` (the problem
//! event, also in recovery and update messages) is the fingerprint.
//!
//! Every parameter becomes a label (so a parameter added to the media type can be
//! mapped with `[intake.labels]`), and so do the event's tags. Inventory
//! parameters fill asset fields the mapped labels left empty:
//! `inventory_asset_tag`/`inventory_tag` -> tag, `inventory_serialno_a`/`_b` ->
//! serial, `inventory_vendor`, `inventory_model`, `inventory_os`/`_os_short`,
//! `inventory_location`/`inventory_site_city` -> site, `inventory_site_rack` ->
//! rack, `inventory_contract_number` -> contract. POC phone numbers stay inert
//! labels: hotline dials only its dialplans.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde_json::Value;

use super::extract::extract;
use super::json::{Obj, kind, parse_body, quote};
use super::limits::finish;
use super::mapping::Target;
use super::sensitive::is_secret_name;
use super::{Asset, Incident, IntakeError, LabelMap, Severity, Status, fingerprint};

/// Parameters that are transport or message text, not facts about the problem.
const NOT_LABELS: &[&str] = &[
    "URL",
    "HTTPProxy",
    "To",
    "Subject",
    "Message",
    "event_tags_json",
];

/// Inventory parameters that fill an asset field when the label map did not.
const INVENTORY: &[(Target, &[&str])] = &[
    (Target::Tag, &["inventory_asset_tag", "inventory_tag"]),
    (
        Target::Serial,
        &["inventory_serialno_a", "inventory_serialno_b"],
    ),
    (Target::Vendor, &["inventory_vendor"]),
    (Target::Model, &["inventory_model"]),
    (Target::Os, &["inventory_os", "inventory_os_short"]),
    (Target::Site, &["inventory_location", "inventory_site_city"]),
    (Target::Rack, &["inventory_site_rack"]),
    (Target::Contract, &["inventory_contract_number"]),
];

/// Parses one Zabbix event into one incident.
pub fn parse(body: &[u8], map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
    let value = parse_body(body)?;
    let root = Obj::new(&value, String::new())?;
    let params = params(&root)?;
    let text = |key: &str| params.get(key).map(String::as_str);

    if let Some(source) = text("event_source")
        && source != "0"
    {
        return Err(IntakeError::Value {
            path: root.at("event_source"),
            reason: format!(
                "\"{}\": only trigger events (0) are incidents",
                quote(source)
            ),
        });
    }
    let event_id = text("event_id").ok_or_else(|| IntakeError::Missing {
        path: root.at("event_id"),
    })?;
    let fingerprint = fingerprint::received(root.at("event_id"), event_id)?;
    let mut status = match text("event_value") {
        Some("1") => Status::Firing,
        Some("0") => Status::Resolved,
        Some(other) => {
            return Err(IntakeError::Value {
                path: root.at("event_value"),
                reason: format!(
                    "\"{}\" is not \"1\" (problem) or \"0\" (recovery)",
                    quote(other)
                ),
            });
        }
        None => {
            return Err(IntakeError::Missing {
                path: root.at("event_value"),
            });
        }
    };

    let mut labels: BTreeMap<String, String> = params
        .iter()
        .filter(|(key, _)| !NOT_LABELS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for (tag, value) in tags(&root, text("event_tags_json"))? {
        labels
            .entry(tag)
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }

    let mut found = extract(&labels, &BTreeMap::new(), map);
    fill_from_inventory(&mut found.asset, &params);
    let fault = &mut found.fault;
    // A `summary` parameter found by the label map wins; the event name is next.
    if fault.summary.is_empty() {
        fault.summary = text("event_name")
            .or(text("Subject"))
            .or(text("trigger_description"))
            .unwrap_or("zabbix problem without a name")
            .to_string();
    }
    if fault.details.is_none() {
        fault.details = text("trigger_description").map(str::to_string);
    }
    if let Some(opdata) = text("event_opdata") {
        let details = fault.details.get_or_insert_with(String::new);
        if !details.is_empty() {
            details.push('\n');
        }
        details.push_str("Operational data: ");
        details.push_str(opdata);
    }
    fault.started_at = match text("event_timestamp") {
        Some(seconds) => Some(timestamp(&root, seconds)?),
        None => None,
    };
    if fault.started_at.is_none()
        && let (Some(date), Some(time)) = (text("event_date"), text("event_time"))
    {
        // {EVENT.DATE}/{EVENT.TIME} are in the Zabbix server's zone, which the
        // body does not say; keep them as written rather than guess.
        fault.timeline.push(format!(
            "problem started {date} {time} (zabbix server time)"
        ));
    }
    if text("event_update_status") == Some("1") {
        let action = text("event_update_action").unwrap_or("updated");
        let lower = action.to_ascii_lowercase();
        if lower.contains("closed") {
            status = Status::Resolved;
        } else if lower.contains("acknowledged") && !lower.contains("unacknowledged") {
            status = Status::Acknowledged;
        }
        let entry = match text("event_update_message") {
            Some(message) => format!("{action}: {message}"),
            None => action.to_string(),
        };
        fault.timeline.push(entry);
    }
    let severity = text("event_nseverity")
        .and_then(Severity::from_zabbix_level)
        .or_else(|| text("event_severity").and_then(Severity::from_word))
        .or(found.severity)
        .unwrap_or_default();

    Ok(vec![finish(Incident {
        id: String::new(),
        source: "zabbix".to_string(),
        fingerprint,
        status,
        severity,
        asset: found.asset,
        fault: found.fault,
        labels: found.labels,
    })])
}

/// The parameters: every string field that is not blank, not an unresolved
/// macro and not secret-named (a media type may carry its token as a parameter).
/// Zabbix sends parameters as strings; another type is an error.
fn params(root: &Obj<'_>) -> Result<BTreeMap<String, String>, IntakeError> {
    let mut params = BTreeMap::new();
    for (key, value) in root.entries() {
        let text = match value {
            Value::String(text) => text.trim(),
            Value::Null => continue,
            other => {
                return Err(IntakeError::Type {
                    path: root.at(key),
                    expected: "a string (zabbix sends every parameter as text)",
                    found: kind(other),
                });
            }
        };
        if text.is_empty() || is_unresolved(text) || is_secret_name(key) {
            continue;
        }
        params.insert(key.clone(), text.to_string());
    }
    Ok(params)
}

/// True for what Zabbix leaves when it cannot resolve a macro: the macro itself
/// (`{INVENTORY.SERIALNO.A}`, `{$ZABBIX.URL}`) or `*UNKNOWN*`.
fn is_unresolved(text: &str) -> bool {
    // The braces are one byte each, so slicing inside them is on char boundaries.
    let is_macro = text.len() > 2
        && text.starts_with('{')
        && text.ends_with('}')
        && text[1..text.len() - 1]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '$'));
    is_macro || text == "*UNKNOWN*"
}

/// `{EVENT.TAGSJSON}`: `[{"tag": "class", "value": "hardware"}, ...]`.
fn tags(root: &Obj<'_>, json: Option<&str>) -> Result<Vec<(String, String)>, IntakeError> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let path = root.at("event_tags_json");
    let bad = |reason: String| IntakeError::Value {
        path: path.clone(),
        reason,
    };
    let value: Value = serde_json::from_str(json).map_err(|e| {
        bad(format!(
            "not json ({e}); expected [{{\"tag\": .., \"value\": ..}}]"
        ))
    })?;
    let Value::Array(items) = value else {
        return Err(bad(format!("expected a list, found {}", kind(&value))));
    };
    let mut tags = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tag = Obj::new(item, format!("{path}[{i}]"))?;
        let name = tag.str("tag")?.trim();
        if name.is_empty() {
            continue;
        }
        let value = tag.opt_str("value")?.unwrap_or("").trim();
        tags.push((name.to_string(), value.to_string()));
    }
    Ok(tags)
}

/// Unix seconds (`{EVENT.TIMESTAMP}`).
fn timestamp(root: &Obj<'_>, seconds: &str) -> Result<chrono::DateTime<chrono::Utc>, IntakeError> {
    seconds
        .parse::<i64>()
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .ok_or_else(|| IntakeError::Value {
            path: root.at("event_timestamp"),
            reason: format!("\"{}\" is not unix seconds", quote(seconds)),
        })
}

/// Fills asset fields still empty from the inventory parameters.
fn fill_from_inventory(asset: &mut Asset, params: &BTreeMap<String, String>) {
    for (target, names) in INVENTORY {
        let field = match target {
            Target::Tag => &mut asset.tag,
            Target::Serial => &mut asset.serial,
            Target::Vendor => &mut asset.vendor,
            Target::Model => &mut asset.model,
            Target::Os => &mut asset.os,
            Target::Site => &mut asset.site,
            Target::Rack => &mut asset.rack,
            Target::Contract => &mut asset.contract,
            _ => continue,
        };
        if field.is_none() {
            *field = names.iter().find_map(|name| params.get(*name)).cloned();
        }
    }
}
