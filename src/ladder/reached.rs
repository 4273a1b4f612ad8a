//! When a call has reached the vendor: the facts an answered call can establish, read from its
//! record. `[ladder] reached` names which of them stop the ladder (any one is enough); after
//! that, however the call ends (the far end hanging up included) the incident is taken, not
//! escalated.

use crate::call::{BRIEFING, BRIEFING_DETAILS, CallRecord, EventKind};
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

/// The facts `rec` establishes, in the order they first happened. Only an answered call can
/// establish any.
pub fn reached_in(rec: &CallRecord) -> Vec<Reached> {
    let mut out = Vec::new();
    if rec.stages.answered.is_none() {
        return out;
    }
    let mut took_over = false;
    let mut person = false;
    let mut add = |r: Reached| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for e in &rec.events {
        match &e.kind {
            EventKind::OperatorTookOver { .. } => took_over = true,
            EventKind::HumanDetected { .. } => person = true,
            // The details (on the vendor's 2) come after the briefing's own words.
            EventKind::PlaybackFinished { source }
                if (source == BRIEFING || source == BRIEFING_DETAILS) && !took_over =>
            {
                // The stronger fact first: a ladder counting both names the person.
                if person {
                    add(Reached::PersonBriefed);
                }
                add(Reached::BriefingPlayed);
            }
            EventKind::OperatorJoined {
                listen_only: false, ..
            } => add(Reached::OperatorJoined),
            EventKind::MenuDone => add(Reached::MenuCompleted),
            _ => {}
        }
    }
    out
}
