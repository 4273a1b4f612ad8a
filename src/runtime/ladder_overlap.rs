//! Drives the pure `ladder::Overlap` for a dialplan with `strategy = "overlap"`: several
//! calls may ring at once, each to its own `ring_timeout`. A call counts as answered once it
//! is open on the operator bridge (the call task opens it at the 200 OK); the losers are hung
//! up (CANCEL while ringing, BYE if they answered too). A graceful stop hangs every call up
//! at once; the next start resumes after the stored steps.

use super::briefing_source::BriefingAudio;
use super::call_watch;
use super::failover::Route;
use super::ladder_calls::{Live, finish_call, not_placed, notify, place};
use super::ladder_end::{ladder_finished, resume_at};
use super::ladder_unsaved::Unsaved;
use super::ladder_wait::{Waited, call_room};
use super::service::{LadderCmd, Service};
use crate::call::{CallRecord, Input, Outcome, Side};
use crate::dialplan::{Dialplan, MenuStep, MenuVars};
use crate::incident::Incident;
use crate::ladder::{CallOutcome, LOST_RACE, Overlap, OverlapInput, OverlapOutput, Rung};
use crate::store::{IncidentId, NewStep, StepEnd};
use chrono::Utc;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// The ladder's reason when a graceful stop ends it.
const STOPPING: &str = "hotline stopped; the ladder resumes on the next start";

/// One overlap ladder run.
pub(super) struct Run<'a> {
    pub svc: &'a Service,
    pub id: &'a IncidentId,
    pub incident: &'a Incident,
    pub plan: &'a Dialplan,
    pub vars: &'a MenuVars,
    pub briefing: Option<BriefingAudio>,
}

struct Ringing {
    control: mpsc::Sender<Input>,
    step: u32,
    call_id: String,
    answered: bool,
    /// The listener detected a person on it (reported once).
    person: bool,
    /// Its contact and trunk, and the trunks left to fail over to.
    route: Route,
}

/// A finished call task's news: the ladder's call number and its record.
type Done = (u32, Result<CallRecord, tokio::task::JoinError>);

impl Run<'_> {
    pub async fn drive(self, mut cmds: mpsc::Receiver<LadderCmd>, resumed: bool) {
        let (svc, id, plan) = (self.svc, self.id, self.plan);
        let inner = &svc.inner;
        let store = &inner.store;
        let cfg = svc.config();
        let slas = plan
            .contacts
            .iter()
            .map(|c| c.answer_within_or(cfg.sla.answer_within))
            .collect();
        // Contacts whose menu holds for a person are judged on time to a human.
        let human = plan
            .contacts
            .iter()
            .map(|c| c.menu.iter().any(|s| matches!(s, MenuStep::WaitHuman(_))))
            .collect();
        let mut ladder = Overlap::new(Rung::from_dialplan(plan), slas)
            .stop_when(&cfg.ladder.reached)
            .judged_on_human(human, cfg.ladder.human_sla_miss)
            .wait_for_open(cfg.ladder.wait_for_open);
        if resumed {
            let at = resume_at(svc, id, plan).await;
            ladder.start_at(Utc::now(), at.rung);
        } else {
            ladder.start(Utc::now());
        }
        let (done_tx, mut done_rx) = mpsc::channel::<Done>(8);
        let mut calls: HashMap<u32, Ringing> = HashMap::new();
        let mut shutdown = false;
        // A stop reached the ladder: no trunk failover after it.
        let mut stopped = false;
        let mut cmds_open = true;
        let (mut failed_calls, mut ours) = (0u32, 0u32);
        // The on-call phones were rung (at the first person).
        let mut rung = false;
        loop {
            while let Some(out) = ladder.poll_output() {
                match out {
                    OverlapOutput::Dial { call, contact, .. } => {
                        let route = Route::first(svc, plan, &contact, 1);
                        match self.dial(call, route, &done_tx, &mut calls).await {
                            None => ladder.handle_input(Utc::now(), OverlapInput::Placed { call }),
                            Some(outcome) => ladder
                                .handle_input(Utc::now(), OverlapInput::Ended { call, outcome }),
                        }
                    }
                    OverlapOutput::Skipped { contact, reason } => {
                        let step = NewStep {
                            contact: contact.clone(),
                            attempt: 1,
                            started_at: Utc::now(),
                            call_id: None,
                        };
                        if let Ok(seq) = store.append_step(id, step).await {
                            let end = StepEnd {
                                outcome: None,
                                reason: format!("skipped: {reason}"),
                                ended_at: Utc::now(),
                                call_id: None,
                            };
                            let _ = store.finish_step(id, seq, end).await;
                        }
                        notify(
                            svc,
                            &format!("{}: {contact} skipped ({reason})", plan.vendor),
                        )
                        .await;
                    }
                    OverlapOutput::WaitingForOpen { contact, until } => {
                        let live = serde_json::json!({ "state": "waiting_for_open",
                            "contact": contact, "until": until });
                        inner.events.publish(&id.to_string(), "step", live);
                        let at = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                        notify(
                            svc,
                            &format!(
                                "{}: every contact left is outside its hours; {contact} opens at {at}: calling then",
                                plan.vendor
                            ),
                        )
                        .await;
                    }
                    OverlapOutput::Failed {
                        contact, outcome, ..
                    } => {
                        failed_calls += 1;
                        let whose = if outcome.side == Side::Gateway {
                            ours += 1;
                            "; our side, not the vendor's"
                        } else {
                            ""
                        };
                        notify(
                            svc,
                            &format!(
                                "{}: {contact} {:?} ({}{whose})",
                                plan.vendor, outcome.result, outcome.reason
                            ),
                        )
                        .await;
                    }
                    OverlapOutput::Cancel { call, reason } => {
                        if let Some(c) = calls.get(&call) {
                            let hang_up = reason == LOST_RACE
                                || shutdown
                                || inner.cfg().ladder.hangup_on_resolve;
                            let input = if hang_up {
                                Input::Hangup(reason)
                            } else {
                                Input::CancelIfRinging(reason)
                            };
                            let _ = c.control.send(input).await;
                        }
                    }
                    OverlapOutput::Finished(end) => {
                        let failures = (ours, failed_calls);
                        ladder_finished(svc, id, self.incident, plan, &end, shutdown, failures)
                            .await;
                    }
                }
            }
            if ladder.is_done() {
                break;
            }
            let escalate = ladder.poll_timeout();
            let wait = escalate
                .and_then(|t| (t - Utc::now()).to_std().ok())
                .unwrap_or(Duration::ZERO);
            // Polled until each call has answered and had its person.
            let watching = calls.values().any(|c| !c.answered || !c.person);
            tokio::select! {
                Some((call, rec)) = done_rx.recv() => {
                    if let Some(c) = calls.remove(&call) {
                        let (outcome, next) =
                            finish_call(svc, id, plan, c.step, rec, &c.route).await;
                        // The trunk failed: the same contact on the next trunk, as the same
                        // call of the ladder (it hears of the end only if that fails too).
                        let outcome = match next {
                            Some(route) if !shutdown && !stopped => {
                                self.dial(call, route, &done_tx, &mut calls).await
                            }
                            _ => Some(outcome),
                        };
                        if let Some(outcome) = outcome {
                            ladder.handle_input(Utc::now(), OverlapInput::Ended { call, outcome });
                        }
                    }
                }
                cmd = cmds.recv(), if cmds_open => match cmd {
                    Some(LadderCmd::Stop(reason)) => {
                        stopped = true;
                        ladder.handle_input(Utc::now(), OverlapInput::Stop(reason));
                    }
                    Some(LadderCmd::Drain { .. }) | None => {
                        cmds_open = cmd.is_some();
                        if !shutdown {
                            shutdown = true;
                            ladder.handle_input(Utc::now(), OverlapInput::Stop(STOPPING.into()));
                        }
                    }
                },
                _ = tokio::time::sleep(call_watch::POLL), if watching => {
                    for (call, c) in calls.iter_mut() {
                        let Some(news) = call_watch::watch(&inner.bridge, &c.call_id) else {
                            continue;
                        };
                        if !c.answered {
                            c.answered = true;
                            ladder.handle_input(Utc::now(), OverlapInput::Answered { call: *call });
                        }
                        if news.person && !c.person {
                            c.person = true;
                            // On-call phones go to the first person only (the winner).
                            if !rung {
                                rung = true;
                                call_watch::ring_on_human(svc, &c.call_id);
                            }
                            ladder.handle_input(Utc::now(), OverlapInput::Person { call: *call });
                        }
                    }
                }
                _ = tokio::time::sleep(wait), if escalate.is_some() => {
                    ladder.handle_timeout(Utc::now());
                }
            }
        }
    }

    /// Places the ladder's call `call` on `route` (room first: waits in order; a stop while
    /// it waits takes effect once it has room). Placed: it rings in `calls` and None comes
    /// back; else the outcome the ladder is told.
    async fn dial(
        &self,
        call: u32,
        route: Route,
        done_tx: &mpsc::Sender<Done>,
        calls: &mut HashMap<u32, Ringing>,
    ) -> Option<CallOutcome> {
        let (svc, id, plan) = (self.svc, self.id, self.plan);
        let contact = route.contact.clone();
        let room = call_room(svc, id, plan, self.incident, &route, None).await;
        let placed = match room {
            Waited::Room(slot, waited) => {
                let briefing = self.briefing.clone();
                place(
                    svc,
                    id,
                    plan,
                    route,
                    self.vars,
                    briefing,
                    false,
                    (slot, waited),
                    // Its state and briefing were stored before it began.
                    &mut Unsaved::default(),
                )
                .await
            }
            Waited::Cmd(_) => Err("no room for the call".to_string()),
        };
        match placed {
            Ok(Live {
                task,
                control,
                step,
                call_id,
                slot,
                route,
            }) => {
                let tx = done_tx.clone();
                tokio::spawn(async move {
                    let rec = task.await;
                    drop(slot);
                    let _ = tx.send((call, rec)).await;
                });
                let r = Ringing {
                    control,
                    step,
                    call_id,
                    answered: false,
                    person: false,
                    route,
                };
                calls.insert(call, r);
                None
            }
            Err(why) => {
                let reason = format!("call could not be set up: {why}");
                not_placed(&svc.inner.store, id, &contact, 1, &reason).await;
                Some(CallOutcome {
                    call_id: String::new(),
                    result: Outcome::Failed,
                    reached: Vec::new(),
                    side: Side::Gateway,
                    reason,
                })
            }
        }
    }
}
