//! What a vendor hears on the callback line once hotline has answered (issue 11), as a pure,
//! time-injected state machine beside the inbound call core: the short line, the case-number
//! prompt when the caller's number did not decide the incident, the operators rung, and the
//! message after the beep when nobody joins in time.
//!
//! ```text
//! answered -> Greeting --(no case asked)--> Ringing --operator joined--> Bridged
//!                 \--(case asked)--> CasePrompt -> Digits --# / timeout--> Ringing
//! Ringing --ring_for--> NoAnswer -> Beep -> Message --message_max--> hang up
//! ```
//! The driver plays the named prompts and feeds back `playback_finished`, the caller's DTMF
//! and an operator's join; it never decides anything itself.

use super::callback::{CallerMatch, MatchedBy, OpenIncident, match_case};
use crate::call::EventKind;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// "Example Corp incident line, connecting you to the on-call engineer."
pub const GREETING: &str = "callback_greeting";
/// "Please enter your case number, then hash."
pub const CASE_PROMPT: &str = "callback_case_prompt";
/// "Nobody could take your call. Please leave a message after the tone."
pub const NO_ANSWER: &str = "callback_no_answer";
/// The tone before the message.
pub const BEEP: &str = "callback_beep";

/// Most digits a case number may have (more are ignored).
const MAX_DIGITS: usize = 32;

/// What the script needs, decided before the call is answered.
#[derive(Clone, Debug)]
pub struct ScriptParams {
    /// The caller's number already decided it (`match_caller`): no prompt.
    pub first: CallerMatch,
    /// Open incidents, for the digits keyed in.
    pub open: Vec<OpenIncident>,
    pub ring_for: Duration,
    pub digits_within: Duration,
    pub message_max: Duration,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptOut {
    /// Play the prompt with this name (one of the constants above).
    Play(&'static str),
    StopPlayback,
    /// Put this on the call's timeline.
    Event(EventKind),
    /// Hang up with this reason.
    Hangup(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// Not answered yet.
    Waiting,
    Greeting,
    CasePrompt,
    Digits(String),
    Ringing,
    Bridged,
    NoAnswer,
    Beep,
    Message,
    Done,
}

/// The callback script of one call. See the module docs.
#[derive(Debug)]
pub struct CallbackScript {
    p: ScriptParams,
    stage: Stage,
    /// The one deadline of the current stage (digits, ringing, message).
    deadline: Option<Instant>,
    matched: Option<(String, MatchedBy)>,
    out: VecDeque<ScriptOut>,
}

impl CallbackScript {
    pub fn new(p: ScriptParams) -> Self {
        let matched = match &p.first {
            CallerMatch::Matched { incident_id, by } => Some((incident_id.clone(), by.clone())),
            _ => None,
        };
        // On the timeline from the start: a call cancelled before the answer is still the
        // incident's.
        let out = matched
            .iter()
            .map(|(incident_id, by)| {
                ScriptOut::Event(EventKind::CallbackMatched {
                    incident_id: incident_id.clone(),
                    by: by.describe(),
                })
            })
            .collect();
        Self {
            p,
            stage: Stage::Waiting,
            deadline: None,
            matched,
            out,
        }
    }

    /// The incident the call is tied to, once it is.
    pub fn matched(&self) -> Option<&(String, MatchedBy)> {
        self.matched.as_ref()
    }

    pub fn poll_output(&mut self) -> Option<ScriptOut> {
        self.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// hotline answered: the short line plays.
    pub fn answered(&mut self, _now: Instant) {
        if self.stage != Stage::Waiting {
            return;
        }
        self.out.push_back(ScriptOut::Play(GREETING));
        self.stage = Stage::Greeting;
    }

    /// The call is over: nothing more happens.
    pub fn ended(&mut self) {
        self.stage = Stage::Done;
        self.deadline = None;
    }

    pub fn playback_finished(&mut self, now: Instant) {
        match self.stage {
            Stage::Greeting if matches!(self.p.first, CallerMatch::AskCaseNumber { .. }) => {
                self.out
                    .push_back(ScriptOut::Event(EventKind::CaseNumberAsked));
                self.out.push_back(ScriptOut::Play(CASE_PROMPT));
                self.stage = Stage::CasePrompt;
            }
            Stage::Greeting => {
                if self.matched.is_none() {
                    self.out
                        .push_back(ScriptOut::Event(EventKind::CallbackUnmatched));
                }
                self.ring(now);
            }
            Stage::CasePrompt => {
                self.stage = Stage::Digits(String::new());
                self.deadline = Some(now + self.p.digits_within);
            }
            Stage::NoAnswer => {
                self.out.push_back(ScriptOut::Play(BEEP));
                self.stage = Stage::Beep;
            }
            Stage::Beep => {
                let max_ms = self.p.message_max.as_millis() as u64;
                self.out
                    .push_back(ScriptOut::Event(EventKind::MessageStarted { max_ms }));
                self.stage = Stage::Message;
                self.deadline = Some(now + self.p.message_max);
            }
            _ => {}
        }
    }

    /// The caller pressed `digit` (RFC 4733).
    pub fn digit(&mut self, now: Instant, digit: char) {
        if self.stage == Stage::CasePrompt {
            // Keying over the prompt is fine: it stops.
            self.out.push_back(ScriptOut::StopPlayback);
            self.stage = Stage::Digits(String::new());
        }
        let Stage::Digits(keyed) = &mut self.stage else {
            return;
        };
        if digit == '#' {
            let keyed = std::mem::take(keyed);
            self.digits_done(now, keyed);
            return;
        }
        if digit.is_ascii_digit() && keyed.len() < MAX_DIGITS {
            keyed.push(digit);
        }
        self.deadline = Some(now + self.p.digits_within);
    }

    /// An operator joined the call (browser or phone leg): they talk, the script is done.
    pub fn operator_joined(&mut self) {
        match self.stage {
            Stage::Waiting | Stage::Done | Stage::Bridged => {}
            Stage::Message => {
                self.stage = Stage::Bridged;
                self.deadline = None;
            }
            _ => {
                self.out.push_back(ScriptOut::StopPlayback);
                self.stage = Stage::Bridged;
                self.deadline = None;
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|d| d > now) {
            return;
        }
        self.deadline = None;
        match &mut self.stage {
            Stage::Digits(keyed) => {
                let keyed = std::mem::take(keyed);
                self.digits_done(now, keyed);
            }
            Stage::Ringing => {
                self.out
                    .push_back(ScriptOut::Event(EventKind::OperatorsNoAnswer));
                self.out.push_back(ScriptOut::Play(NO_ANSWER));
                self.stage = Stage::NoAnswer;
            }
            Stage::Message => {
                self.stage = Stage::Done;
                self.out
                    .push_back(ScriptOut::Hangup("message complete".into()));
            }
            _ => {}
        }
    }

    fn digits_done(&mut self, now: Instant, digits: String) {
        self.out
            .push_back(ScriptOut::Event(EventKind::CaseNumberKeyed {
                digits: digits.clone(),
            }));
        let vendor = match &self.p.first {
            CallerMatch::AskCaseNumber { vendor } => vendor.clone(),
            _ => None,
        };
        match match_case(&digits, vendor.as_deref(), &self.p.open) {
            CallerMatch::Matched { incident_id, by } => {
                self.out
                    .push_back(ScriptOut::Event(EventKind::CallbackMatched {
                        incident_id: incident_id.clone(),
                        by: by.describe(),
                    }));
                self.matched = Some((incident_id, by));
            }
            _ => self
                .out
                .push_back(ScriptOut::Event(EventKind::CallbackUnmatched)),
        }
        self.ring(now);
    }

    fn ring(&mut self, now: Instant) {
        let within_ms = self.p.ring_for.as_millis() as u64;
        self.out
            .push_back(ScriptOut::Event(EventKind::OperatorsRung { within_ms }));
        self.stage = Stage::Ringing;
        self.deadline = Some(now + self.p.ring_for);
    }
}

#[cfg(test)]
#[path = "callback_script_tests.rs"]
mod tests;
