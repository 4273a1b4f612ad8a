//! Which labels and annotations fill which [`Incident`](super::Incident) field.
//! Sites name things differently (`sn`, `serial`, `serialno`); `[intake.labels]`
//! in `hotline.toml` replaces the default list of any field:
//!
//! ```toml
//! [intake.labels]
//! serial = ["sn", "serial"]
//! site = ["datacenter"]
//! instance_id = ["instance_id", "instance"]
//! ```
//!
//! Names that look like secrets or destinations are refused: see
//! [`is_secret_name`](super::is_secret_name) and
//! [`is_destination_name`](super::is_destination_name).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error};

use super::sensitive::{is_destination_name, is_secret_name};

/// A field a label or annotation can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `asset.tag`
    Tag,
    /// `asset.serial`
    Serial,
    /// `asset.vendor`
    Vendor,
    /// `asset.model`
    Model,
    /// `asset.os`
    Os,
    /// `asset.site`
    Site,
    /// `asset.room`
    Room,
    /// `asset.rack`
    Rack,
    /// `asset.unit`
    Unit,
    /// `asset.instance_id`
    InstanceId,
    /// `asset.region`
    Region,
    /// `asset.contract`
    Contract,
    /// `asset.timezone`
    Timezone,
    /// `fault.summary`
    Summary,
    /// `fault.details`
    Details,
    /// `fault.impact`
    Impact,
    /// `fault.last_change`
    LastChange,
    /// `fault.loss_per_minute`
    LossPerMinute,
    /// `fault.pattern` (`constant`, `intermittent`)
    Pattern,
    /// `fault.tried`
    Tried,
    /// `fault.request`
    Request,
    /// `fault.timeline`, one entry per line
    Timeline,
    /// `severity`, read with [`Severity::from_word`](super::Severity::from_word)
    Severity,
}

/// Every target: its key in `[intake.labels]` and its default names, tried in order.
const TABLE: &[(Target, &str, &[&str])] = &[
    (
        Target::Tag,
        "tag",
        &["asset_tag", "asset", "tag", "asset_id"],
    ),
    (
        Target::Serial,
        "serial",
        &["serial", "serial_number", "serialno", "serial_no"],
    ),
    (Target::Vendor, "vendor", &["vendor", "manufacturer"]),
    (Target::Model, "model", &["model", "hw_model"]),
    (Target::Os, "os", &["os", "operating_system"]),
    (
        Target::Site,
        "site",
        &["site", "datacenter", "data_center", "dc"],
    ),
    (Target::Room, "room", &["room"]),
    (Target::Rack, "rack", &["rack"]),
    (Target::Unit, "unit", &["unit", "rack_unit"]),
    // Prometheus's `instance` is the scrape target (`host:9100`), not a cloud
    // instance id, so it is not a default; add it in `[intake.labels]` if wanted.
    (
        Target::InstanceId,
        "instance_id",
        &["instance_id", "instanceid"],
    ),
    (Target::Region, "region", &["region"]),
    (
        Target::Contract,
        "contract",
        &["contract", "support_contract", "contract_number"],
    ),
    (Target::Timezone, "timezone", &["timezone", "tz"]),
    (
        Target::Summary,
        "summary",
        &["summary", "title", "alertname"],
    ),
    (
        Target::Details,
        "details",
        &["description", "details", "message"],
    ),
    (Target::Impact, "impact", &["impact", "business_impact"]),
    (Target::LastChange, "last_change", &["last_change"]),
    (
        Target::LossPerMinute,
        "loss_per_minute",
        &["loss_per_minute"],
    ),
    (Target::Pattern, "pattern", &["pattern"]),
    (Target::Tried, "tried", &["tried"]),
    (Target::Request, "request", &["request"]),
    (Target::Timeline, "timeline", &["timeline"]),
    (Target::Severity, "severity", &["severity", "priority"]),
];

/// The keys of `[intake.labels]`.
const KEYS: &[&str] = &[
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
    "summary",
    "details",
    "impact",
    "last_change",
    "loss_per_minute",
    "pattern",
    "tried",
    "request",
    "timeline",
    "severity",
];

impl Target {
    /// Every target, in [`TABLE`] order.
    pub fn all() -> impl Iterator<Item = Target> {
        TABLE.iter().map(|(target, _, _)| *target)
    }

    /// Its key in `[intake.labels]`.
    pub fn key(self) -> &'static str {
        TABLE
            .iter()
            .find(|(target, _, _)| *target == self)
            .map_or("", |(_, key, _)| key)
    }

    /// True for the `asset.*` targets (looked up in labels first, then
    /// annotations); the others look in annotations first.
    pub fn is_asset(self) -> bool {
        self <= Target::Timezone
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Label and annotation names for each [`Target`], tried in order; the first
/// present, non-blank value wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelMap {
    names: BTreeMap<Target, Vec<String>>,
}

impl Default for LabelMap {
    fn default() -> Self {
        let names = TABLE
            .iter()
            .map(|(target, _, names)| (*target, names.iter().map(|n| n.to_string()).collect()))
            .collect();
        Self { names }
    }
}

impl LabelMap {
    /// The names tried for `target`, in order.
    pub fn names(&self, target: Target) -> &[String] {
        self.names.get(&target).map_or(&[], Vec::as_slice)
    }

    /// Reads an `[intake.labels]` table: each key replaces that field's default
    /// list; fields not given keep their defaults; an empty list turns a field off.
    /// Unknown keys, blank names and names that look like secrets or destinations
    /// are errors.
    pub fn from_toml_value(value: toml::Value) -> Result<Self, toml::de::Error> {
        value.try_into()
    }

    /// Replaces `target`'s names; refuses secret- or destination-like names.
    pub fn set(&mut self, target: Target, names: Vec<String>) -> Result<(), String> {
        for name in &names {
            check_name(target, name)?;
        }
        self.names.insert(target, names);
        Ok(())
    }
}

/// Why `name` may not fill `target`, if it may not.
fn check_name(target: Target, name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("{target}: names must not be empty"));
    }
    if is_destination_name(name) {
        return Err(format!(
            "{target}: \"{name}\" looks like a phone number or uri; webhooks never supply \
             destinations, only dialplans do"
        ));
    }
    if is_secret_name(name) {
        return Err(format!(
            "{target}: \"{name}\" looks like a secret; secrets are never copied into incidents"
        ));
    }
    Ok(())
}

impl<'de> Deserialize<'de> for LabelMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = BTreeMap::<String, Vec<String>>::deserialize(deserializer)?;
        let mut map = LabelMap::default();
        for (key, names) in table {
            let target = Target::all()
                .find(|target| target.key() == key)
                .ok_or_else(|| D::Error::unknown_field(&key, KEYS))?;
            map.set(target, names).map_err(D::Error::custom)?;
        }
        Ok(map)
    }
}
