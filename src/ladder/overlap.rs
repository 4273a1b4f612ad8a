//! The `overlap` strategy as a pure, time-injected state machine (beside the sequential
//! [`super::Ladder`]): at a contact's SLA miss (`answer_within`) the next contact is called
//! while the first keeps ringing until its own `ring_timeout` (the edge dials it without the
//! SLA cap); the first to answer wins and every other call is cancelled. A call that fails
//! before its SLA moves on at once, as in the sequential ladder; an answered call that did not
//! reach the vendor moves on too. The ladder is exhausted only when no call rings any more and
//! no contact is left. `retries` do not apply here: the ladder never calls back a contact it
//! has moved past.
//!
//! A contact judged on time to a person (its menu has `wait = "human"`) under
//! `[ladder] human_sla_miss = "escalate"`: its 200 OK wins nothing (a vendor answers at once
//! with a menu and hold music); its SLA runs on while it holds, the next contact starts at the
//! miss, and the first call with a person on the line wins; the others are hung up.
//!
//! Driven by `runtime::ladder_overlap` for a dialplan with `strategy = "overlap"`.

use super::{CallOutcome, HumanSlaMiss, LadderEnd, Reached, Rung};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::time::Duration;

/// Inputs, each naming the call it is about (the id from [`OverlapOutput::Dial`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlapInput {
    /// This call is placed (its INVITE is leaving): its SLA counts from now, not from the
    /// `Dial` (setup and a wait for room on the line are ours, not the vendor's).
    Placed { call: u32 },
    /// A 2xx: this call was answered.
    Answered { call: u32 },
    /// The listener detected a person on this call (`human_detected`).
    Person { call: u32 },
    /// This call ended.
    Ended { call: u32, outcome: CallOutcome },
    /// The incident resolved (or an operator stopped the ladder): cancel every call.
    Stop(String),
}

/// Outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OverlapOutput {
    /// Place a call to this contact, ringing to its own `ring_timeout`.
    Dial {
        call: u32,
        rung: usize,
        contact: String,
    },
    /// A contact was not called.
    Skipped {
        contact: String,
        reason: String,
    },
    /// Nothing rings and every contact left is closed, but this one opens within `[ladder]
    /// wait_for_open`: the ladder calls it then.
    WaitingForOpen {
        contact: String,
        until: DateTime<Utc>,
    },
    /// A call ended without taking the incident.
    Failed {
        call: u32,
        contact: String,
        outcome: CallOutcome,
    },
    /// Cancel (or hang up) this call.
    Cancel {
        call: u32,
        reason: String,
    },
    Finished(LadderEnd),
}

#[derive(Debug)]
struct Active {
    call: u32,
    rung: usize,
    /// When the next contact starts if this one is still unanswered (the newest call only).
    escalate_at: Option<DateTime<Utc>>,
    /// Wins only with a person on the line, not at its 200 OK.
    wants_person: bool,
}

/// One incident's ladder under the overlap strategy.
#[derive(Debug)]
pub struct Overlap {
    rungs: Vec<Rung>,
    /// The SLA of each rung (`answer_within`, the contact's or the default).
    slas: Vec<Duration>,
    /// Rungs judged on time to a person that win only with one (see the module docs).
    wants_person: Vec<bool>,
    stop_when: Vec<Reached>,
    next_rung: usize,
    next_call: u32,
    calls: Vec<Active>,
    winner: Option<u32>,
    stopping: Option<String>,
    done: bool,
    out: VecDeque<OverlapOutput>,
    /// How long to wait for a closed contact to open before the ladder is exhausted.
    wait_for_open: Duration,
    /// Rungs skipped for their hours, not yet waited for.
    closed: Vec<usize>,
    /// Waiting for this rung to open at this time.
    waiting: Option<(usize, DateTime<Utc>)>,
}

/// Why a losing call is cancelled.
pub const LOST_RACE: &str = "another contact answered first";

impl Overlap {
    /// A ladder over `rungs` with their SLAs (`slas[i]` for `rungs[i]`).
    pub fn new(rungs: Vec<Rung>, slas: Vec<Duration>) -> Self {
        Self {
            rungs,
            slas,
            wants_person: Vec::new(),
            stop_when: Reached::DEFAULT.to_vec(),
            next_rung: 0,
            next_call: 1,
            calls: Vec::new(),
            winner: None,
            stopping: None,
            done: false,
            out: VecDeque::new(),
            wait_for_open: Duration::ZERO,
            closed: Vec::new(),
            waiting: None,
        }
    }

    /// Wait up to `d` for a contact skipped outside its hours to open (`[ladder]
    /// wait_for_open`) when nothing else is left, as the sequential ladder does.
    pub fn wait_for_open(mut self, d: Duration) -> Self {
        self.wait_for_open = d;
        self
    }

    /// Which facts stop the ladder (`[ladder] reached`).
    pub fn stop_when(mut self, reached: &[Reached]) -> Self {
        self.stop_when = reached.to_vec();
        self
    }

    /// Which rungs are judged on time to a person (`human[i]` for `rungs[i]`), and what a
    /// miss does: under [`HumanSlaMiss::Escalate`] those calls win only with a person on the
    /// line; under `Keep` they win at the 200 OK like the others.
    pub fn judged_on_human(mut self, human: Vec<bool>, policy: HumanSlaMiss) -> Self {
        self.wants_person = match policy {
            HumanSlaMiss::Escalate => human,
            HumanSlaMiss::Keep => Vec::new(),
        };
        self
    }

    /// Starts at the first contact.
    pub fn start(&mut self, now: DateTime<Utc>) {
        if self.next_call == 1 && !self.done {
            self.dial_next(now);
        }
    }

    /// Starts at `rung` (a ladder resumed after a stop: after its stored steps).
    pub fn start_at(&mut self, now: DateTime<Utc>, rung: usize) {
        if self.next_call == 1 && !self.done {
            self.next_rung = rung;
            self.dial_next(now);
        }
    }

    pub fn poll_output(&mut self) -> Option<OverlapOutput> {
        self.out.pop_front()
    }

    /// When to call [`Overlap::handle_timeout`]: the newest call's SLA, or the opening of
    /// a contact the ladder waits for.
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        if self.done || self.winner.is_some() || self.stopping.is_some() {
            return None;
        }
        let escalate = self.calls.iter().filter_map(|a| a.escalate_at).min();
        let opens = self.waiting.map(|(_, until)| until);
        escalate.into_iter().chain(opens).min()
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The newest call missed its SLA: the next contact starts, the call keeps ringing (or
    /// holding, for a call that waits for a person).
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        if self.poll_timeout().is_none_or(|t| now < t) {
            return;
        }
        if let Some((rung, until)) = self.waiting
            && now >= until
        {
            // The contact opened: call it, and go on down from there.
            self.waiting = None;
            self.next_rung = rung;
            return self.dial_next(now);
        }
        for a in &mut self.calls {
            a.escalate_at = None;
        }
        self.dial_next(now);
    }

    pub fn handle_input(&mut self, now: DateTime<Utc>, input: OverlapInput) {
        if self.done {
            return;
        }
        match input {
            OverlapInput::Placed { call } => {
                let slas = &self.slas;
                for a in self.calls.iter_mut().filter(|a| a.call == call) {
                    if a.escalate_at.is_some() {
                        let sla = slas.get(a.rung).copied().unwrap_or_default();
                        a.escalate_at =
                            Some(now + chrono::Duration::from_std(sla).unwrap_or_default());
                    }
                }
            }
            OverlapInput::Answered { call } => {
                let holding = self.calls.iter().any(|a| a.call == call && a.wants_person);
                if !holding {
                    self.answered(call)
                }
            }
            OverlapInput::Person { call } => {
                let waits = self.calls.iter().any(|a| a.call == call && a.wants_person);
                if waits {
                    self.answered(call)
                }
            }
            OverlapInput::Ended { call, outcome } => self.ended(now, call, outcome),
            OverlapInput::Stop(reason) => {
                if self.stopping.is_some() {
                    return;
                }
                for a in &self.calls {
                    self.out.push_back(OverlapOutput::Cancel {
                        call: a.call,
                        reason: reason.clone(),
                    });
                }
                if self.calls.is_empty() {
                    self.finish(LadderEnd::Stopped { reason });
                } else {
                    self.stopping = Some(reason);
                }
            }
        }
    }

    fn answered(&mut self, call: u32) {
        if self.winner.is_some() || self.stopping.is_some() {
            return;
        }
        if !self.calls.iter().any(|a| a.call == call) {
            return;
        }
        self.winner = Some(call);
        for a in &mut self.calls {
            a.escalate_at = None;
            if a.call != call {
                self.out.push_back(OverlapOutput::Cancel {
                    call: a.call,
                    reason: LOST_RACE.into(),
                });
            }
        }
    }

    fn ended(&mut self, now: DateTime<Utc>, call: u32, outcome: CallOutcome) {
        let Some(i) = self.calls.iter().position(|a| a.call == call) else {
            return; // a stray report
        };
        let a = self.calls.remove(i);
        let contact = self.rungs[a.rung].contact.clone();
        if let Some(by) = outcome
            .reached
            .iter()
            .copied()
            .find(|r| self.stop_when.contains(r))
        {
            // The others were cancelled when this call answered (or the stop came), unless
            // no answer was reported.
            if self.winner != Some(call) && self.stopping.is_none() {
                for other in &self.calls {
                    self.out.push_back(OverlapOutput::Cancel {
                        call: other.call,
                        reason: LOST_RACE.into(),
                    });
                }
            }
            self.calls.clear();
            return self.finish(LadderEnd::Taken {
                contact,
                call_id: outcome.call_id,
                by,
            });
        }
        self.out.push_back(OverlapOutput::Failed {
            call,
            contact,
            outcome,
        });
        if let Some(reason) = &self.stopping {
            if self.calls.is_empty() {
                let reason = reason.clone();
                self.finish(LadderEnd::Stopped { reason });
            }
            return;
        }
        let was_winner = self.winner == Some(call);
        if was_winner {
            // Answered, but the vendor was not reached: on to the next contact.
            self.winner = None;
        }
        if self.winner.is_some() {
            return; // a loser's CANCEL completed
        }
        if was_winner || a.escalate_at.is_some() || self.calls.is_empty() {
            // The newest call failed before its SLA (or nothing rings any more): move on now.
            for other in &mut self.calls {
                other.escalate_at = None;
            }
            self.dial_next(now);
        }
    }

    /// Dials the next open contact; exhausted when none is left and nothing rings.
    fn dial_next(&mut self, now: DateTime<Utc>) {
        while let Some(r) = self.rungs.get(self.next_rung) {
            let rung = self.next_rung;
            self.next_rung += 1;
            if !r.hours.is_open(now) {
                self.out.push_back(OverlapOutput::Skipped {
                    contact: r.contact.clone(),
                    reason: "outside its hours".into(),
                });
                if !self.closed.contains(&rung) {
                    self.closed.push(rung);
                }
                continue;
            }
            let call = self.next_call;
            self.next_call += 1;
            let sla = self.slas.get(rung).copied().unwrap_or_default();
            self.calls.push(Active {
                call,
                rung,
                escalate_at: Some(now + chrono::Duration::from_std(sla).unwrap_or_default()),
                wants_person: self.wants_person.get(rung).copied().unwrap_or(false),
            });
            self.out.push_back(OverlapOutput::Dial {
                call,
                rung,
                contact: r.contact.clone(),
            });
            return;
        }
        if !self.calls.is_empty() {
            return;
        }
        // Nothing rings and nobody is left: wait for the first closed contact that opens soon.
        let opening =
            super::machine::first_opening(&self.rungs, &self.closed, now, self.wait_for_open);
        match opening {
            Some((until, rung)) => {
                self.closed.retain(|&i| i != rung);
                self.waiting = Some((rung, until));
                self.out.push_back(OverlapOutput::WaitingForOpen {
                    contact: self.rungs[rung].contact.clone(),
                    until,
                });
            }
            None => self.finish(LadderEnd::Exhausted),
        }
    }

    fn finish(&mut self, end: LadderEnd) {
        self.done = true;
        self.out.push_back(OverlapOutput::Finished(end));
    }
}
