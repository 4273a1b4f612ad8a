//! `[ladder]` values the pure ladder acts on: which facts show the vendor was reached
//! (`reached`) and what a miss on time to a person does (`human_sla_miss`). Defined here, with
//! the config that names them; `crate::ladder` reads them (`ladder/reached.rs`, `human.rs`).

use serde::{Deserialize, Serialize};

/// One fact that shows the vendor was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reached {
    /// The menu ran to its last step (the closing `hangup`, or its end with an operator on
    /// the line).
    MenuCompleted,
    /// The briefing played once to its end (repeats are extra; a take-over that stopped it
    /// does not count).
    BriefingPlayed,
    /// An operator who can speak (not a listen-only leg) joined the call.
    OperatorJoined,
    /// The listener detected a person (`human_detected`) and the briefing then played to
    /// its end: a person at the vendor heard it (never the hold music).
    PersonBriefed,
}

impl Reached {
    /// `[ladder] reached` when not set: any of them.
    pub const DEFAULT: [Reached; 4] = [
        Reached::MenuCompleted,
        Reached::BriefingPlayed,
        Reached::OperatorJoined,
        Reached::PersonBriefed,
    ];

    /// The name used in the config and in reason texts.
    pub fn name(self) -> &'static str {
        match self {
            Reached::MenuCompleted => "menu_completed",
            Reached::BriefingPlayed => "briefing_played",
            Reached::OperatorJoined => "operator_joined",
            Reached::PersonBriefed => "person_briefed",
        }
    }
}

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
