//! The `hotline serve` sections of `hotline.toml`: `[http]`, `[store]`, `[ladder]`.

use super::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `[http]`: the API, webhooks and metrics listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Bearer token for the `/v1/incidents`, `/v1/calls` and `/v1/dialplans` API
    /// (inline or `${ENV_VAR}`).
    pub api_token: Option<Secret>,
    /// Allow the API without a token. Only honoured on a loopback listener.
    #[serde(default)]
    pub allow_unauthenticated_loopback: bool,
    /// Largest webhook body, bytes.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
}

fn default_body_limit() -> usize {
    crate::incident::MAX_BODY_BYTES
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_token: None,
            allow_unauthenticated_loopback: false,
            body_limit: default_body_limit(),
        }
    }
}

/// `[store]`: where the database lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite file (created on first start), relative to hotline.toml.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/hotline.db"),
        }
    }
}

/// `[ladder]`: escalation behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderConfig {
    /// Hang up an answered call when its incident resolves (a ringing one is always cancelled).
    #[serde(default)]
    pub hangup_on_resolve: bool,
    /// Longest a ladder call stays up after answer.
    #[serde(
        default = "default_max_call",
        deserialize_with = "super::positive_duration"
    )]
    pub max_call_duration: Duration,
    /// P0 ticket endpoint for exhausted ladders and unrouted incidents (JSON POST).
    pub fallback_url: Option<String>,
    /// Bearer token for the fallback endpoint.
    pub fallback_token: Option<Secret>,
    /// Chat webhook told of every step ("calling HPE hotline… busy → VIP line…").
    pub notify_url: Option<String>,
}

fn default_max_call() -> Duration {
    Duration::from_secs(600)
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            hangup_on_resolve: false,
            max_call_duration: default_max_call(),
            fallback_url: None,
            fallback_token: None,
            notify_url: None,
        }
    }
}
