//! A ladder waiting for room (caps): the words for what it waits on, its priority, and the
//! wait for a call's slot that a stop or a drain can end, the wait for a ladder's own room,
//! and the briefing of a group's ladder.

use super::admission::Slot;
use super::briefing_source::BriefingAudio;
use super::ladder_calls::notify;
use super::ladder_end::{DRAINING, ladder_finished};
use super::service::{LadderCmd, Service};
use crate::dialplan::Dialplan;
use crate::incident::{Incident, Severity};
use crate::ladder::{LadderEnd, Limit, Priority};
use crate::store::{IncidentId, LadderState};
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

/// Critical incidents go first.
pub fn priority(i: &Incident) -> Priority {
    if i.severity == Severity::Critical {
        Priority::Critical
    } else {
        Priority::Normal
    }
}

/// What a full limit means, in words.
pub fn words(l: &Limit) -> String {
    let (kind, what) = l.key.split_once(':').unwrap_or(("", l.key.as_str()));
    let n = l.cap;
    let s = if n == 1 { "" } else { "s" };
    match kind {
        "line" => format!("the line {what} has its {n} call{s} at once"),
        "rtp" => format!("dialplan {what} holds its share of the RTP ports ({n} call{s})"),
        "delivery" => format!("this webhook delivery runs {n} ladder{s} already"),
        "plan" => format!("dialplan {what} runs {n} ladder{s} already"),
        _ => format!("{} is full ({n})", l.key),
    }
}

/// How a wait for room ended.
pub enum Waited {
    /// The slot holds its room; `Some` when it had to wait (how long, for what).
    Room(Slot, Option<(Duration, String)>),
    /// A command came first (or the channel closed): the caller handles it.
    Cmd(Option<LadderCmd>),
}

/// Waits for room for a call to `contact_id`, publishing and notifying when it has to wait;
/// a command (stop, drain) ends the wait.
pub async fn call_room(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    incident: &Incident,
    route: &super::failover::Route,
    cmds: Option<&mut mpsc::Receiver<LadderCmd>>,
) -> Waited {
    let contact_id = route.contact.as_str();
    let Some(contact) = plan.contacts.iter().find(|c| c.id.as_str() == contact_id) else {
        // `place` says why; no room to wait for.
        let slot = svc.inner.call_gate.request(Vec::new(), priority(incident));
        return Waited::Room(slot, None);
    };
    let mut slot = svc.call_slot(plan, contact, &route.trunk, incident);
    let Some(q) = slot.queued.clone() else {
        return Waited::Room(slot, None);
    };
    let why = words(&q.full);
    let data = json!({ "state": "queued", "contact": contact_id, "reason": why,
        "position": q.position });
    svc.inner.events.publish(&id.to_string(), "step", data);
    notify(
        svc,
        &format!(
            "{}: incident {id} waits to call {} ({why}; position {})",
            plan.vendor, contact.name, q.position
        ),
    )
    .await;
    let metrics = &svc.inner.metrics;
    metrics.queued("call", 1);
    let r = match cmds {
        Some(cmds) => tokio::select! {
            w = slot.granted() => Ok(w),
            cmd = cmds.recv() => Err(cmd),
        },
        None => Ok(slot.granted().await),
    };
    metrics.queued("call", -1);
    match r {
        Ok(w) => {
            metrics.queue_wait("call", w);
            Waited::Room(slot, Some((w, why)))
        }
        Err(cmd) => Waited::Cmd(cmd),
    }
}

/// Merges a ladder's own wait (delivery / dialplan cap) into its first call's wait.
pub fn merge(
    a: Option<(Duration, String)>,
    b: Option<(Duration, String)>,
) -> Option<(Duration, String)> {
    match (a, b) {
        (Some((d1, w1)), Some((d2, w2))) => Some((d1 + d2, format!("{w1}; then {w2}"))),
        (a, b) => a.or(b),
    }
}

/// Waits for room under the ladder caps (per delivery, per dialplan) when the slot was
/// queued, saying so on the incident. `None`: a stop or a drain came first (stored).
/// Returns the slot to hold while the ladder runs, and the wait for the first step.
pub(super) async fn wait_ladder_room(
    svc: &Service,
    id: &IncidentId,
    plan: &Dialplan,
    slot: Option<Slot>,
    cmds: &mut mpsc::Receiver<LadderCmd>,
) -> Option<(Option<Slot>, Option<(std::time::Duration, String)>)> {
    let Some(mut slot) = slot else {
        return Some((None, None));
    };
    let Some(q) = slot.queued.clone() else {
        return Some((Some(slot), None));
    };
    let inner = &svc.inner;
    let why = super::ladder_wait::words(&q.full);
    let reason = format!("queued: {why} (position {})", q.position);
    let _ = inner
        .store
        .set_ladder_state(id, LadderState::Running, Some(&reason))
        .await;
    let live = json!({ "state": "queued", "reason": reason });
    inner.events.publish(&id.to_string(), "ladder", live);
    notify(svc, &format!("{}: incident {id} {reason}", plan.vendor)).await;
    inner.metrics.queued("ladder", 1);
    let r = tokio::select! {
        w = slot.granted() => Ok(w),
        cmd = cmds.recv() => Err(cmd),
    };
    inner.metrics.queued("ladder", -1);
    match r {
        Ok(w) => {
            inner.metrics.queue_wait("ladder", w);
            let _ = inner
                .store
                .set_ladder_state(id, LadderState::Running, None)
                .await;
            Some((Some(slot), Some((w, why))))
        }
        Err(Some(LadderCmd::Stop(reason))) => {
            let end = LadderEnd::Stopped { reason };
            let incident = Incident::default();
            ladder_finished(svc, id, &incident, plan, &end, false, (0, 0)).await;
            None
        }
        Err(_) => {
            // Drain (or the service is gone): the next start resumes it from the queue.
            let _ = inner
                .store
                .set_ladder_state(id, LadderState::Interrupted, Some(DRAINING))
                .await;
            None
        }
    }
}

/// The briefing for the ladder of `id`: the incident's own, or, when it leads a group, one
/// listing every member's fault. Returns the group's version it was written for, the audio
/// and the text; the caller stores the text (the incident's briefing text) with the call's
/// step, one transaction before the INVITE (`ladder_unsaved.rs`).
pub(super) fn group_briefing(
    svc: &Service,
    id: &IncidentId,
    incident: &Incident,
    plan: &Dialplan,
) -> (u64, BriefingAudio, String) {
    let inner = &svc.inner;
    let (version, handle) = match svc.group_incidents(id) {
        Some((v, list)) if list.len() > 1 => (v, inner.briefer.prepare_group(&list, plan)),
        Some((v, _)) => (v, inner.briefer.prepare(incident, plan)),
        None => (0, inner.briefer.prepare(incident, plan)),
    };
    let text = handle.spoken();
    let greeting = inner.briefer.greeting(handle.language());
    let audio = super::briefing_source::briefing_audio(greeting, handle);
    (version, audio, text)
}
