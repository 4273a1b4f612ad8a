//! The `[intake]` section of `hotline.toml`: label mapping and per-source
//! webhook authentication.
//!
//! ```toml
//! [intake.labels]
//! serial = ["sn", "serial"]
//!
//! [intake.auth.alertmanager]
//! bearer = "a-long-random-token-of-16+-chars"
//!
//! [intake.auth.grafana]
//! hmac_secret = "another-long-random-secret"
//! # hmac_header = "X-Grafana-Alerting-Signature"   # the default for grafana
//! ```
//!
//! A source without an `[intake.auth.<format>]` table accepts nothing.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, Error};

use crate::incident::{AuthError, Format, LabelMap, verify_bearer, verify_hmac};

/// Shortest secret accepted in configuration.
pub const MIN_SECRET_CHARS: usize = 16;

/// The `[intake]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeConfig {
    /// `[intake.labels]`: which label fills which field.
    pub labels: LabelMap,
    /// `[intake.auth.<format>]`.
    pub auth: IntakeAuth,
}

/// `[intake.auth]`: one optional table per format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeAuth {
    pub alertmanager: Option<SourceAuth>,
    pub grafana: Option<SourceAuth>,
    pub zabbix: Option<SourceAuth>,
    pub pagerduty: Option<SourceAuth>,
    pub generic: Option<SourceAuth>,
}

impl IntakeAuth {
    /// The settings for `format`, if any.
    pub fn get(&self, format: Format) -> Option<&SourceAuth> {
        match format {
            Format::Alertmanager => self.alertmanager.as_ref(),
            Format::Grafana => self.grafana.as_ref(),
            Format::Zabbix => self.zabbix.as_ref(),
            Format::Pagerduty => self.pagerduty.as_ref(),
            Format::Generic => self.generic.as_ref(),
        }
    }

    /// Checks a request for `format`; a format with no table accepts nothing.
    /// `header` looks a header up by name (case-insensitively, as HTTP does).
    pub fn verify<'h>(
        &self,
        format: Format,
        body: &[u8],
        header: impl Fn(&str) -> Option<&'h str>,
    ) -> Result<(), AuthError> {
        self.verify_at(format, body, header, chrono::Utc::now().timestamp())
    }

    /// [`IntakeAuth::verify`] with the clock given (Unix seconds): a source with a
    /// `timestamp_header` signs `"<seconds>:<body>"`, within [`TIMESTAMP_WINDOW_SECS`].
    pub fn verify_at<'h>(
        &self,
        format: Format,
        body: &[u8],
        header: impl Fn(&str) -> Option<&'h str>,
        now: i64,
    ) -> Result<(), AuthError> {
        let auth = self.get(format).ok_or(AuthError::NotConfigured)?;
        let signed = auth.signed_bytes(body, &header, now)?;
        auth.verify(
            &signed,
            header("authorization"),
            header(auth.signature_header(format)),
        )
    }

    /// Checks a request that came with a valid webhook-role token (`[[http.tokens]]`, role
    /// `webhook`). The token stands for the format's `bearer` only: the format must still
    /// have a table, and its `hmac_secret`, if set, must still sign the body.
    pub fn verify_with_webhook_token<'h>(
        &self,
        format: Format,
        body: &[u8],
        header: impl Fn(&str) -> Option<&'h str>,
    ) -> Result<(), AuthError> {
        let auth = self.get(format).ok_or(AuthError::NotConfigured)?;
        let signed = auth.signed_bytes(body, &header, chrono::Utc::now().timestamp())?;
        match &auth.hmac_secret {
            Some(secret) if !secret.0.is_empty() => verify_hmac(
                &signed,
                header(auth.signature_header(format)),
                secret.0.as_bytes(),
            ),
            Some(_) => Err(AuthError::NotConfigured),
            None => Ok(()),
        }
    }
}

/// One source's credentials: a bearer token, an HMAC secret, or both (then
/// both must match).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "SourceAuthFile")]
pub struct SourceAuth {
    bearer: Option<Secret>,
    hmac_secret: Option<Secret>,
    hmac_header: Option<String>,
    /// Grafana's timestamp mode: the sender signs `"<unix seconds>:<body>"` and sends the
    /// seconds in this header; hotline refuses timestamps outside [`TIMESTAMP_WINDOW_SECS`]
    /// and the web layer refuses a signature seen before (replay protection).
    timestamp_header: Option<String>,
}

/// How far a signed timestamp may be from our clock, seconds.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceAuthFile {
    bearer: Option<Secret>,
    hmac_secret: Option<Secret>,
    hmac_header: Option<String>,
    timestamp_header: Option<String>,
}

impl TryFrom<SourceAuthFile> for SourceAuth {
    type Error = String;

    fn try_from(file: SourceAuthFile) -> Result<Self, String> {
        if file.bearer.is_none() && file.hmac_secret.is_none() {
            return Err("set bearer, hmac_secret, or both".to_string());
        }
        if file.hmac_header.is_some() && file.hmac_secret.is_none() {
            return Err("hmac_header needs hmac_secret".to_string());
        }
        if file.timestamp_header.is_some() && file.hmac_secret.is_none() {
            return Err("timestamp_header needs hmac_secret".to_string());
        }
        for header in file.hmac_header.iter().chain(file.timestamp_header.iter()) {
            let valid = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(format!("\"{header}\" is not a header name"));
            }
        }
        Ok(Self {
            bearer: file.bearer,
            hmac_secret: file.hmac_secret,
            hmac_header: file.hmac_header,
            timestamp_header: file.timestamp_header,
        })
    }
}

impl SourceAuth {
    /// What the sender signed: the body, or `"<seconds>:<body>"` in timestamp mode (after
    /// checking the seconds are within the window of `now`).
    fn signed_bytes<'h>(
        &self,
        body: &[u8],
        header: &impl Fn(&str) -> Option<&'h str>,
        now: i64,
    ) -> Result<Vec<u8>, AuthError> {
        let Some(name) = &self.timestamp_header else {
            return Ok(body.to_vec());
        };
        let text = header(name).ok_or(AuthError::Missing)?.trim();
        let ts: i64 = text
            .parse()
            .map_err(|_| AuthError::Malformed("timestamp is not Unix seconds"))?;
        if (now - ts).abs() > TIMESTAMP_WINDOW_SECS {
            return Err(AuthError::Stale);
        }
        let mut signed = format!("{ts}:").into_bytes();
        signed.extend_from_slice(body);
        Ok(signed)
    }

    /// The timestamp header of timestamp mode, if set (the web layer keeps its replay cache).
    pub fn timestamp_header(&self) -> Option<&str> {
        self.timestamp_header.as_deref()
    }

    /// True when every secret it holds is empty (unset environment variables).
    pub fn is_empty(&self) -> bool {
        self.bearer.as_ref().is_none_or(|s| s.0.is_empty())
            && self.hmac_secret.as_ref().is_none_or(|s| s.0.is_empty())
    }

    /// A bearer-token check (for tests and programmatic setup).
    pub fn bearer(token: &str) -> Result<Self, String> {
        Ok(Self {
            bearer: Some(Secret::new(token)?),
            hmac_secret: None,
            hmac_header: None,
            timestamp_header: None,
        })
    }

    /// An HMAC check, with the format's default header unless `header` is given.
    pub fn hmac(secret: &str, header: Option<&str>) -> Result<Self, String> {
        SourceAuthFile {
            bearer: None,
            hmac_secret: Some(Secret::new(secret)?),
            hmac_header: header.map(str::to_string),
            timestamp_header: None,
        }
        .try_into()
    }

    /// The header the signature is read from.
    pub fn signature_header(&self, format: Format) -> &str {
        self.hmac_header
            .as_deref()
            .unwrap_or(format.default_signature_header())
    }

    /// Checks every configured credential.
    pub fn verify(
        &self,
        body: &[u8],
        authorization: Option<&str>,
        signature: Option<&str>,
    ) -> Result<(), AuthError> {
        if self.is_empty() {
            // An empty secret never matches anything.
            return Err(AuthError::NotConfigured);
        }
        if let Some(token) = &self.bearer {
            verify_bearer(authorization, &token.0)?;
        }
        if let Some(secret) = &self.hmac_secret {
            verify_hmac(body, signature, secret.0.as_bytes())?;
        }
        Ok(())
    }
}

impl fmt::Debug for SourceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceAuth")
            .field("bearer", &self.bearer)
            .field("hmac_secret", &self.hmac_secret)
            .field("hmac_header", &self.hmac_header)
            .field("timestamp_header", &self.timestamp_header)
            .finish()
    }
}

/// A configured secret: at least [`MIN_SECRET_CHARS`] characters, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// `text`, if long enough and not blank. Empty (an unset `${ENV_VAR}`) is kept as empty:
    /// `hotline serve` refuses to start with it unless explicitly allowed on loopback.
    pub fn new(text: &str) -> Result<Self, String> {
        if !text.is_empty() && text.trim().chars().count() < MIN_SECRET_CHARS {
            return Err(format!(
                "secret must be at least {MIN_SECRET_CHARS} characters"
            ));
        }
        Ok(Self(text.to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Written inline or as `${ENV_VAR}` (resolved like every secret in hotline.toml).
        let text = super::Secret::deserialize(deserializer)?;
        Secret::new(text.expose()).map_err(D::Error::custom)
    }
}
