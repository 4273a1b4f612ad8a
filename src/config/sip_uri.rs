//! `sip:` / `sips:` URIs, checked for shape when loaded.

use std::fmt;
use std::net::Ipv6Addr;

use serde::Deserialize;

/// A `sip:[user@]host[:port][;params]` or `sips:` URI. Passwords and `?headers`
/// are rejected; the host is a hostname, IPv4 address or `[IPv6]` address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SipUri {
    text: String,
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

impl SipUri {
    /// Checks `text` and keeps it as written.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("bad sip uri \"{text}\": {why}");
        let rest = text
            .strip_prefix("sip:")
            .or_else(|| text.strip_prefix("sips:"))
            .ok_or_else(|| bad("must start with sip: or sips:"))?;
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains whitespace"));
        }
        if rest.contains('?') {
            return Err(bad("headers (?...) are not supported"));
        }
        let (user, rest) = match rest.split_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, rest),
        };
        if let Some(user) = user {
            if user.is_empty() {
                return Err(bad("empty user part"));
            }
            if !is_sip_user(user) {
                return Err(bad("user part has characters that are not allowed"));
            }
        }
        let (host_port, params) = match rest.split_once(';') {
            Some((host_port, params)) => (host_port, Some(params)),
            None => (rest, None),
        };
        let (host, port) = split_host_port(host_port).ok_or_else(|| bad("bad host or port"))?;
        if let Some(params) = params
            && params.split(';').any(|p| p.is_empty() || p.contains('@'))
        {
            return Err(bad("empty or malformed ;parameter"));
        }
        Ok(Self {
            text: text.to_string(),
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        })
    }

    /// The URI as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The user part, if any (`support` in `sip:support@host`).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The host (IPv6 addresses keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

/// Splits `host[:port]`; `None` when either part is malformed.
fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match text.strip_prefix('[').and_then(|t| t.find(']')) {
        Some(inner_len) => {
            let end = inner_len + 2;
            text[1..end - 1].parse::<Ipv6Addr>().ok()?;
            let after = &text[end..];
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?),
            };
            (&text[..end], port)
        }
        None => {
            let (host, port) = match text.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            };
            if !is_hostname(host) {
                return None;
            }
            (host, port)
        }
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((host, port))
}

/// A non-empty SIP user part: letters, digits and `-_.!~*'()&=+$,/%`.
pub(crate) fn is_sip_user(user: &str) -> bool {
    !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,/%".contains(c))
}

/// A DNS name or dotted IPv4 address: non-empty labels of letters, digits and
/// inner hyphens.
pub(crate) fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl TryFrom<String> for SipUri {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_uris() {
        let cases = [
            (
                "sip:support@127.0.0.1:5090",
                Some("support"),
                "127.0.0.1",
                Some(5090),
            ),
            (
                "sip:trunk.example.net:5060",
                None,
                "trunk.example.net",
                Some(5060),
            ),
            (
                "sips:vip@support.example.com;transport=tls",
                Some("vip"),
                "support.example.com",
                None,
            ),
            (
                "sip:+15550100123@trunk.example.net;user=phone",
                Some("+15550100123"),
                "trunk.example.net",
                None,
            ),
            ("sip:ivr@[::1]:5090", Some("ivr"), "[::1]", Some(5090)),
        ];
        for (text, user, host, port) in cases {
            let uri = SipUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (uri.user(), uri.host(), uri.port()),
                (user, host, port),
                "{text}"
            );
            assert_eq!(uri.as_str(), text);
        }
    }

    #[test]
    fn rejects_invalid_uris() {
        for text in [
            "tel:+15550100123",
            "support@example.com",
            "sip:",
            "sip:@example.com",
            "sip:user:secret@example.com",
            "sip:user@exa mple.com",
            "sip:user@example.com:0",
            "sip:user@example.com:99999",
            "sip:user@example.com:port",
            "sip:user@-bad.example.com",
            "sip:user@example..com",
            "sip:user@example.com?subject=x",
            "sip:user@example.com;",
            "sip:user@[::1",
            "sip:user@[nope]",
            "sip:user@[::1]x",
        ] {
            assert!(SipUri::parse(text).is_err(), "{text} should be rejected");
        }
    }
}
