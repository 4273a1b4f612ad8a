//! Grafana unified alerting's webhook contact point: Alertmanager's group shape
//! plus `values` (the query results that fired the rule), which go into
//! `fault.details`. Grafana's legacy (pre-9) alerting body is not accepted.
//! See <https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/>.

use super::alert_group::{self, Flavor};
use super::json::{Obj, parse_body};
use super::{Incident, IntakeError, LabelMap};

/// Parses a Grafana webhook body, one incident per alert.
pub fn parse(body: &[u8], map: &LabelMap) -> Result<Vec<Incident>, IntakeError> {
    let value = parse_body(body)?;
    let root = Obj::new(&value, String::new())?;
    alert_group::parse(&root, Flavor::Grafana, map)
}
