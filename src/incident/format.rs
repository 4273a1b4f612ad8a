//! The webhook formats hotline reads, by the name used in routes
//! (`/v1/hooks/{format}`) and in `Incident::source`.

use std::fmt;
use std::str::FromStr;

use super::{Incident, IntakeError, LabelMap};
use super::{alertmanager, generic, grafana, pagerduty, zabbix};

/// A webhook body format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus Alertmanager webhook v4.
    Alertmanager,
    /// Grafana unified alerting webhook.
    Grafana,
    /// Zabbix via `contrib/zabbix/hotline_media_type.yaml`.
    Zabbix,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// hotline's own shape (docs/webhooks.md).
    Generic,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Alertmanager,
        Format::Grafana,
        Format::Zabbix,
        Format::Pagerduty,
        Format::Generic,
    ];

    /// Its name: `alertmanager`, `grafana`, `zabbix`, `pagerduty`, `generic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alertmanager => "alertmanager",
            Format::Grafana => "grafana",
            Format::Zabbix => "zabbix",
            Format::Pagerduty => "pagerduty",
            Format::Generic => "generic",
        }
    }

    /// Parses `body` in this format.
    pub fn parse(self, body: &[u8], map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
        match self {
            Format::Alertmanager => alertmanager::parse(body, map),
            Format::Grafana => grafana::parse(body, map),
            Format::Zabbix => zabbix::parse(body, map),
            Format::Pagerduty => pagerduty::parse(body, map),
            Format::Generic => generic::parse(body, map),
        }
    }

    /// The header an HMAC signature is read from unless configured otherwise:
    /// Grafana's own for Grafana, `X-Hotline-Signature` for the rest.
    pub fn default_signature_header(self) -> &'static str {
        match self {
            Format::Grafana => "X-Grafana-Alerting-Signature",
            _ => "X-Hotline-Signature",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not a known format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown webhook format, expected alertmanager, grafana, zabbix, pagerduty or generic")]
pub struct UnknownFormat;

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == name)
            .ok_or(UnknownFormat)
    }
}
