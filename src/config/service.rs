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
    /// `[[http.tokens]]`: named tokens for people and scripts, stored as SHA-256 hashes,
    /// each with a role (console and API). `api_token` above counts as an admin token.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Most HTTP connections open at once; beyond it, new ones wait in the kernel's backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers (slow-header clients).
    #[serde(
        default = "default_header_timeout",
        deserialize_with = "super::positive_duration"
    )]
    pub header_timeout: Duration,
    /// Longest a client may take to send a request's body.
    #[serde(
        default = "default_body_timeout",
        deserialize_with = "super::positive_duration"
    )]
    pub body_timeout: Duration,
    /// A dead-man's switch: hotline GETs this URL every `heartbeat_every` while it is ready
    /// (`/readyz`), so monitoring alerts when the pings stop.
    pub heartbeat_url: Option<String>,
    #[serde(
        default = "default_heartbeat_every",
        deserialize_with = "super::positive_duration"
    )]
    pub heartbeat_every: Duration,
    /// If set, `/metrics` wants `Authorization: Bearer <metrics_token>` (inline or
    /// `${ENV_VAR}`); Prometheus sends it with `authorization: { credentials: … }`.
    pub metrics_token: Option<Secret>,
    /// Mark the console's session cookie `Secure` (browsers reach hotline over HTTPS, e.g.
    /// through a TLS-terminating proxy). Also set per request by `X-Forwarded-Proto: https`.
    #[serde(default)]
    pub secure_cookie: bool,
}

fn default_heartbeat_every() -> Duration {
    Duration::from_secs(60)
}

fn default_max_connections() -> usize {
    512
}

fn default_header_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_body_timeout() -> Duration {
    Duration::from_secs(30)
}

/// Who a token belongs to and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including token-holders' access log.
    Admin,
    /// Reads everything; resolves incidents, dials, edits notes and ownership.
    Operator,
    /// Reads everything, changes nothing.
    Auditor,
    /// A monitoring system: may not read the console or the API.
    Webhook,
}

impl Role {
    /// The role's name as written in config and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Webhook => "webhook",
        }
    }
}

/// One `[[http.tokens]]` entry: the token itself is never in the file, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Shown in the access log and on the console.
    #[serde(deserialize_with = "super::non_empty_string")]
    pub name: String,
    pub role: Role,
    /// Lower-case hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`).
    #[serde(deserialize_with = "sha256_hex")]
    pub sha256: [u8; 32],
}

fn sha256_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    use serde::de::Error;
    let text = String::deserialize(d)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|_| {
        D::Error::custom(format!(
            "sha256 must be 64 hex digits (printf %s \"$TOKEN\" | sha256sum), got \"{text}\""
        ))
    })?;
    Ok(out)
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
            tokens: Vec::new(),
            max_connections: default_max_connections(),
            header_timeout: default_header_timeout(),
            body_timeout: default_body_timeout(),
            heartbeat_url: None,
            heartbeat_every: default_heartbeat_every(),
            metrics_token: None,
            secure_cookie: false,
        }
    }
}

/// `[store]`: where the database lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite file (created on first start), relative to hotline.toml.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// PostgreSQL instead (`postgres://user:password@host:port/db`, or `${ENV_VAR}`):
    /// several hotline replicas share it. `path` is then unused.
    #[serde(default)]
    pub url: Option<super::Secret>,
}

impl StoreConfig {
    /// Where the store is, for messages: the SQLite file, or the PostgreSQL URL without
    /// its password.
    pub fn describe(&self) -> String {
        match &self.url {
            None => self.path.display().to_string(),
            Some(url) => {
                let url = url.expose();
                match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => {
                        let user = &url[s + 3..at];
                        let user = user.split(':').next().unwrap_or("");
                        format!("{}{user}@{}", &url[..s + 3], &url[at + 1..])
                    }
                    _ => url.to_string(),
                }
            }
        }
    }
}

fn default_store_path() -> PathBuf {
    PathBuf::from("data/hotline.db")
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: default_store_path(),
            url: None,
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
    /// On a graceful stop (SIGTERM): how long live calls may go on before they are hung up.
    /// No new ladder step is taken meanwhile; `"0s"` hangs up at once.
    #[serde(default = "default_drain", deserialize_with = "any_duration")]
    pub drain: Duration,
    /// What a resumed ladder does with the contact whose call a stop cut short.
    #[serde(default)]
    pub after_restart: AfterRestart,
    /// A P0 ticket that was not accepted is retried this long after its first round, then
    /// at doubling intervals (at most 30 min), for as long as the incident fires.
    #[serde(
        default = "default_ticket_retry",
        deserialize_with = "super::positive_duration"
    )]
    pub ticket_retry: Duration,
    /// When a call has reached the vendor and stops the ladder (any one of these); a far-end
    /// hang-up after that is a successful end. Default: all of `menu_completed`,
    /// `briefing_played`, `operator_joined`, `person_briefed`.
    #[serde(default = "default_reached", deserialize_with = "reached_list")]
    pub reached: Vec<super::Reached>,
    /// A call judged on time to a person with none on the line within its SLA: `escalate`
    /// (default; like a no-answer) or `keep` (record the miss only).
    #[serde(default)]
    pub human_sla_miss: super::HumanSlaMiss,
    /// Incidents on the same vendor line that also share this join one call (`asset`,
    /// `site`, `none`); a dialplan may set its own.
    #[serde(default)]
    pub group_by: super::GroupBy,
    /// Calls at once per vendor line (a contact's `uri`); a dialplan or contact may set its
    /// own. The rest wait in order (critical first, then arrival).
    #[serde(
        default = "super::caps::default_max_calls",
        deserialize_with = "super::at_least_one"
    )]
    pub max_calls: u32,
    /// Ladders one webhook delivery may run at once; the rest wait (said in the 202).
    #[serde(
        default = "super::caps::default_per_delivery",
        deserialize_with = "super::at_least_one"
    )]
    pub per_delivery: u32,
    /// Ladders one dialplan may run at once (a dialplan's `max_ladders` overrides).
    #[serde(
        default = "super::caps::default_per_dialplan",
        deserialize_with = "super::at_least_one"
    )]
    pub per_dialplan: u32,
    /// The share of `[media] rtp_ports`, in percent, one dialplan's calls may hold at once,
    /// so a storm on one vendor leaves ports for the others.
    #[serde(
        default = "super::caps::default_rtp_share",
        deserialize_with = "super::caps::percent"
    )]
    pub rtp_share_percent: u32,
    /// When every contact left is outside its hours, wait this long at most for one to open
    /// (e.g. the local service center at 08:00) and call it then, instead of ending the
    /// ladder exhausted with a P0 ticket. `"0s"` never waits.
    #[serde(default = "default_wait_for_open", deserialize_with = "any_duration")]
    pub wait_for_open: Duration,
}

fn default_wait_for_open() -> Duration {
    Duration::from_secs(3600)
}

fn default_ticket_retry() -> Duration {
    Duration::from_secs(60)
}

fn default_reached() -> Vec<super::Reached> {
    super::Reached::DEFAULT.to_vec()
}

/// A non-empty list: with none, no call could ever take an incident.
fn reached_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<super::Reached>, D::Error> {
    let list = Vec::<super::Reached>::deserialize(d)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom(
            "reached must name at least one of menu_completed, briefing_played, operator_joined, \
             person_briefed",
        ));
    }
    Ok(list)
}

/// `[ladder] after_restart`: the contact whose call a stop (crash, or the end of the drain
/// time) cut short.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterRestart {
    /// Call the same contact again at once: the person was lost mid-conversation, and a
    /// briefing they did not hear to the end has not been delivered.
    #[default]
    Redial,
    /// Go on with the next contact.
    Next,
}

fn default_max_call() -> Duration {
    Duration::from_secs(600)
}

fn default_drain() -> Duration {
    Duration::from_secs(30)
}

/// A duration string; zero allowed.
fn any_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    super::parse_duration(&text).map_err(serde::de::Error::custom)
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            hangup_on_resolve: false,
            max_call_duration: default_max_call(),
            fallback_url: None,
            fallback_token: None,
            notify_url: None,
            drain: default_drain(),
            after_restart: AfterRestart::default(),
            ticket_retry: default_ticket_retry(),
            reached: default_reached(),
            wait_for_open: default_wait_for_open(),
            group_by: Default::default(),
            max_calls: super::caps::default_max_calls(),
            per_delivery: super::caps::default_per_delivery(),
            per_dialplan: super::caps::default_per_dialplan(),
            rtp_share_percent: super::caps::default_rtp_share(),
            human_sla_miss: Default::default(),
        }
    }
}

/// `[[operators]]`: on-call phones hotline may call to bridge an operator into a live vendor
/// call. Whitelisted like vendor lines: the API names an operator by id, never a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorPhone {
    pub id: String,
    pub name: String,
    /// E.164 (via the trunk) or a `sip:` URI, checked like a dialplan contact's.
    pub uri: String,
}
