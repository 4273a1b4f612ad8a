//! The SLA on time to a person (a contact whose menu holds with `wait = "human"`): what the
//! ladder does when the call core names a miss (`sla_missed`, basis human).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[ladder] human_sla_miss`: what a call that has no person on the line within its SLA does
/// to the ladder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HumanSlaMiss {
    /// Like a no-answer: sequential, the holding call is hung up and the next contact called
    /// at once; overlap, the next contact starts while this one holds on, and the first call
    /// with a person wins (not the first 200 OK).
    #[default]
    Escalate,
    /// The miss is recorded (the SLA verdict); the call holds on and the ladder waits for it.
    Keep,
}

/// The hang-up reason (SIP Reason header, timeline, step): "no person within 30s (SLA)".
pub fn human_sla_reason(within: Duration) -> String {
    let secs = within.as_secs_f64();
    format!("no person within {secs}s (SLA)")
}
