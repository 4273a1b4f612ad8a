//! One task drives one incident's ladder: it feeds the pure `ladder::Ladder`, places each call
//! it asks for, records every step in the store, and raises the fallback ticket.

use super::admission::Slot;
use super::bridge::BridgeSetup;
use super::briefing_source::BriefingAudio;
use super::call_task::run_bridged_call;
use super::call_watch::{self, CallNews};
use super::dial::{CallRequest, build_call};
use super::ladder_wait::{Waited, call_room, group_briefing, merge, wait_ladder_room};
use super::live::LiveSetup;
use super::service::Service;
use crate::call::{CallRecord, Input, Outcome, Side};
use crate::dialplan::{Dialplan, MenuStep, MenuVars, PlanVars};
use crate::incident::Incident;
use crate::ladder::{self, CallOutcome, Ladder, LadderEnd, Output, Rung};
use crate::store::{IncidentId, LadderState, NewStep, StepEnd};
use chrono::Utc;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Commands to a running ladder.
#[derive(Debug)]
pub enum LadderCmd {
    /// Resolved or stopped by an operator.
    Stop(String),
    /// The service is stopping gracefully: take no new step, let the live call go on until
    /// `until`, then hang it up; the ladder ends `interrupted`, resumed by the next start.
    Drain { until: tokio::time::Instant },
}

/// The ladder's reason while a graceful stop drains it.
pub(super) const DRAINING: &str = "hotline stopped; the ladder resumes on the next start";
/// The hangup reason when the drain time runs out (the SIP Reason header and the timeline).
const DRAIN_OVER: &str = "hotline restarting: drain time over";

pub(super) struct Live {
    pub(super) task: JoinHandle<CallRecord>,
    pub(super) control: mpsc::Sender<Input>,
    pub(super) step: u32,
    pub(super) call_id: String,
    /// Its room on the line and in the dialplan's RTP share, freed when dropped.
    pub(super) slot: Slot,
}

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

/// Where a ladder cut short by a stop picks up, from its stored steps (and says so).
pub(super) async fn resume_at(svc: &Service, id: &IncidentId, plan: &Dialplan) -> ladder::Position {
    let steps: Vec<ladder::PastStep> = match svc.inner.store.incident(id).await {
        Ok(Some(view)) => view
            .ladder
            .iter()
            .map(|s| ladder::PastStep {
                contact: s.contact.clone(),
                attempt: s.attempt,
                outcome: s.outcome,
                interrupted: s.interrupted,
                ended_at: s.ended_at,
            })
            .collect(),
        _ => Vec::new(),
    };
    let rungs = Rung::from_dialplan(plan);
    let at = ladder::resume_position(&rungs, &steps, svc.config().ladder.after_restart);
    notify(
        svc,
        &format!(
            "{}: hotline restarted; resuming the ladder of incident {id}: {}",
            plan.vendor, at.why
        ),
    )
    .await;
    at
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
    let _ = store
        .set_ladder_state(&id, LadderState::Running, None)
        .await;
    // Room under the delivery's and the dialplan's ladder caps first (held to the end).
    let (_ladder_slot, mut carry) = match wait_ladder_room(&svc, &id, plan, slot, &mut cmds).await {
        Some(x) => x,
        None => return,
    };
    // Synthesis starts now, while the first call rings; a greeting covers a late briefing.
    let (mut version, mut briefing) = group_briefing(&svc, &id, &incident, plan).await;
    let vars = menu_vars(&incident, &plan.vars);
    if plan.strategy == crate::dialplan::Strategy::Overlap {
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
    loop {
        while let Some(out) = ladder.poll_output() {
            match out {
                Output::Dial {
                    contact, attempt, ..
                } => {
                    // Someone joined the group since the briefing was written: rewrite it.
                    if svc.group_incidents(&id).is_some_and(|(v, _)| v != version) {
                        (version, briefing) = group_briefing(&svc, &id, &incident, plan).await;
                    }
                    // Room on the line and in the dialplan's RTP share; a stop or a drain
                    // while the call waits ends the step unplaced.
                    let chan = cmds_open.then_some(&mut cmds);
                    let (slot, waited) = match call_room(&svc, &id, plan, &incident, &contact, chan)
                        .await
                    {
                        Waited::Room(slot, waited) => (slot, waited),
                        Waited::Cmd(cmd) => {
                            let now = Utc::now();
                            let why = match cmd {
                                Some(LadderCmd::Stop(reason)) => {
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
                        (&contact, attempt),
                        &vars,
                        briefing.clone(),
                        true,
                        (slot, merge(carry.take(), waited)),
                    )
                    .await;
                    match placed {
                        Ok(l) => {
                            told = CallNews::default();
                            live = Some(l)
                        }
                        Err(why) => {
                            // Not dialled: stored as a failed step, and the ladder goes on.
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
                let outcome = finish_call(&svc, &id, plan, l.step, rec).await;
                if cut_step == Some(l.step) {
                    let _ = store.mark_step_interrupted(&id, l.step).await;
                }
                ladder.handle_input(Utc::now(), ladder::Input::CallEnded(outcome));
            }
            cmd = cmds.recv(), if cmds_open => match cmd {
                Some(LadderCmd::Stop(reason)) => ladder.handle_input(Utc::now(), ladder::Input::Stop(reason)),
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

/// Why the ladder is exhausted, saying when our side failed rather than the vendor's lines.
/// A ladder (sequential or overlapping) ended: the notify message, the fallback ticket when
/// exhausted, the stored state, and the event for the incident's live stream.
/// `failures`: (calls that failed on our side, calls that failed at all).
pub(super) async fn ladder_finished(
    svc: &Service,
    id: &IncidentId,
    incident: &Incident,
    plan: &Dialplan,
    end: &LadderEnd,
    shutdown: bool,
    failures: (u32, u32),
) {
    let (state, reason) = match end {
        LadderEnd::Taken { contact, by, .. } => {
            let by = by.name();
            notify(
                svc,
                &format!("{}: {contact} reached ({by}): ladder done", plan.vendor),
            )
            .await;
            (LadderState::Done, format!("taken by {contact} ({by})"))
        }
        LadderEnd::Exhausted => {
            let why = exhausted_reason(failures.0, failures.1);
            fallback(svc, id, incident, Some(plan), &why).await;
            (LadderState::Exhausted, why)
        }
        LadderEnd::Stopped { reason } if shutdown => (LadderState::Interrupted, reason.clone()),
        LadderEnd::Stopped { reason } => (LadderState::Stopped, reason.clone()),
    };
    let _ = svc
        .inner
        .store
        .set_ladder_state(id, state, Some(&reason))
        .await;
    let live = json!({ "state": state, "reason": reason });
    svc.inner
        .events
        .publish(&id.to_string(), "ladder", live.clone());
    // The group's members share the outcome, unless a stop cut it short: then the leader
    // resumes for all of them and they stay grouped.
    let members = svc.close_group(id);
    if state != LadderState::Interrupted {
        let reason = format!("grouped with incident {id}: {reason}");
        for m in members {
            let _ = svc
                .inner
                .store
                .set_ladder_state(&m, state, Some(&reason))
                .await;
            let live = json!({ "state": state, "reason": reason });
            svc.inner.events.publish(&m.to_string(), "ladder", live);
        }
    }
}

pub(super) fn exhausted_reason(ours: u32, failed: u32) -> String {
    if ours == 0 {
        return "every contact tried".into();
    }
    format!(
        "every contact tried; {ours} of {failed} failed steps failed on our side \
         (credentials, trunk, hotline, menu values), not the vendor's"
    )
}

pub(super) async fn notify(svc: &Service, text: &str) {
    tracing::info!("{text}");
    if let Some(url) = &svc.inner.cfg().ladder.notify_url {
        svc.inner.outbound.notify(url, text).await;
    }
}

/// A ladder step whose call was never dialled, stored with its reason.
pub(super) async fn not_placed(
    store: &crate::store::Store,
    id: &IncidentId,
    contact: &str,
    attempt: u32,
    reason: &str,
) {
    let step = NewStep {
        contact: contact.to_string(),
        attempt,
        started_at: Utc::now(),
        call_id: None,
    };
    if let Ok(seq) = store.append_step(id, step).await {
        let end = StepEnd {
            outcome: Some(Outcome::Failed),
            reason: reason.to_string(),
            ended_at: Utc::now(),
            call_id: None,
        };
        let _ = store.finish_step(id, seq, end).await;
    }
}

/// Places one call of the ladder, or says why it could not be set up. A menu placeholder
/// with no value (or one that cannot be keyed) fails here, before anything is dialled.
/// `sla_cap`: ringing stops at the contact's SLA (sequential); else at its ring_timeout.
/// `room`: the call's slot under the caps, and how long it waited for it.
#[allow(clippy::too_many_arguments)] // each is one plain input of placing a call
pub(super) async fn place(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    (contact_id, attempt): (&str, u32),
    vars: &MenuVars,
    briefing: Option<BriefingAudio>,
    sla_cap: bool,
    (slot, waited): (Slot, Option<(std::time::Duration, String)>),
) -> Result<Live, String> {
    let inner = &svc.inner;
    let contact = plan
        .contacts
        .iter()
        .find(|c| c.id.as_str() == contact_id)
        .ok_or_else(|| format!("no contact {contact_id} in the dialplan"))?;
    for step in &contact.menu {
        if let MenuStep::Dtmf(t) = step {
            vars.check(t)
                .map_err(|e| format!("menu step dtmf \"{t}\": {e}"))?;
        }
    }
    let answer_within = contact.answer_within_or(inner.cfg().sla.answer_within);
    let req = CallRequest {
        plan,
        contact,
        vars: &vars.values,
        briefing,
        max_duration: inner.cfg().ladder.max_call_duration,
        // Sequential: an SLA miss moves on at once, ringing stops at answer_within.
        ring_cap: sla_cap.then_some(answer_within),
        append_briefing: false,
    };
    let (setup, rtp) = match build_call(&inner.cfg(), &inner.ep, req).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(contact = contact_id, error = %e, "cannot place call");
            return Err(e.to_string());
        }
    };
    let call_id = setup.sip.call_id.to_string();
    let step = inner
        .store
        .append_step(
            id,
            NewStep {
                contact: contact_id.to_string(),
                attempt,
                started_at: Utc::now(),
                call_id: Some(call_id.clone()),
            },
        )
        .await
        .map_err(|e| format!("cannot store the step: {e}"))?;
    if let Some((w, why)) = &waited {
        let ms = w.as_millis() as u64;
        let _ = inner.store.note_queue_wait(id, step, ms, why).await;
    }
    if let Err(e) = inner.store.save_call(&setup.record, Some(id)).await {
        tracing::warn!(error = %e, "cannot store call start");
    }
    let live = json!({ "seq": step, "state": "started", "contact": contact_id,
        "attempt": attempt, "call_id": call_id });
    inner.events.publish(&id.to_string(), "step", live);
    notify(
        svc,
        &format!(
            "{}: calling {} (attempt {attempt})",
            plan.vendor, contact.name
        ),
    )
    .await;
    inner.metrics.active(1);
    let (tx, rx) = mpsc::channel(4);
    let ep = inner.ep.clone();
    let mut setup = setup;
    setup.dialogs = Some(inner.store.clone());
    setup.live = Some(LiveSetup {
        store: inner.store.clone(),
        hub: inner.events.clone(),
        incident: id.to_string(),
    });
    let bridge = BridgeSetup {
        registry: inner.bridge.clone(),
        incident: Some(id.to_string()),
    };
    let task = tokio::spawn(run_bridged_call(ep, rtp, setup, rx, Some(bridge)));
    Ok(Live {
        task,
        control: tx,
        step,
        call_id,
        slot,
    })
}

pub(super) async fn finish_call(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    step: u32,
    rec: Result<CallRecord, tokio::task::JoinError>,
) -> CallOutcome {
    let inner = &svc.inner;
    inner.metrics.active(-1);
    let rec = match rec {
        Ok(r) => r,
        Err(e) => {
            return CallOutcome {
                call_id: String::new(),
                result: Outcome::Failed,
                reached: Vec::new(),
                side: Side::Gateway,
                reason: format!("call task failed: {e}"),
            };
        }
    };
    if let Err(e) = inner.store.save_call(&rec, Some(id)).await {
        tracing::warn!(error = %e, "cannot store call");
    }
    // The recording and its timeline are final: into the hash chain.
    let wav = std::path::Path::new(&rec.recording);
    if let Err(e) =
        crate::audit::seal_call(&inner.store, &rec.call_id, wav, &wav.with_extension("json")).await
    {
        tracing::warn!(error = %e, "cannot seal the call");
    }
    let (result, reason, side) = rec
        .termination
        .as_ref()
        .map(|t| (t.result, t.reason.clone(), t.side()))
        .unwrap_or((Outcome::Failed, "no termination".into(), Side::Gateway));
    let tta = rec.time_to_answer_ms.map(|ms| ms as f64 / 1000.0);
    let result_name = serde_json::to_value(result)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    inner
        .metrics
        .call(plan.id.as_str(), &result_name, side, tta);
    inner.metrics.human(&rec);
    let end = StepEnd {
        outcome: Some(result),
        reason: reason.clone(),
        ended_at: Utc::now(),
        call_id: Some(rec.call_id.clone()),
    };
    let _ = inner.store.finish_step(id, step, end).await;
    let live = json!({ "seq": step, "state": "ended", "contact": rec.contact,
        "call_id": rec.call_id, "outcome": result, "reason": reason });
    inner.events.publish(&id.to_string(), "step", live);
    CallOutcome {
        call_id: rec.call_id.clone(),
        result,
        reached: ladder::reached_in(&rec),
        side,
        reason,
    }
}

/// Raises the P0 ticket: the incident and every attempt with its outcome and timings.
pub(super) async fn fallback(
    svc: &Service,
    id: &IncidentId,
    incident: &Incident,
    plan: Option<&Dialplan>,
    why: &str,
) {
    let inner = &svc.inner;
    notify(svc, &format!("incident {id}: {why}; raising a P0 ticket")).await;
    let Some(url) = inner.cfg().ladder.fallback_url.clone() else {
        tracing::warn!(incident = %id, "no [ladder] fallback_url configured: no ticket raised");
        inner.metrics.ticket("not_configured");
        return;
    };
    let view = inner.store.incident(id).await.ok().flatten();
    let body = serde_json::json!({
        "priority": "P0",
        "incident_id": id.to_string(),
        "reason": why,
        "dialplan": plan.map(|p| p.id.as_str()),
        "incident": incident,
        "attempts": view.as_ref().map(|v| serde_json::json!(v.ladder)),
        "calls": view.as_ref().map(|v| serde_json::json!(v.calls)),
    });
    let ok = inner
        .outbound
        .ticket(
            &inner.store,
            id,
            &url,
            inner.cfg().ladder.fallback_token.as_ref(),
            &body,
        )
        .await;
    inner.metrics.ticket(if ok { "sent" } else { "failed" });
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_exhausted_ladder_says_when_our_side_failed() {
        assert_eq!(super::exhausted_reason(0, 3), "every contact tried");
        let why = super::exhausted_reason(2, 3);
        assert!(
            why.starts_with("every contact tried; 2 of 3 failed steps failed on our side"),
            "{why}"
        );
    }
}
