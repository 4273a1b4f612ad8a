//! The Alertmanager-style group both Alertmanager (webhook v4) and Grafana
//! (unified alerting) send: `{ "alerts": [ { status, labels, annotations,
//! startsAt, endsAt, fingerprint, ... } ], ... }`. One incident per alert; the
//! group-level fields (`commonLabels`, ...) repeat what the alerts carry.

use std::fmt::Write;

use serde_json::Value;

use super::extract::extract;
use super::json::{Obj, kind, quote};
use super::limits::finish;
use super::{Incident, IntakeError, LabelMap, Status, fingerprint};

/// Which sender, for the few fields only one of them has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Alertmanager,
    Grafana,
}

/// Every alert of the group in `root`, in order.
pub(crate) fn parse(
    root: &Obj<'_>,
    flavor: Flavor,
    map: &LabelMap,
) -> Result<Vec<Incident>, IntakeError> {
    root.list("alerts")?
        .into_iter()
        .map(|(path, value)| alert(&Obj::new(value, path)?, flavor, map))
        .collect()
}

fn alert(alert: &Obj<'_>, flavor: Flavor, map: &LabelMap) -> Result<Incident, IntakeError> {
    let status = match alert.str("status")? {
        "firing" => Status::Firing,
        "resolved" => Status::Resolved,
        other => {
            return Err(IntakeError::Value {
                path: alert.at("status"),
                reason: format!("\"{}\" is not \"firing\" or \"resolved\"", quote(other)),
            });
        }
    };
    if alert.get("labels").is_none() {
        return Err(IntakeError::Missing {
            path: alert.at("labels"),
        });
    }
    let labels = alert.string_map("labels")?;
    let annotations = alert.string_map("annotations")?;
    let started_at = alert.opt_time("startsAt")?;
    let ended_at = alert.opt_time("endsAt")?;
    let fingerprint = match alert.opt_text("fingerprint")? {
        Some(text) => fingerprint::received(alert.at("fingerprint"), text)?,
        None => fingerprint::of_labels(&labels),
    };

    let mut found = extract(&labels, &annotations, map);
    found.fault.started_at = started_at;
    if found.fault.summary.is_empty() {
        found.fault.summary = "alert without a summary".to_string();
    }
    if flavor == Flavor::Grafana
        && let Some(values) = grafana_values(alert)?
    {
        let details = found.fault.details.get_or_insert_with(String::new);
        if !details.is_empty() {
            details.push('\n');
        }
        details.push_str(&values);
    }
    if let (Status::Resolved, Some(ended_at)) = (status, ended_at) {
        found
            .fault
            .timeline
            .push(format!("resolved at {}", ended_at.to_rfc3339()));
    }
    Ok(finish(Incident {
        id: String::new(),
        source: match flavor {
            Flavor::Alertmanager => "alertmanager",
            Flavor::Grafana => "grafana",
        }
        .to_string(),
        fingerprint,
        status,
        severity: found.severity.unwrap_or_default(),
        asset: found.asset,
        fault: found.fault,
        labels: found.labels,
    }))
}

/// Grafana's `values` (`{"A": 1, "B": 0.5}`): the query results that fired the
/// rule, as one line `values: A=1, B=0.5`.
fn grafana_values(alert: &Obj<'_>) -> Result<Option<String>, IntakeError> {
    let Some(values) = alert.opt_obj("values")? else {
        return Ok(None);
    };
    let mut line = String::from("values:");
    let mut any = false;
    for (name, value) in values.entries() {
        let shown = match value {
            Value::Number(n) => n.to_string(),
            Value::Null => "none".to_string(),
            other => {
                return Err(IntakeError::Type {
                    path: values.at(name),
                    expected: "a number",
                    found: kind(other),
                });
            }
        };
        let separator = if any { ", " } else { " " };
        // Writing to a String cannot fail.
        let _ = write!(line, "{separator}{}={shown}", quote(name));
        any = true;
    }
    Ok(any.then_some(line))
}
