//! A ladder's calls, for both strategies (`ladder_task.rs`, `ladder_overlap.rs`): placing one
//! (`build_call` + the call task, with its live state and bridge), a step that was never
//! dialled, finishing one (stored, sealed, metrics, the step's end); and the `[ladder]
//! notify_url` message.

use super::admission::Slot;
use super::bridge::BridgeSetup;
use super::briefing_source::BriefingAudio;
use super::build_call::{CallRequest, build_call};
use super::call_task::run_bridged_call;
use super::failover::Route;
use super::ladder_unsaved::Unsaved;
use super::live::LiveSetup;
use super::service::Service;
use crate::call::{CallRecord, Input, Outcome, Side};
use crate::dialplan::{Dialplan, MenuStep, MenuVars};
use crate::ladder::{self, CallOutcome};
use crate::store::{IncidentId, NewStep, StepEnd};
use chrono::Utc;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(super) struct Live {
    pub(super) task: JoinHandle<CallRecord>,
    pub(super) control: mpsc::Sender<Input>,
    pub(super) step: u32,
    pub(super) call_id: String,
    /// Its room on the line and in the dialplan's RTP share, freed when dropped.
    pub(super) slot: Slot,
    /// The contact, attempt and trunk, and the trunks left to fail over to.
    pub(super) route: Route,
}

/// Logs `text` and queues it for the `[ladder] notify_url` chat webhook (posted in order,
/// never waited for: off the INVITE's path).
pub(super) async fn notify(svc: &Service, text: &str) {
    tracing::info!("{text}");
    if let Some(url) = &svc.inner.cfg().ladder.notify_url {
        svc.inner.outbound.notify_later(url, text);
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
/// `room`: the call's slot under the caps, and how long it waited for it. `route`: the
/// contact, attempt and trunk (a failover names the call it replaces). `unsaved`: what the
/// ladder held back for this call's transaction (cleared once stored).
#[allow(clippy::too_many_arguments)] // each is one plain input of placing a call
pub(super) async fn place(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    route: Route,
    vars: &MenuVars,
    briefing: Option<BriefingAudio>,
    sla_cap: bool,
    (slot, waited): (Slot, Option<(std::time::Duration, String)>),
    unsaved: &mut Unsaved,
) -> Result<Live, String> {
    let inner = &svc.inner;
    let (contact_id, attempt) = (route.contact.as_str(), route.attempt);
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
        trunk: Some(&route.trunk),
    };
    let (setup, rtp) = match build_call(&inner.cfg(), &inner.ep, req).await {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(contact = contact_id, error = %e, "cannot place call");
            return Err(e.to_string());
        }
    };
    let mut setup = setup;
    setup.record.failover = route.failover.clone();
    let call_id = setup.sip.call_id.to_string();
    // One transaction before the INVITE: the step, the call's row, and what the ladder held
    // back (its state, the briefing text).
    let queued = waited
        .as_ref()
        .map(|(w, why)| (w.as_millis() as u64, why.clone()));
    let step = NewStep {
        contact: contact_id.to_string(),
        attempt,
        started_at: Utc::now(),
        call_id: Some(call_id.clone()),
    };
    let step = inner
        .store
        .start_call(id, step, &setup.record, unsaved.step_start(queued))
        .await
        .map_err(|e| format!("cannot store the step: {e}"))?;
    unsaved.saved();
    let trunk = route.trunk.name.as_str();
    let live = json!({ "seq": step, "state": "started", "contact": contact_id,
        "attempt": attempt, "call_id": call_id, "trunk": trunk,
        "failover_from": route.failover.as_ref().map(|f| &f.from_trunk) });
    inner.events.publish(&id.to_string(), "step", live);
    let how = match &route.failover {
        Some(f) => format!(
            "on trunk {trunk}: trunk {} failed ({})",
            f.from_trunk, f.reason
        ),
        None => format!("on trunk {trunk}"),
    };
    notify(
        svc,
        &format!(
            "{}: calling {} (attempt {attempt}) {how}",
            plan.vendor, contact.name
        ),
    )
    .await;
    inner.metrics.active(1);
    let (tx, rx) = mpsc::channel(4);
    let ep = inner.ep.clone();
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
        route,
    })
}

/// A ladder's call ended: stored, sealed, counted, its step finished. Returns what the
/// ladder is told and, when the call's trunk failed and another is left, the route of the
/// failover call (the same contact on the next trunk; the ladder is told nothing yet).
pub(super) async fn finish_call(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    step: u32,
    rec: Result<CallRecord, tokio::task::JoinError>,
    route: &Route,
) -> (CallOutcome, Option<Route>) {
    let inner = &svc.inner;
    inner.metrics.active(-1);
    let rec = match rec {
        Ok(r) => r,
        Err(e) => {
            let outcome = CallOutcome {
                call_id: String::new(),
                result: Outcome::Failed,
                reached: Vec::new(),
                side: Side::Gateway,
                reason: format!("call task failed: {e}"),
            };
            return (outcome, None);
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
    // The trunk's fault: named on the step, and the next trunk when one is left.
    let (fault, next) = route.after(svc, &rec);
    let reason = match (&fault, &next) {
        (Some(_), Some(n)) => format!(
            "{reason} (trunk {}; failover to trunk {})",
            route.trunk.name, n.trunk.name
        ),
        (Some(_), None) => format!("{reason} (trunk {}; no trunk left)", route.trunk.name),
        _ => reason,
    };
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
    let outcome = CallOutcome {
        call_id: rec.call_id.clone(),
        result,
        reached: ladder::reached_in(&rec),
        side,
        reason,
    };
    (outcome, next)
}
