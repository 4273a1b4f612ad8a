//! `hotline.toml`: the gateway's own settings, loaded into a typed [`Config`].

mod bridge;
mod briefing;
mod callback;
mod caps;
mod duration;
mod error;
pub mod intake;
mod ladder_policy;
mod locate;
mod location;
mod non_empty;
mod port_range;
mod secret;
mod service;
mod sip;
mod sip_uri;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod trunk_tests;
mod trunks;

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error};

pub use crate::media::srtp::SrtpMode;
pub use bridge::BridgeConfig;
pub use briefing::{BriefingConfig, EngineKind, Language};
pub use callback::{CallbackAuth, CallbackConfig};
pub use caps::{GroupBy, rtp_calls};
pub(crate) use caps::{at_least_one, at_least_one_opt};
pub use duration::{DurationError, parse_duration};
pub(crate) use duration::{positive as positive_duration, positive_opt as positive_duration_opt};
pub use error::ConfigError;
pub use intake::{IntakeAuth, IntakeConfig, MIN_SECRET_CHARS, SourceAuth, TIMESTAMP_WINDOW_SECS};
pub use ladder_policy::{HumanSlaMiss, Reached};
pub use locate::{Located, Seg, StringAt};
pub use location::Location;
pub(crate) use non_empty::string as non_empty_string;
pub use port_range::PortRange;
pub use secret::Secret;
pub use service::{
    AfterRestart, HttpConfig, LadderConfig, OperatorPhone, Role, StoreConfig, TokenConfig,
};
pub use sip::{SipAuth, SipConfig, SipRegister, SipTls, Transport};
pub use sip_uri::SipUri;
pub use trunks::{CallerId, IMPLICIT_TRUNK, NumberFormat, NumberStyle, Trunk, TrunkConfig};

/// The whole of `hotline.toml`. Relative paths in it are already resolved
/// against the file's directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[sip]`: signalling.
    pub sip: SipConfig,
    /// `[media]`: RTP.
    pub media: MediaConfig,
    /// `[recording]`: where call recordings go.
    pub recording: RecordingConfig,
    /// `[sla]`: defaults for contacts.
    pub sla: SlaConfig,
    /// `[dialplans]`: where vendor dialplans live.
    pub dialplans: DialplansConfig,
    /// `[http]`: listener for webhooks, API and metrics (`hotline serve`).
    #[serde(default)]
    pub http: HttpConfig,
    /// `[store]`: the database.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[intake]`: webhook label mapping and per-source auth.
    #[serde(default)]
    pub intake: IntakeConfig,
    /// `[ladder]`: escalation behaviour, fallback ticket, notifications.
    #[serde(default)]
    pub ladder: LadderConfig,
    /// `[[operators]]`: whitelisted on-call phones for the operator bridge.
    #[serde(default)]
    pub operators: Vec<OperatorPhone>,
    /// `[briefing]`: who is calling and which speech engine speaks (optional).
    #[serde(default)]
    pub briefing: BriefingConfig,
    /// `[bridge]`: operators joining live calls (optional).
    #[serde(default)]
    pub bridge: BridgeConfig,
    /// `[[trunks]]`: several trunks (optional; without any, `[sip]` is the one trunk).
    #[serde(default)]
    pub trunks: Vec<TrunkConfig>,
    /// `[callback]`: the line vendors call back on (optional: without it inbound calls are
    /// refused).
    #[serde(default)]
    pub callback: Option<CallbackConfig>,
}

impl Config {
    /// The trunks in force, in file order: every `[[trunks]]` entry, or `[sip]` as the one
    /// implicit trunk named [`IMPLICIT_TRUNK`].
    pub fn trunks(&self) -> Vec<Trunk> {
        trunks::effective(&self.trunks, &self.sip, self.media.srtp)
    }

    /// The trunk a call with trunk `preference` (a contact's or dialplan's `trunks`; empty:
    /// any) goes out on: the first preferred trunk whose transport is the SIP endpoint's
    /// (`[sip] transport`: one endpoint per process today), else the first preferred one.
    pub fn trunk_for(&self, preference: &[String]) -> Trunk {
        let all = self.trunks();
        let wanted: Vec<&Trunk> = if preference.is_empty() {
            all.iter().collect()
        } else {
            preference
                .iter()
                .filter_map(|n| all.iter().find(|t| &t.name == n))
                .collect()
        };
        wanted
            .iter()
            .find(|t| t.transport == self.sip.transport)
            .or(wanted.first())
            .map(|t| (*t).clone())
            // `trunks()` is never empty: without entries it is the implicit `[sip]` trunk.
            .unwrap_or_else(|| all[0].clone())
    }

    /// Problems between trunk entries: (index in `[[trunks]]`, or None for `[sip]`, message).
    pub fn trunk_conflicts(&self) -> Vec<(Option<usize>, String)> {
        trunks::conflicts(&self.trunks, &self.sip)
    }
}

/// The `[media]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Address put in the SDP `c=` line; must not be unspecified (`0.0.0.0`).
    #[serde(deserialize_with = "advertise_addr")]
    pub advertise: IpAddr,
    /// Local ports for RTP.
    pub rtp_ports: PortRange,
    /// SDES-SRTP (RFC 4568): `off` (default), `optional` or `required`.
    #[serde(default)]
    pub srtp: SrtpMode,
}

/// The `[recording]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingConfig {
    /// Directory recordings are written to.
    #[serde(deserialize_with = "non_empty::path")]
    pub dir: PathBuf,
}

/// The `[sla]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// How soon a vendor must answer, unless a contact says otherwise.
    #[serde(deserialize_with = "duration::positive")]
    pub answer_within: Duration,
}

/// The `[dialplans]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialplansConfig {
    /// Directory holding `<id>.toml` dialplans.
    #[serde(deserialize_with = "non_empty::path")]
    pub dir: PathBuf,
}

/// Reads and checks `hotline.toml` at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config: Config = toml::from_str(&text).map_err(|e| {
        let (at, message) = Location::of_toml_error(path, &text, &e);
        ConfigError::Invalid { at, message }
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    config.recording.dir = base.join(&config.recording.dir);
    config.dialplans.dir = base.join(&config.dialplans.dir);
    config.store.path = base.join(&config.store.path);
    if let Some(ca) = config.sip.tls.as_mut().and_then(|t| t.ca_file.as_mut()) {
        *ca = base.join(&*ca);
    }
    for trunk in &mut config.trunks {
        if let Some(ca) = trunk.tls.as_mut().and_then(|t| t.ca_file.as_mut()) {
            *ca = base.join(&*ca);
        }
    }
    Ok(config)
}

/// An IP address other than `0.0.0.0` / `::`.
fn advertise_addr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    let addr: IpAddr = text.parse().map_err(|_| {
        D::Error::custom(format!(
            "bad ip address \"{text}\": use e.g. \"192.0.2.10\""
        ))
    })?;
    if addr.is_unspecified() {
        return Err(D::Error::custom(format!(
            "advertise address {addr} is unspecified; use the address peers can reach"
        )));
    }
    Ok(addr)
}
