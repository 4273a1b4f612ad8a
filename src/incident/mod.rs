//! Incidents: every monitoring format becomes one [`Incident`].
//!
//! Intake is pure: `parse(body, &LabelMap) -> Result<Vec<Incident>, IntakeError>`
//! per format, and [`auth`] checks a request's credentials. Nothing a webhook
//! carries can become a destination: the model has no field for one, and
//! destination-like labels (`uri`, `phone`, `sip`, `contact`, `dial`, ...) are
//! kept only as inert labels. See docs/webhooks.md.
//!
//! - [`alertmanager`], [`grafana`] (both via `alert_group`), [`zabbix`],
//!   [`pagerduty`], [`generic`]: one file per format; [`Format`] names them.
//! - [`LabelMap`]: which label fills which field; `extract` applies it.
//! - `json`: walks a body keeping paths for errors; `limits`: length caps and
//!   the last redaction pass; `sensitive`: secret and destination names.

mod alert_group;
pub mod alertmanager;
pub mod auth;
mod error;
mod extract;
pub mod fingerprint;
mod format;
pub mod generic;
pub mod grafana;
mod json;
mod limits;
mod mapping;
mod model;
pub mod pagerduty;
mod redact;
pub mod replay;
mod sensitive;
mod severity;
#[cfg(test)]
mod tests;
pub mod zabbix;

pub use auth::{AuthError, sign_hmac, verify_bearer, verify_hmac};
pub use error::IntakeError;
pub use format::{Format, UnknownFormat};
pub use json::MAX_BODY_BYTES;
pub use limits::{MAX_LABEL_NAME_CHARS, MAX_LABELS, MAX_TEXT_CHARS, MAX_TIMELINE};
pub use mapping::{LabelMap, Target};
pub use model::{Asset, Fault, Incident, Pattern, Severity, Status};
pub use redact::redact_text;
pub use sensitive::{REDACTED, is_destination_name, is_secret_name, looks_like_secret_value};
