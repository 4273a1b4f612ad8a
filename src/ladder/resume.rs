//! Where a ladder stopped by a crash or a graceful stop picks up at the next start: worked out
//! from its stored steps, never from contact 1 again. The contact whose call the stop cut short
//! is called again or passed over per `[ladder] after_restart`.

use super::Rung;
use crate::call::Outcome;
use crate::config::AfterRestart;
use chrono::{DateTime, Utc};

/// One stored step, as much as resuming needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastStep {
    pub contact: String,
    pub attempt: u32,
    /// `None`: the contact was skipped (or the step never closed).
    pub outcome: Option<Outcome>,
    /// A stop cut this step's call short.
    pub interrupted: bool,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Where to resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub rung: usize,
    pub attempt: u32,
    /// A retry that was waiting (`retry_after`) when the ladder stopped.
    pub not_before: Option<DateTime<Utc>>,
    /// The contact whose call was cut short, if the last step was one.
    pub cut: Option<String>,
    /// In words, for the log and the notify message.
    pub why: String,
}

/// The next step after `steps` (oldest first) on `rungs`. A contact no longer in the dialplan
/// restarts the ladder at its first contact.
pub fn resume_position(rungs: &[Rung], steps: &[PastStep], policy: AfterRestart) -> Position {
    let start = |why: &str| Position {
        rung: 0,
        attempt: 1,
        not_before: None,
        cut: None,
        why: why.to_string(),
    };
    let Some(last) = steps.last() else {
        return start("no step was taken yet");
    };
    let Some(rung) = rungs.iter().position(|r| r.contact == last.contact) else {
        return start("its last contact is no longer in the dialplan: from the first contact");
    };
    let next = |why: String| Position {
        rung: rung + 1,
        attempt: 1,
        not_before: None,
        cut: None,
        why,
    };
    let contact = &last.contact;
    let cut = last.interrupted || (last.outcome.is_some() && last.ended_at.is_none());
    if cut {
        return match policy {
            AfterRestart::Redial => Position {
                rung,
                attempt: last.attempt + 1,
                not_before: None,
                cut: Some(contact.clone()),
                why: format!("calling {contact} again: its call was cut short by the stop"),
            },
            AfterRestart::Next => Position {
                cut: Some(contact.clone()),
                ..next(format!(
                    "{contact}'s call was cut short by the stop: on to the next contact"
                ))
            },
        };
    }
    if last.outcome.is_none() {
        return next(format!("{contact} was skipped: on to the next contact"));
    }
    let r = &rungs[rung];
    if last.attempt <= r.retries {
        let not_before = last
            .ended_at
            .map(|t| t + chrono::Duration::from_std(r.retry_after).unwrap_or_default());
        return Position {
            rung,
            attempt: last.attempt + 1,
            not_before,
            cut: None,
            why: format!("retrying {contact} (attempt {})", last.attempt + 1),
        };
    }
    next(format!("{contact} was tried: on to the next contact"))
}
