//! Where a contact is dialled: an E.164 number or a SIP URI.

use std::fmt;

use serde::Deserialize;

use super::DialplanError;
use crate::config::SipUri;

/// A contact's `uri`: the only place numbers come from (the whitelist).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Destination {
    /// `+` and 8 to 15 digits, dialled through the trunk.
    E164(String),
    /// A `sip:user@host[:port][;params]` or `sips:` URI, dialled directly.
    Sip(String),
}

impl Destination {
    /// Accepts `"+15550100123"` or `"sip:support@host:5090"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(digits) = text.strip_prefix('+') {
            let ok = (8..=15).contains(&digits.len())
                && digits.chars().all(|c| c.is_ascii_digit())
                && !digits.starts_with('0');
            return if ok {
                Ok(Self::E164(text.to_string()))
            } else {
                Err(format!(
                    "bad e.164 number \"{text}\": use + and 8 to 15 digits, no spaces"
                ))
            };
        }
        if text.starts_with("sip:") || text.starts_with("sips:") {
            let uri = SipUri::parse(text)?;
            if uri.user().is_none() {
                return Err(format!(
                    "bad sip uri \"{text}\": needs a user part (user@host)"
                ));
            }
            return Ok(Self::Sip(text.to_string()));
        }
        Err(format!(
            "bad uri \"{text}\": use an e.164 number like \"+15550100123\" or a sip: uri"
        ))
    }

    /// The Request-URI to INVITE: a SIP URI as is, an E.164 number as
    /// `sip:+number@trunk_domain` (an error without a trunk).
    pub fn request_uri(&self, trunk_domain: Option<&str>) -> Result<String, DialplanError> {
        match (self, trunk_domain) {
            (Self::Sip(uri), _) => Ok(uri.clone()),
            (Self::E164(number), Some(domain)) => Ok(format!("sip:{number}@{domain}")),
            (Self::E164(number), None) => Err(DialplanError::NoTrunk {
                number: number.clone(),
            }),
        }
    }
}

impl TryFrom<String> for Destination {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::E164(text) | Self::Sip(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_destinations() {
        assert_eq!(
            Destination::parse("+15550100123"),
            Ok(Destination::E164("+15550100123".into()))
        );
        assert_eq!(
            Destination::parse("sip:support@127.0.0.1:5090"),
            Ok(Destination::Sip("sip:support@127.0.0.1:5090".into()))
        );
        for bad in [
            "15550100123",
            "+1555",
            "+1234567890123456",
            "+1 555 0100 123",
            "+05550100123",
            "sip:127.0.0.1:5090",
            "tel:+15550100123",
            "sip:support@",
        ] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builds_request_uris() {
        let number = Destination::E164("+15550100123".into());
        assert_eq!(
            number.request_uri(Some("trunk.example.net")).unwrap(),
            "sip:+15550100123@trunk.example.net"
        );
        let err = number.request_uri(None).unwrap_err();
        assert!(matches!(err, DialplanError::NoTrunk { .. }), "{err}");
        let sip = Destination::Sip("sip:support@127.0.0.1:5090".into());
        assert_eq!(sip.request_uri(None).unwrap(), "sip:support@127.0.0.1:5090");
        assert_eq!(
            sip.request_uri(Some("trunk.example.net")).unwrap(),
            "sip:support@127.0.0.1:5090"
        );
    }
}
