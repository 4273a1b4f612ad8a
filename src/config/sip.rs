//! The `[sip]` section: signalling address, trunk and registration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{Deserializer, Error};

use super::{SipUri, duration, non_empty};

/// The `[sip]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Local address to listen on; port 0 picks a free port.
    #[serde(deserialize_with = "socket_addr")]
    pub bind: SocketAddr,
    /// Signalling transport.
    pub transport: Transport,
    /// `User-Agent` header value, if any.
    pub user_agent: Option<String>,
    /// User part of our `From` URI.
    #[serde(deserialize_with = "sip_user")]
    pub from_user: String,
    /// Outbound proxy / trunk all requests are sent to, if any.
    pub proxy: Option<SipUri>,
    /// Domain for dialling E.164 numbers; defaults to the proxy's host.
    #[serde(default, deserialize_with = "domain")]
    pub domain: Option<String>,
    /// Digest credentials, if the trunk challenges.
    pub auth: Option<SipAuth>,
    /// Registration with the trunk, if it requires one.
    pub register: Option<SipRegister>,
    /// `[sip.tls]`: trust for `transport = "tls"` (system roots when absent).
    pub tls: Option<SipTls>,
}

impl SipConfig {
    /// The domain E.164 numbers are dialled at: `domain`, else the proxy's host.
    pub fn trunk_domain(&self) -> Option<&str> {
        self.domain
            .as_deref()
            .or_else(|| self.proxy.as_ref().map(SipUri::host))
    }
}

/// SIP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (default port 5061).
    Tls,
}

/// The `[sip.tls]` section: whom a TLS trunk connection trusts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipTls {
    /// PEM file of CA certificates trusted instead of the system roots (relative to the
    /// config file).
    #[serde(default, deserialize_with = "path_opt")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Name the trunk's certificate must carry (and SNI), when the proxy is configured by
    /// address or under another name; default: the host of the URI dialled.
    #[serde(default, deserialize_with = "domain")]
    pub server_name: Option<String>,
}

fn path_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<std::path::PathBuf>, D::Error> {
    non_empty::path(deserializer).map(Some)
}

/// The `[sip.auth]` section: digest credentials.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipAuth {
    /// Digest username.
    #[serde(deserialize_with = "non_empty::string")]
    pub username: String,
    /// Digest password, inline or `${ENV_VAR}`.
    pub password: super::Secret,
    /// Realm(s) whose challenges are answered: `realm = "a"` or `realm = ["a", "b"]`.
    /// Empty (absent): only challenges from the proxy/trunk address the request went to.
    #[serde(default, deserialize_with = "realms")]
    pub realm: Vec<String>,
}

impl fmt::Debug for SipAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("realm", &self.realm)
            .finish()
    }
}

/// The `[sip.register]` section: REGISTER and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipRegister {
    /// Registrar URI.
    pub registrar: SipUri,
    /// Requested registration lifetime.
    #[serde(deserialize_with = "duration::positive")]
    pub expires: Duration,
}

/// One realm or a list of realms, none empty.
fn realms<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let list = match OneOrMany::deserialize(deserializer)
        .map_err(|_| D::Error::custom("realm must be a string or a list of strings"))?
    {
        OneOrMany::One(r) => vec![r],
        OneOrMany::Many(v) => v,
    };
    if list.iter().any(|r| r.trim().is_empty()) {
        return Err(D::Error::custom("empty realm"));
    }
    Ok(list)
}

/// A SIP user part: letters, digits and `-_.!~*'()&=+$,/%`.
fn sip_user<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let user = non_empty::string(deserializer)?;
    if !super::sip_uri::is_sip_user(&user) {
        return Err(D::Error::custom(format!("bad sip user \"{user}\"")));
    }
    Ok(user)
}

/// An `ip:port` address.
fn socket_addr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        D::Error::custom(format!(
            "bad address \"{text}\": use ip:port like \"127.0.0.1:5070\""
        ))
    })
}

/// A host name or IPv4 address.
pub(super) fn domain<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let domain = String::deserialize(deserializer)?;
    if !super::sip_uri::is_hostname(&domain) {
        return Err(D::Error::custom(format!("bad domain \"{domain}\"")));
    }
    Ok(Some(domain))
}
