//! What a ladder needs to know about its live calls while they run, read from the call's
//! timeline as the call task publishes it to the bridge registry (opened at the 200 OK): a
//! person on the line (`human_detected`), an SLA miss on time to a person (`sla_missed`).
//! The ladder tasks poll it; the call task is not asked anything.

use super::bridge::Registry;
use crate::call::EventKind;
use std::time::Duration;

/// How often a ladder looks at its live calls.
pub const POLL: Duration = Duration::from_millis(100);

/// One live call as the ladder sees it. `None` from [`watch`]: not answered (or over).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallNews {
    /// The listener detected a person.
    pub person: bool,
    /// The SLA on time to a person ran out (`within`), if it did.
    pub human_sla_missed: Option<Duration>,
}

/// The news of live call `call_id`, if it is open on the bridge (answered, not over).
pub fn watch(registry: &Registry, call_id: &str) -> Option<CallNews> {
    let call = registry.call(call_id)?;
    let timeline = call.timeline.borrow().clone();
    let mut news = CallNews::default();
    for e in timeline.iter() {
        match &e.kind {
            EventKind::HumanDetected { .. } => news.person = true,
            EventKind::SlaMissed { within_ms, .. } => {
                news.human_sla_missed = Some(Duration::from_millis(*within_ms))
            }
            _ => {}
        }
    }
    Some(news)
}

/// A person is on call `call_id`: ring each on-call phone of `[bridge] ring_on_human` into
/// it (operators are never rung during the hold, only now).
pub fn ring_on_human(svc: &super::service::Service, call_id: &str) {
    let ids = svc.config().bridge.ring_on_human.clone();
    for op in ids {
        let svc = svc.clone();
        let call_id = call_id.to_string();
        tokio::spawn(async move {
            match super::bridge::phone::call_operator(&svc, &call_id, &op).await {
                Ok(leg) => {
                    tracing::info!(operator = %op, phone_call = %leg, "a person is on the line: ringing the on-call phone")
                }
                Err(e) => {
                    tracing::warn!(operator = %op, error = %e, "cannot ring the on-call phone")
                }
            }
        });
    }
}
