//! The SLA on time to a person (a contact whose menu holds with `wait = "human"`): what the
//! ladder does when the call core names a miss (`sla_missed`, basis human).

use std::time::Duration;

/// What a miss does is a config value (`[ladder] human_sla_miss`).
pub use crate::config::HumanSlaMiss;

/// The hang-up reason (SIP Reason header, timeline, step): "no person within 30s (SLA)".
pub fn human_sla_reason(within: Duration) -> String {
    let secs = within.as_secs_f64();
    format!("no person within {secs}s (SLA)")
}
