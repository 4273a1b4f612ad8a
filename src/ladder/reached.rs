//! When a call has reached the vendor: the facts an answered call can establish, read from its
//! record. `[ladder] reached` names which of them stop the ladder (any one is enough); after
//! that, however the call ends (the far end hanging up included) the incident is taken, not
//! escalated.

use crate::call::{BRIEFING, BRIEFING_DETAILS, CallRecord, EventKind};
/// The facts themselves are config values (`[ladder] reached`).
pub use crate::config::Reached;

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
