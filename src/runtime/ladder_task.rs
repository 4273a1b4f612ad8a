//! One task drives one incident's ladder: it feeds the pure `ladder::Ladder`, places each call
//! it asks for, records every step in the store, and raises the fallback ticket.

use super::admission::Slot;
use super::call_watch::{self, CallNews};
use super::failover::Route;
use super::ladder_calls::{Live, finish_call, not_placed, notify, place};
use super::ladder_end::{DRAINING, fallback, ladder_finished, resume_at};
use super::ladder_unsaved::Unsaved;
use super::ladder_wait::{Waited, call_room, group_briefing, merge, wait_ladder_room};
use super::service::{LadderCmd, Service};
use crate::call::{Input, Outcome, Side};
use crate::dialplan::{Dialplan, MenuVars, PlanVars};
use crate::incident::Incident;
use crate::ladder::{self, CallOutcome, Ladder, Output, Rung};
use crate::store::{IncidentId, LadderState, NewStep, StepEnd};
use chrono::Utc;
use serde_json::json;
use tokio::sync::mpsc;

/// The hangup reason when the drain time runs out (the SIP Reason header and the timeline).
const DRAIN_OVER: &str = "hotline restarting: drain time over";

/// Placeholder values a menu can use, from the incident's contract, serial and asset tag
/// (the dialplan's `[vars]` where the alert has none), and why the others have none.
pub fn menu_vars(i: &Incident, plan: &PlanVars) -> MenuVars {
    MenuVars::new(
        i.asset.contract.as_deref(),
        i.asset.serial.as_deref(),
        i.asset.tag.as_deref(),
        plan,
    )
}

/// Runs the ladder of `id` until it ends; `plan` None means unrouted (straight to fallback).
/// `resumed`: a stop cut it short; it picks up after its stored steps.
pub async fn run_ladder(
    svc: Service,
    id: IncidentId,
    incident: Incident,
    plan: Option<String>,
    cmds: mpsc::Receiver<LadderCmd>,
    resumed: bool,
    slot: Option<Slot>,
) {
    use tracing::Instrument;
    // Plain strings in the fields: JSON logs carry `"dialplan":"dell-nyc"`, not a Debug form.
    let span = tracing::info_span!(
        "ladder",
        incident = %id,
        dialplan = plan.as_deref().unwrap_or("unrouted")
    );
    ladder(svc, id, incident, plan, cmds, resumed, slot)
        .instrument(span)
        .await
}

async fn ladder(
    svc: Service,
    id: IncidentId,
    incident: Incident,
    plan: Option<String>,
    mut cmds: mpsc::Receiver<LadderCmd>,
    resumed: bool,
    slot: Option<Slot>,
) {
    let inner = svc.inner.clone();
    let store = &inner.store;
    // The dialplans as they are now: a reload never changes a running ladder.
    let plans = inner.plans();
    let plan: Option<&Dialplan> = plan.as_deref().and_then(|p| plans.get(p));
    let Some(plan) = plan else {
        fallback(&svc, &id, &incident, None, "unrouted: no dialplan matches").await;
        let _ = store
            .set_ladder_state(&id, LadderState::Exhausted, Some("unrouted"))
            .await;
        return;
    };
    // `running` is stored with the first call's step (one transaction before its INVITE);
    // a ladder that queues for room, or one a stop cut short (`interrupted` would read as
    // settled), says so now.
    let mut unsaved = Unsaved::running();
    if resumed || slot.as_ref().is_some_and(|s| s.queued.is_some()) {
        unsaved.flush(store, &id).await;
    }
    // Room under the delivery's and the dialplan's ladder caps first (held to the end).
    let (_ladder_slot, mut carry) = match wait_ladder_room(&svc, &id, plan, slot, &mut cmds).await {
        Some(x) => x,
        None => return,
    };
    // Synthesis starts now, while the first call rings; a greeting covers a late briefing.
    let (mut version, audio, text) = group_briefing(&svc, &id, &incident, plan);
    let mut briefing = Some(audio);
    unsaved.briefing(text);
    let vars = menu_vars(&incident, &plan.vars);
    if plan.strategy == crate::dialplan::Strategy::Overlap {
        unsaved.flush(store, &id).await;
        let run = super::ladder_overlap::Run {
            svc: &svc,
            id: &id,
            incident: &incident,
            plan,
            vars: &vars,
            briefing,
        };
        return run.drive(cmds, resumed).await;
    }
    let mut ladder = Ladder::new(Rung::from_dialplan(plan))
        .stop_when(&svc.config().ladder.reached)
        .wait_for_open(svc.config().ladder.wait_for_open)
        .on_human_sla_miss(svc.config().ladder.human_sla_miss);
    if resumed {
        let at = resume_at(&svc, &id, plan).await;
        ladder.resume(Utc::now(), &at);
    } else {
        ladder.start(Utc::now());
    }
    let mut live: Option<Live> = None;
    // What the live call has told the ladder so far (a person, an SLA miss).
    let mut told = CallNews::default();
    let mut shutdown = false;
    // While draining: when the live call is hung up.
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut cut_step: Option<u32> = None;
    let mut cmds_open = true;
    // Failed steps, and how many of them failed on our side (for the ticket's words).
    let (mut failed_calls, mut ours) = (0u32, 0u32);
    // The live call's trunk failed and another is left: the same contact goes there at once,
    // before the ladder hears of the attempt's end.
    let mut failover: Option<Route> = None;
    // A stop reached the ladder: no failover after it.
    let mut stopped = false;
    loop {
        while let Some((out, route)) = match failover.take() {
            Some(r) => {
                let dial = Output::Dial {
                    rung: 0, // unused here: the ladder's own Dial for this attempt came first
                    contact: r.contact.clone(),
                    attempt: r.attempt,
                };
                Some((dial, Some(r)))
            }
            None => ladder.poll_output().map(|o| (o, None)),
        } {
            // Anything but a call stores what the ladder held back first, in order.
            if !matches!(out, Output::Dial { .. }) {
                unsaved.flush(store, &id).await;
            }
            match out {
                Output::Dial {
                    contact, attempt, ..
                } => {
                    let route =
                        route.unwrap_or_else(|| Route::first(&svc, plan, &contact, attempt));
                    // Another replica took this ladder over (a fenced write failed, or the
                    // heartbeat lost the lease): no call from here.
                    if store.lease_lost(&id) {
                        stopped = true;
                        let why = "lease lost: another replica took the ladder over";
                        ladder.handle_input(Utc::now(), ladder::Input::Stop(why.into()));
                        continue;
                    }
                    // Someone joined the group since the briefing was written: rewrite it.
                    if svc.group_incidents(&id).is_some_and(|(v, _)| v != version) {
                        let (v, audio, text) = group_briefing(&svc, &id, &incident, plan);
                        (version, briefing) = (v, Some(audio));
                        unsaved.briefing(text);
                    }
                    // Room on the line and in the dialplan's RTP share; a stop or a drain
                    // while the call waits ends the step unplaced.
                    let chan = cmds_open.then_some(&mut cmds);
                    let (slot, waited) = match call_room(&svc, &id, plan, &incident, &route, chan)
                        .await
                    {
                        Waited::Room(slot, waited) => (slot, waited),
                        Waited::Cmd(cmd) => {
                            let now = Utc::now();
                            let why = match cmd {
                                Some(LadderCmd::Stop(reason)) => {
                                    stopped = true;
                                    ladder.handle_input(now, ladder::Input::Stop(reason.clone()));
                                    reason
                                }
                                Some(LadderCmd::Drain { until }) => {
                                    shutdown = true;
                                    drain_until = Some(until);
                                    ladder.handle_input(now, ladder::Input::Drain(DRAINING.into()));
                                    DRAINING.to_string()
                                }
                                None => {
                                    cmds_open = false;
                                    shutdown = true;
                                    drain_until = Some(tokio::time::Instant::now());
                                    ladder.handle_input(now, ladder::Input::Drain(DRAINING.into()));
                                    DRAINING.to_string()
                                }
                            };
                            let outcome = CallOutcome {
                                call_id: String::new(),
                                result: Outcome::Failed,
                                reached: Vec::new(),
                                side: Side::Gateway,
                                reason: format!("not placed while waiting for room: {why}"),
                            };
                            ladder.handle_input(now, ladder::Input::CallEnded(outcome));
                            continue;
                        }
                    };
                    let placed = place(
                        &svc,
                        &id,
                        plan,
                        route,
                        &vars,
                        briefing.clone(),
                        true,
                        (slot, merge(carry.take(), waited)),
                        &mut unsaved,
                    )
                    .await;
                    match placed {
                        Ok(l) => {
                            told = CallNews::default();
                            live = Some(l)
                        }
                        Err(why) => {
                            // Not dialled: stored as a failed step, and the ladder goes on.
                            unsaved.flush(store, &id).await;
                            let reason = format!("call could not be set up: {why}");
                            not_placed(store, &id, &contact, attempt, &reason).await;
                            let outcome = CallOutcome {
                                call_id: String::new(),
                                result: Outcome::Failed,
                                reached: Vec::new(),
                                side: Side::Gateway,
                                reason,
                            };
                            ladder.handle_input(Utc::now(), ladder::Input::CallEnded(outcome));
                        }
                    }
                }
                Output::Skipped { contact, reason } => {
                    let seq = store
                        .append_step(
                            &id,
                            NewStep {
                                contact: contact.clone(),
                                attempt: 1,
                                started_at: Utc::now(),
                                call_id: None,
                            },
                        )
                        .await;
                    if let Ok(seq) = seq {
                        let live = json!({ "seq": seq, "state": "skipped", "contact": contact,
                            "reason": reason });
                        inner.events.publish(&id.to_string(), "step", live);
                        let end = StepEnd {
                            outcome: None,
                            reason: format!("skipped: {reason}"),
                            ended_at: Utc::now(),
                            call_id: None,
                        };
                        let _ = store.finish_step(&id, seq, end).await;
                    }
                    notify(
                        &svc,
                        &format!("{}: {contact} skipped ({reason})", plan.vendor),
                    )
                    .await;
                }
                Output::WaitingForOpen { contact, until } => {
                    let live = json!({ "state": "waiting_for_open", "contact": contact,
                        "until": until });
                    inner.events.publish(&id.to_string(), "step", live);
                    tracing::info!(incident = %id, %contact, %until, "every contact left is closed: waiting for one to open");
                    notify(
                        &svc,
                        &format!(
                            "{}: every contact left is outside its hours; {contact} opens at {}: calling then",
                            plan.vendor,
                            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ),
                    )
                    .await;
                }
                Output::Failed {
                    contact, outcome, ..
                } => {
                    let then = if shutdown {
                        "hotline is stopping: the ladder resumes on the next start"
                    } else {
                        inner.metrics.escalation(plan.id.as_str());
                        failed_calls += 1;
                        "next step"
                    };
                    let whose = if outcome.side == Side::Gateway {
                        ours += 1;
                        "; our side, not the vendor's"
                    } else {
                        ""
                    };
                    notify(
                        &svc,
                        &format!(
                            "{}: {contact} {:?} ({}{whose}), {then}",
                            plan.vendor, outcome.result, outcome.reason
                        ),
                    )
                    .await;
                }
                Output::CancelCall { reason } => {
                    if let Some(l) = &live {
                        let input = if inner.cfg().ladder.hangup_on_resolve || shutdown {
                            Input::Hangup(reason)
                        } else {
                            Input::CancelIfRinging(reason)
                        };
                        let _ = l.control.send(input).await;
                    }
                }
                Output::HangUp { reason } => {
                    if let Some(l) = &live {
                        notify(&svc, &format!("{}: {reason}: hanging up", plan.vendor)).await;
                        let _ = l.control.send(Input::Hangup(reason)).await;
                    }
                }
                Output::Finished(end) => {
                    let failures = (ours, failed_calls);
                    ladder_finished(&svc, &id, &incident, plan, &end, shutdown, failures).await;
                }
            }
        }
        if ladder.is_done() {
            break;
        }
        let retry = ladder.poll_timeout();
        let wait = retry
            .and_then(|t| (t - Utc::now()).to_std().ok())
            .unwrap_or(std::time::Duration::from_secs(3600));
        let hang_up_at = drain_until.filter(|_| live.is_some() && cut_step.is_none());
        tokio::select! {
            rec = async { live.as_mut().map(|l| &mut l.task).expect("guarded").await }, if live.is_some() => {
                let l = live.take().expect("guarded by the branch condition");
                let (outcome, next) = finish_call(&svc, &id, plan, l.step, rec, &l.route).await;
                if cut_step == Some(l.step) {
                    let _ = store.mark_step_interrupted(&id, l.step).await;
                }
                match next {
                    Some(route) if !shutdown && !stopped => failover = Some(route),
                    _ => ladder.handle_input(Utc::now(), ladder::Input::CallEnded(outcome)),
                }
            }
            cmd = cmds.recv(), if cmds_open => match cmd {
                Some(LadderCmd::Stop(reason)) => {
                    stopped = true;
                    ladder.handle_input(Utc::now(), ladder::Input::Stop(reason));
                }
                Some(LadderCmd::Drain { .. }) if shutdown => {}
                Some(LadderCmd::Drain { until }) => {
                    shutdown = true;
                    drain_until = Some(until);
                    ladder.handle_input(Utc::now(), ladder::Input::Drain(DRAINING.into()));
                }
                None => {
                    cmds_open = false;
                    if !shutdown {
                        shutdown = true;
                        drain_until = Some(tokio::time::Instant::now());
                        ladder.handle_input(Utc::now(), ladder::Input::Drain(DRAINING.into()));
                    }
                }
            },
            _ = async { tokio::time::sleep_until(hang_up_at.expect("guarded")).await }, if hang_up_at.is_some() => {
                // The drain time is over: hang up; the next start applies after_restart.
                if let Some(l) = &live {
                    cut_step = Some(l.step);
                    let _ = l.control.send(Input::Hangup(DRAIN_OVER.into())).await;
                }
            }
            _ = tokio::time::sleep(wait), if retry.is_some() => ladder.handle_timeout(Utc::now()),
            _ = tokio::time::sleep(call_watch::POLL), if live.is_some() => {
                let l = live.as_ref().expect("guarded");
                if let Some(news) = call_watch::watch(&inner.bridge, &l.call_id) {
                    if news.person && !told.person {
                        told.person = true;
                        call_watch::ring_on_human(&svc, &l.call_id);
                    }
                    if let (Some(within), None) = (news.human_sla_missed, told.human_sla_missed) {
                        told.human_sla_missed = Some(within);
                        ladder.handle_input(Utc::now(), ladder::Input::HumanSlaMissed { within });
                    }
                }
            }
        }
    }
}
