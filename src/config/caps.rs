//! Grouping and caps for call storms (`[ladder] group_by`, `max_calls`, `per_delivery`,
//! `per_dialplan`, `rtp_share`): the values and their defaults. Dialplans and contacts may set
//! their own `group_by` / `max_calls` / `max_ladders`.

use serde::Deserialize;

/// What incidents on the same vendor line must also share to become one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The same asset (asset tag, else serial, else cloud instance, else the host label).
    #[default]
    Asset,
    /// The same site.
    Site,
    /// Never grouped: one ladder per incident.
    None,
}

/// Default calls at once per vendor line.
pub fn default_max_calls() -> u32 {
    1
}

/// Default ladders one webhook delivery may run at once.
pub fn default_per_delivery() -> u32 {
    10
}

/// Default ladders one dialplan may run at once.
pub fn default_per_dialplan() -> u32 {
    20
}

/// Default share of `[media] rtp_ports` (percent) one dialplan's calls may hold.
pub fn default_rtp_share() -> u32 {
    50
}

/// A percentage in 1..=100.
pub fn percent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if !(1..=100).contains(&v) {
        return Err(serde::de::Error::custom(format!(
            "rtp_share_percent must be 1 to 100, not {v}"
        )));
    }
    Ok(v)
}

/// Calls one dialplan may hold at once under `percent` of an RTP range of `ports` usable
/// (even) ports: at least one.
pub fn rtp_calls(ports: u32, percent: u32) -> u32 {
    (ports * percent / 100).max(1)
}

/// A count of at least 1 (0 would never admit anything).
pub fn at_least_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 0 {
        return Err(serde::de::Error::custom("must be at least 1"));
    }
    Ok(v)
}

/// [`at_least_one`] for an optional value.
pub fn at_least_one_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    at_least_one(d).map(Some)
}
