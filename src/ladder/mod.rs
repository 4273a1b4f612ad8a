//! The escalation ladder of one incident as a pure, time-injected state machine (like
//! `crate::call`): try the dialplan's contacts in order; busy, no answer, rejected, failed or
//! an SLA miss moves to the next contact at once (after the contact's own retries; a miss on
//! time to a person, `human.rs`, hangs the holding call up and skips them); a contact
//! outside its hours is skipped with a reason; a call that reached the vendor (`reached.rs`:
//! the briefing played once in full, an operator joined, the menu completed; which of them
//! count is `[ladder] reached`) stops the ladder, however it ends afterwards. Exhausted → the fallback (a P0 ticket). A graceful stop drains
//! it (no new step; the call in progress may still take the incident); the next start resumes
//! it where it stopped (`resume.rs`). Call storms: `grouping.rs` names which incidents share
//! one call (same line and asset or site), `admission.rs` queues ladders and calls under caps
//! (per line, per delivery, per dialplan, a dialplan's RTP share), critical first.
//! Vendor callbacks: `callback.rs` screens inbound calls, matches them to an incident and
//! judges the response clock.

mod admission;
mod callback;
pub mod callback_script;
mod grouping;
mod human;
#[cfg(test)]
mod human_tests;
mod machine;
mod overlap;
mod reached;
mod resume;
#[cfg(test)]
mod tests;
pub mod trunks;

pub use admission::{Admission, Admit, Grant, Limit, Priority};
pub use callback::{
    CallerMatch, Credentials, MatchedBy, OpenIncident, Refusal, ResponseVerdict, Screen,
    match_caller, match_case, response_verdict, screen,
};
pub use grouping::{asset_of, group_key};
pub use human::{HumanSlaMiss, human_sla_reason};
pub use machine::{CallOutcome, Input, Ladder, LadderEnd, Output, Rung};
pub use overlap::{LOST_RACE, Overlap, OverlapInput, OverlapOutput};
pub use reached::{Reached, reached_in};
pub use resume::{PastStep, Position, resume_position};
