//! See the module docs.

use super::{HumanSlaMiss, Reached};
use crate::call::{Outcome, Side};
use crate::dialplan::{Dialplan, Hours};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::VecDeque;
use std::time::Duration;

/// One contact on the ladder.
#[derive(Clone, Debug)]
pub struct Rung {
    pub contact: String,
    pub retries: u32,
    pub retry_after: Duration,
    pub hours: Hours,
}

impl Rung {
    /// The ladder of a dialplan: its contacts in order.
    pub fn from_dialplan(plan: &Dialplan) -> Vec<Rung> {
        plan.contacts
            .iter()
            .map(|c| Rung {
                contact: c.id.as_str().to_string(),
                retries: c.retries,
                retry_after: c.retry_after,
                hours: c.hours.clone(),
            })
            .collect()
    }
}

/// Of the `closed` rungs, the one that opens first within `within` of `now`, and when
/// (`[ladder] wait_for_open`, shared by both strategies).
pub(super) fn first_opening(
    rungs: &[Rung],
    closed: &[usize],
    now: DateTime<Utc>,
    within: Duration,
) -> Option<(DateTime<Utc>, usize)> {
    closed
        .iter()
        .filter_map(|&i| Some((rungs[i].hours.next_open(now, within)?, i)))
        .min()
}

/// How one call of the ladder ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    pub call_id: String,
    pub result: Outcome,
    /// What the call established about reaching the vendor (see [`super::reached_in`]).
    pub reached: Vec<Reached>,
    /// Whose doing the end was (for the words; the ladder moves on either way).
    pub side: Side,
    pub reason: String,
}

/// Inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The call started by the last `Dial` ended.
    CallEnded(CallOutcome),
    /// The call in progress is judged on time to a person and none was on the line within
    /// its SLA (`within`, from the INVITE): the core's `sla_missed`. With
    /// `[ladder] human_sla_miss = "escalate"` it is hung up and the next contact called.
    HumanSlaMissed { within: Duration },
    /// The incident resolved (or an operator stopped the ladder).
    Stop(String),
    /// hotline is stopping gracefully: take no new step; a call in progress goes on (the
    /// edge hangs it up when the drain time runs out), then the ladder ends `Stopped`, to be
    /// resumed by the next start.
    Drain(String),
}

/// How the ladder ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum LadderEnd {
    /// A person at the vendor has the briefing.
    Taken {
        contact: String,
        call_id: String,
        /// The fact that showed it.
        by: Reached,
    },
    /// Every contact tried or skipped: raise the fallback ticket.
    Exhausted,
    Stopped {
        reason: String,
    },
}

/// Outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Place a call to this contact (attempt counts from 1).
    Dial {
        rung: usize,
        contact: String,
        attempt: u32,
    },
    /// A contact was not called.
    Skipped {
        contact: String,
        reason: String,
    },
    /// Every contact left is closed, but this one opens within `[ladder] wait_for_open`:
    /// the ladder waits and calls it then, instead of ending exhausted.
    WaitingForOpen {
        contact: String,
        until: DateTime<Utc>,
    },
    /// A call ended without taking the incident; what happens next follows.
    Failed {
        contact: String,
        attempt: u32,
        outcome: CallOutcome,
    },
    /// Stop the call in progress (CANCEL if ringing; BYE if configured).
    CancelCall {
        reason: String,
    },
    /// Hang the call in progress up, answered or not (BYE, or CANCEL while ringing): it
    /// missed its SLA on time to a person and the ladder moves on.
    HangUp {
        reason: String,
    },
    Finished(LadderEnd),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Calling {
        rung: usize,
        attempt: u32,
        /// Hung up for an SLA miss on time to a person: when it ends, the next contact
        /// (the contact's retries do not apply: a retry would hold again).
        escalated: bool,
    },
    /// Waiting `retry_after` before the next attempt on the same contact.
    Waiting {
        rung: usize,
        attempt: u32,
        until: DateTime<Utc>,
    },
    /// Stop requested while a call is up: wait for it to end.
    Stopping {
        reason: String,
    },
    /// Draining while a call is up: it may still take the incident; no step after it.
    Draining {
        rung: usize,
        attempt: u32,
        reason: String,
    },
    Done,
}

/// One incident's ladder.
#[derive(Debug)]
pub struct Ladder {
    rungs: Vec<Rung>,
    state: State,
    out: VecDeque<Output>,
    /// Any of these in a call's outcome takes the incident.
    stop_when: Vec<Reached>,
    /// How long the ladder may wait for a closed contact to open before it is exhausted.
    wait_for_open: Duration,
    /// Contacts skipped for their hours in this run, and not yet waited for.
    closed: Vec<usize>,
    /// What an SLA miss on time to a person does (`[ladder] human_sla_miss`).
    on_human_miss: HumanSlaMiss,
}

impl Ladder {
    /// A ladder over `rungs`; nothing happens until [`Ladder::start`].
    pub fn new(rungs: Vec<Rung>) -> Self {
        Self {
            rungs,
            state: State::Idle,
            out: VecDeque::new(),
            stop_when: Reached::DEFAULT.to_vec(),
            wait_for_open: Duration::ZERO,
            closed: Vec::new(),
            on_human_miss: HumanSlaMiss::default(),
        }
    }

    /// Wait up to `d` for a contact skipped outside its hours to open (`[ladder]
    /// wait_for_open`) rather than ending exhausted; each contact is waited for once.
    pub fn wait_for_open(mut self, d: Duration) -> Self {
        self.wait_for_open = d;
        self
    }

    /// What an SLA miss on time to a person does (`[ladder] human_sla_miss`; default
    /// escalate).
    pub fn on_human_sla_miss(mut self, policy: HumanSlaMiss) -> Self {
        self.on_human_miss = policy;
        self
    }

    /// Which facts stop the ladder (`[ladder] reached`; default [`Reached::DEFAULT`]).
    pub fn stop_when(mut self, reached: &[Reached]) -> Self {
        self.stop_when = reached.to_vec();
        self
    }

    /// The first fact in `o` this ladder counts as reaching the vendor: the call took the
    /// incident, however it ended afterwards (a far-end hang-up included).
    fn took(&self, o: &CallOutcome) -> Option<Reached> {
        o.reached
            .iter()
            .copied()
            .find(|r| self.stop_when.contains(r))
    }

    /// Starts at the first contact.
    pub fn start(&mut self, now: DateTime<Utc>) {
        if self.state == State::Idle {
            self.try_rung(now, 0, 1);
        }
    }

    /// Starts where a stopped run left off (see [`super::resume_position`]): at `rung`,
    /// `attempt`, not before `not_before` (a retry that was waiting).
    pub fn resume(&mut self, now: DateTime<Utc>, at: &super::Position) {
        if self.state != State::Idle {
            return;
        }
        match at.not_before {
            Some(until) if until > now && at.rung < self.rungs.len() => {
                self.state = State::Waiting {
                    rung: at.rung,
                    attempt: at.attempt,
                    until,
                };
            }
            _ => self.try_rung(now, at.rung, at.attempt),
        }
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`Ladder::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        match self.state {
            State::Waiting { until, .. } => Some(until),
            _ => None,
        }
    }

    /// True once finished.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// A retry is due.
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        if let State::Waiting {
            rung,
            attempt,
            until,
        } = self.state
            && now >= until
        {
            self.try_rung(now, rung, attempt);
        }
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, now: DateTime<Utc>, input: Input) {
        match input {
            Input::CallEnded(o) => self.call_ended(now, o),
            Input::HumanSlaMissed { within } => {
                if let State::Calling {
                    escalated: escalated @ false,
                    ..
                } = &mut self.state
                    && self.on_human_miss == HumanSlaMiss::Escalate
                {
                    *escalated = true;
                    self.out.push_back(Output::HangUp {
                        reason: super::human_sla_reason(within),
                    });
                }
            }
            Input::Stop(reason) => match std::mem::replace(&mut self.state, State::Done) {
                State::Calling { .. } => {
                    self.out.push_back(Output::CancelCall {
                        reason: reason.clone(),
                    });
                    self.state = State::Stopping { reason };
                }
                State::Draining { .. } => {
                    self.out.push_back(Output::CancelCall {
                        reason: reason.clone(),
                    });
                    self.state = State::Stopping { reason };
                }
                State::Done => {}
                _ => self.finish(LadderEnd::Stopped { reason }),
            },
            Input::Drain(reason) => match std::mem::replace(&mut self.state, State::Done) {
                State::Calling { rung, attempt, .. } => {
                    self.state = State::Draining {
                        rung,
                        attempt,
                        reason,
                    }
                }
                s @ (State::Stopping { .. } | State::Draining { .. } | State::Done) => {
                    self.state = s
                }
                State::Idle | State::Waiting { .. } => self.finish(LadderEnd::Stopped { reason }),
            },
        }
    }

    fn call_ended(&mut self, now: DateTime<Utc>, o: CallOutcome) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Calling {
                rung,
                attempt,
                escalated,
            } => {
                let contact = self.rungs[rung].contact.clone();
                if let Some(by) = self.took(&o) {
                    return self.finish(LadderEnd::Taken {
                        contact,
                        call_id: o.call_id,
                        by,
                    });
                }
                self.out.push_back(Output::Failed {
                    contact,
                    attempt,
                    outcome: o,
                });
                let r = &self.rungs[rung];
                if escalated {
                    // Hung up for no person within the SLA: the next contact at once.
                    self.try_rung(now, rung + 1, 1);
                } else if attempt <= r.retries {
                    if r.retry_after.is_zero() {
                        self.try_rung(now, rung, attempt + 1);
                    } else {
                        let until =
                            now + chrono::Duration::from_std(r.retry_after).unwrap_or_default();
                        self.state = State::Waiting {
                            rung,
                            attempt: attempt + 1,
                            until,
                        };
                    }
                } else {
                    self.try_rung(now, rung + 1, 1);
                }
            }
            State::Stopping { reason } => self.finish(LadderEnd::Stopped { reason }),
            State::Draining {
                rung,
                attempt,
                reason,
            } => {
                let contact = self.rungs[rung].contact.clone();
                if let Some(by) = self.took(&o) {
                    return self.finish(LadderEnd::Taken {
                        contact,
                        call_id: o.call_id,
                        by,
                    });
                }
                self.out.push_back(Output::Failed {
                    contact,
                    attempt,
                    outcome: o,
                });
                self.finish(LadderEnd::Stopped { reason });
            }
            other => self.state = other, // a stray report: nothing was dialled
        }
    }

    fn try_rung(&mut self, now: DateTime<Utc>, mut rung: usize, attempt: u32) {
        let mut attempt = attempt;
        while let Some(r) = self.rungs.get(rung) {
            if r.hours.is_open(now) {
                self.out.push_back(Output::Dial {
                    rung,
                    contact: r.contact.clone(),
                    attempt,
                });
                self.state = State::Calling {
                    rung,
                    attempt,
                    escalated: false,
                };
                return;
            }
            self.out.push_back(Output::Skipped {
                contact: r.contact.clone(),
                reason: "outside its hours".into(),
            });
            if !self.closed.contains(&rung) {
                self.closed.push(rung);
            }
            rung += 1;
            attempt = 1;
        }
        // Nobody left to call now: wait for the first skipped contact that opens soon.
        let opening = first_opening(&self.rungs, &self.closed, now, self.wait_for_open);
        if let Some((until, rung)) = opening {
            self.closed.retain(|&i| i != rung);
            self.out.push_back(Output::WaitingForOpen {
                contact: self.rungs[rung].contact.clone(),
                until,
            });
            self.state = State::Waiting {
                rung,
                attempt: 1,
                until,
            };
            return;
        }
        self.finish(LadderEnd::Exhausted);
    }

    fn finish(&mut self, end: LadderEnd) {
        self.state = State::Done;
        self.out.push_back(Output::Finished(end));
    }
}
