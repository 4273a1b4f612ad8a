//! How a ladder ends, for both strategies: its stored state and the group closed, the `ladder`
//! event, the notify message, the fallback P0 ticket when exhausted; the drain reason; and
//! where a ladder a stop cut short picks up again.

use super::ladder_calls::notify;
use super::service::Service;
use crate::dialplan::Dialplan;
use crate::incident::Incident;
use crate::ladder::{self, LadderEnd, Rung};
use crate::store::{IncidentId, LadderState};
use serde_json::json;

/// The ladder's reason while a graceful stop drains it.
pub(super) const DRAINING: &str = "hotline stopped; the ladder resumes on the next start";

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
