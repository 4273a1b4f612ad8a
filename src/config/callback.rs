//! `[callback]`: the line vendors call back on, and who may call it.

use super::secret::Secret;
use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

/// `[callback]` (optional: without it every inbound INVITE is refused).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackConfig {
    /// The DID or user part of the callback line, as it arrives in the Request-URI
    /// (`+15550100200` or `incident`). Any other user part is refused with 404.
    #[serde(deserialize_with = "super::non_empty_string")]
    pub number: String,
    /// Source addresses inbound calls are taken from: the trunk / proxy addresses. Anything
    /// else is refused with 403 unless `auth` is set and the caller answers its challenge.
    #[serde(default)]
    pub allow_from: Vec<IpAddr>,
    /// Optional inbound digest auth (for callers not in `allow_from`).
    pub auth: Option<CallbackAuth>,
    /// `[[operators]]` ids rung when a callback is answered (checked by `hotline check`).
    #[serde(default)]
    pub ring_operators: Vec<String>,
    /// How long operators ring before the vendor is offered to leave a message.
    #[serde(
        default = "default_ring_for",
        deserialize_with = "super::positive_duration"
    )]
    pub ring_for: Duration,
    /// Longest message a vendor can leave.
    #[serde(
        default = "default_message_max",
        deserialize_with = "super::positive_duration"
    )]
    pub message_max: Duration,
    /// How long the caller has to key in a case number after the prompt.
    #[serde(
        default = "default_digits_within",
        deserialize_with = "super::positive_duration"
    )]
    pub digits_within: Duration,
}

/// `[callback.auth]`: the credentials a caller outside `allow_from` must answer a 401 with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackAuth {
    pub realm: String,
    pub username: String,
    pub password: Secret,
}

fn default_ring_for() -> Duration {
    Duration::from_secs(45)
}

fn default_message_max() -> Duration {
    Duration::from_secs(120)
}

fn default_digits_within() -> Duration {
    Duration::from_secs(10)
}
