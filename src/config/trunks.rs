//! `[[trunks]]`: several SIP trunks, each with its own proxy, transport, credentials,
//! registration, caller ID, number format, SRTP policy and limits. Without any `[[trunks]]`
//! the `[sip]` section's proxy / auth / register is the one implicit trunk, named
//! [`IMPLICIT_TRUNK`], so an existing `hotline.toml` keeps working unchanged.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error};

use super::{SipAuth, SipConfig, SipRegister, SipTls, SipUri, SrtpMode, Transport, duration};

/// The name of the trunk `[sip]` describes when no `[[trunks]]` are written.
pub const IMPLICIT_TRUNK: &str = "sip";

/// Default interval between OPTIONS pings to a trunk.
const DEFAULT_OPTIONS_INTERVAL: Duration = Duration::from_secs(30);

/// One `[[trunks]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Unique name, used by dialplans' `trunks = [..]`, logs, `/metrics` and
    /// `hotline trunk-test NAME`.
    #[serde(deserialize_with = "trunk_name")]
    pub name: String,
    /// Where this trunk's requests go.
    pub proxy: SipUri,
    /// Signalling transport to the proxy (default: `[sip] transport`).
    #[serde(default)]
    pub transport: Option<Transport>,
    /// Domain E.164 numbers are dialled at; defaults to the proxy's host.
    #[serde(default, deserialize_with = "super::sip::domain")]
    pub domain: Option<String>,
    /// Digest credentials, if the trunk challenges.
    pub auth: Option<SipAuth>,
    /// Registration with the trunk, if it requires one.
    pub register: Option<SipRegister>,
    /// TLS trust for `transport = "tls"` (system roots when absent).
    pub tls: Option<SipTls>,
    /// Who we say we are on this trunk.
    #[serde(default)]
    pub caller_id: CallerId,
    /// How E.164 numbers are written in the Request-URI for this trunk.
    #[serde(default)]
    pub numbers: NumberFormat,
    /// SDES-SRTP on this trunk (default: `[media] srtp`).
    #[serde(default)]
    pub srtp: Option<SrtpMode>,
    /// Concurrent calls the carrier allows (none: unlimited).
    #[serde(default, deserialize_with = "super::at_least_one_opt")]
    pub max_channels: Option<u32>,
    /// New calls (INVITEs) per second the carrier allows (none: unlimited).
    #[serde(default, deserialize_with = "super::at_least_one_opt")]
    pub max_cps: Option<u32>,
    /// Address written into SDP `c=` and Contact on this trunk (NAT); default
    /// `[media] advertise`.
    #[serde(default)]
    pub advertise: Option<IpAddr>,
    /// Interval between OPTIONS pings (health); CRLF keep-alives on TCP/TLS share it.
    #[serde(
        default = "default_options_interval",
        deserialize_with = "duration::positive"
    )]
    pub options_interval: Duration,
    /// Send OPTIONS pings at all (default true); off for a carrier that does not answer
    /// them: the trunk's health then comes from its calls only.
    #[serde(default = "yes")]
    pub options_ping: bool,
    /// A number `hotline trunk-test NAME --call` dials (an echo / test line).
    #[serde(default)]
    pub test_number: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_options_interval() -> Duration {
    DEFAULT_OPTIONS_INTERVAL
}

/// Caller ID on one trunk: the `From` display name and user, `P-Asserted-Identity`
/// (RFC 3325) and `Privacy: none` (RFC 3323) so the number is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerId {
    /// `From` display name, e.g. `"ACME NOC"`.
    #[serde(default)]
    pub display: Option<String>,
    /// `From` user part (default `[sip] from_user`), often the number the carrier assigned.
    #[serde(default)]
    pub user: Option<String>,
    /// `P-Asserted-Identity` URI sent on this trunk, e.g. `"sip:+15550100999@carrier.example"`.
    #[serde(default)]
    pub asserted: Option<SipUri>,
}

/// How an E.164 contact number is written for a trunk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberFormat {
    /// `e164` (`+15550100123`, default), `e164_no_plus` (`15550100123`) or `national`
    /// (`country_code` removed, `national_prefix` put in front: `05550100123`).
    #[serde(default)]
    pub style: NumberStyle,
    /// For `national`: the trunk's country calling code, e.g. `"49"`.
    #[serde(default)]
    pub country_code: Option<String>,
    /// For `national`: the national trunk prefix, e.g. `"0"`.
    #[serde(default)]
    pub national_prefix: Option<String>,
    /// A carrier tech prefix put in front of every number, e.g. `"1234#"`.
    #[serde(default)]
    pub tech_prefix: Option<String>,
}

/// [`NumberFormat::style`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberStyle {
    #[default]
    E164,
    E164NoPlus,
    National,
}

impl NumberFormat {
    /// `number` (`+` and digits, as a dialplan holds it) written for this trunk. A number of
    /// another country under `national` is sent in international form (`00` + digits is a
    /// carrier matter: we keep `+`).
    pub fn format(&self, number: &str) -> String {
        let digits = number.strip_prefix('+').unwrap_or(number);
        let body = match self.style {
            NumberStyle::E164 => format!("+{digits}"),
            NumberStyle::E164NoPlus => digits.to_string(),
            NumberStyle::National => match self
                .country_code
                .as_deref()
                .and_then(|cc| digits.strip_prefix(cc))
            {
                Some(rest) => format!("{}{rest}", self.national_prefix.as_deref().unwrap_or("")),
                None => format!("+{digits}"),
            },
        };
        format!("{}{body}", self.tech_prefix.as_deref().unwrap_or(""))
    }
}

/// One trunk as the gateway uses it: a `[[trunks]]` entry, or `[sip]` as the implicit one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub name: String,
    /// None only for the implicit trunk without a proxy (direct SIP URIs only).
    pub proxy: Option<SipUri>,
    pub transport: Transport,
    pub domain: Option<String>,
    pub auth: Option<SipAuth>,
    pub register: Option<SipRegister>,
    pub tls: Option<SipTls>,
    pub caller_id: CallerId,
    pub numbers: NumberFormat,
    pub srtp: SrtpMode,
    pub max_channels: Option<u32>,
    pub max_cps: Option<u32>,
    pub advertise: Option<IpAddr>,
    pub options_interval: Duration,
    pub options_ping: bool,
    pub test_number: Option<String>,
}

impl Trunk {
    /// The domain E.164 numbers are dialled at: `domain`, else the proxy's host.
    pub fn number_domain(&self) -> Option<&str> {
        self.domain
            .as_deref()
            .or_else(|| self.proxy.as_ref().map(SipUri::host))
    }

    /// The Request-URI for E.164 `number` on this trunk (None without a domain).
    pub fn number_uri(&self, number: &str) -> Option<String> {
        let domain = self.number_domain()?;
        Some(format!("sip:{}@{domain}", self.numbers.format(number)))
    }

    fn from_entry(entry: &TrunkConfig, sip: &SipConfig, srtp: SrtpMode) -> Self {
        Self {
            name: entry.name.clone(),
            proxy: Some(entry.proxy.clone()),
            transport: entry.transport.unwrap_or(sip.transport),
            domain: entry.domain.clone(),
            auth: entry.auth.clone(),
            register: entry.register.clone(),
            tls: entry.tls.clone(),
            caller_id: entry.caller_id.clone(),
            numbers: entry.numbers.clone(),
            srtp: entry.srtp.unwrap_or(srtp),
            max_channels: entry.max_channels,
            max_cps: entry.max_cps,
            advertise: entry.advertise,
            options_interval: entry.options_interval,
            options_ping: entry.options_ping,
            test_number: entry.test_number.clone(),
        }
    }

    fn implicit(sip: &SipConfig, srtp: SrtpMode) -> Self {
        Self {
            name: IMPLICIT_TRUNK.to_string(),
            proxy: sip.proxy.clone(),
            transport: sip.transport,
            domain: sip.domain.clone(),
            auth: sip.auth.clone(),
            register: sip.register.clone(),
            tls: sip.tls.clone(),
            caller_id: CallerId::default(),
            numbers: NumberFormat::default(),
            srtp,
            max_channels: None,
            max_cps: None,
            advertise: None,
            options_interval: DEFAULT_OPTIONS_INTERVAL,
            options_ping: true,
            test_number: None,
        }
    }
}

/// The trunks in force: every `[[trunks]]` entry in file order, or `[sip]` as the one
/// implicit trunk when there is none.
pub fn effective(entries: &[TrunkConfig], sip: &SipConfig, srtp: SrtpMode) -> Vec<Trunk> {
    if entries.is_empty() {
        return vec![Trunk::implicit(sip, srtp)];
    }
    entries
        .iter()
        .map(|e| Trunk::from_entry(e, sip, srtp))
        .collect()
}

/// Problems between trunk entries (each value parsed already): duplicate names, and
/// `[[trunks]]` beside a `[sip]` proxy / auth / register (which one would apply?). Returns
/// (index of the entry or None for `[sip]`, message).
pub fn conflicts(entries: &[TrunkConfig], sip: &SipConfig) -> Vec<(Option<usize>, String)> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if entries[..i].iter().any(|p| p.name == e.name) {
            out.push((Some(i), format!("trunk \"{}\" is defined twice", e.name)));
        }
        if e.transport == Some(Transport::Tls) || e.proxy.as_str().starts_with("sips:") {
            continue;
        }
        if e.tls.is_some() {
            out.push((
                Some(i),
                format!(
                    "trunk \"{}\" has [trunks.tls] but its transport is not \"tls\"",
                    e.name
                ),
            ));
        }
    }
    if !entries.is_empty() && (sip.proxy.is_some() || sip.auth.is_some() || sip.register.is_some())
    {
        out.push((
            None,
            "[sip] proxy/auth/register and [[trunks]] both given: move them into a [[trunks]] entry"
                .to_string(),
        ));
    }
    out
}

/// A trunk name: letters, digits, `-` and `_` (it appears in metric labels and URLs).
fn trunk_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(D::Error::custom(format!(
            "bad trunk name \"{name}\": use letters, digits, - and _"
        )));
    }
    Ok(name)
}
