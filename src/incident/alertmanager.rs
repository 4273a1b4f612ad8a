//! Prometheus Alertmanager's webhook (`version: "4"`): one incident per alert.
//! See <https://prometheus.io/docs/alerting/latest/configuration/#webhook_config>.

use super::alert_group::{self, Flavor};
use super::json::{Obj, parse_body, quote};
use super::{Incident, IntakeError, LabelMap};

/// Parses an Alertmanager webhook body. `fingerprint` is the alert's own, or a
/// hash of its sorted labels; `severity` comes from the mapped severity label.
pub fn parse(body: &[u8], map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
    let value = parse_body(body)?;
    let root = Obj::new(&value, String::new())?;
    if let Some(version) = root.opt_str("version")?
        && version != "4"
    {
        return Err(IntakeError::Value {
            path: root.at("version"),
            reason: format!("\"{}\" is not supported, expected \"4\"", quote(version)),
        });
    }
    alert_group::parse(&root, Flavor::Alertmanager, map)
}
