//! `[bridge]`: the operator bridge (join links, the browser leg's address).

use serde::Deserialize;
use std::net::IpAddr;
use std::time::Duration;

/// `[bridge]`: all optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Longest a join link stays valid (it also dies with its call).
    #[serde(default = "default_ttl", deserialize_with = "super::positive_duration")]
    pub join_ttl: Duration,
    /// Base URL put in front of `/join/<token>` in notifications (default: the listener).
    pub public_url: Option<String>,
    /// Address the browser legs' ICE candidates use (default: `[media] advertise`).
    pub webrtc_ip: Option<IpAddr>,
    /// `[[operators]]` ids whose phones are rung into a ladder call the moment the listener
    /// detects a person on it (never during the hold). Checked by `hotline check`.
    #[serde(default)]
    pub ring_on_human: Vec<String>,
}

fn default_ttl() -> Duration {
    Duration::from_secs(30 * 60)
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            join_ttl: default_ttl(),
            public_url: None,
            webrtc_ip: None,
            ring_on_human: Vec::new(),
        }
    }
}
