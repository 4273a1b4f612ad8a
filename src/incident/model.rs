//! The one incident model every webhook format is turned into, and the briefing is made from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Firing, acknowledged by a person, or resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Firing,
    /// Still failing, but a person has taken it (PagerDuty `acknowledge`, a Zabbix
    /// acknowledgement): escalation should stop, the incident stays open.
    Acknowledged,
    Resolved,
}

/// Severity, normalized from each source's vocabulary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    #[default]
    Major,
    Critical,
}

/// The failed asset: what a vendor's support desk asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Asset {
    pub tag: Option<String>,
    pub serial: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub os: Option<String>,
    pub site: Option<String>,
    pub room: Option<String>,
    pub rack: Option<String>,
    /// Rack unit(s), e.g. "22" or "22-23".
    pub unit: Option<String>,
    /// Cloud instance id.
    pub instance_id: Option<String>,
    pub region: Option<String>,
    /// Support contract number.
    pub contract: Option<String>,
    /// IANA time zone of the site, for reading times in local time (e.g. "Europe/Berlin").
    pub timezone: Option<String>,
}

/// Whether the fault is constant or comes and goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    Constant,
    Intermittent,
}

/// What failed, since when, and what it costs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    pub summary: String,
    pub started_at: Option<DateTime<Utc>>,
    /// The last change before the fault (patch, expansion, reboot).
    pub last_change: Option<String>,
    /// Business impact: which system, what it means.
    pub impact: Option<String>,
    /// Loss per minute if known, as written (e.g. "EUR 2,000").
    pub loss_per_minute: Option<String>,
    pub pattern: Option<Pattern>,
    /// What was already tried.
    pub tried: Option<String>,
    /// What is asked of the vendor (e.g. "dispatch an engineer with a replacement disk").
    pub request: Option<String>,
    /// Timeline entries, oldest first, as short sentences.
    pub timeline: Vec<String>,
    pub details: Option<String>,
}

/// One incident, whatever sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Incident {
    pub id: String,
    /// `alertmanager`, `grafana`, `zabbix`, `pagerduty`, `generic`, `file`.
    pub source: String,
    /// Stable identity across re-deliveries: the same fingerprint while firing is the same
    /// incident.
    pub fingerprint: String,
    pub status: Status,
    pub severity: Severity,
    pub asset: Asset,
    pub fault: Fault,
    /// Every label as received (after mapping), for routing rules. Never a destination.
    pub labels: BTreeMap<String, String>,
}
