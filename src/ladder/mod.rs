//! The escalation ladder of one incident as a pure, time-injected state machine (like
//! `crate::call`): try the dialplan's contacts in order; busy, no answer, rejected, failed or
//! an SLA miss moves to the next contact at once (after the contact's own retries); a contact
//! outside its hours is skipped with a reason; an answered call whose menu and briefing
//! completed stops the ladder. Exhausted → the fallback (a P0 ticket).

mod machine;
#[cfg(test)]
mod tests;

pub use machine::{CallOutcome, Input, Ladder, LadderEnd, Output, Rung};
