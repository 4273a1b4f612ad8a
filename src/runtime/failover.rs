//! Trunk failover for a ladder's calls (both strategies): the trunks one attempt at a
//! contact may use, in order (`ladder::trunks::failover_order`: the contact's or dialplan's
//! preference, trunks known down last), and after a call its trunk failed (unreachable, no
//! 100 Trying, 503: `ladder::trunks::trunk_fault`), the same contact on the next trunk at
//! once, before the ladder hears of it.

use super::service::Service;
use crate::call::{CallRecord, Failover};
use crate::config::Trunk;
use crate::dialplan::Dialplan;

/// Where one attempt at one contact goes.
#[derive(Clone, Debug)]
pub(super) struct Route {
    pub contact: String,
    pub attempt: u32,
    /// The trunk this call goes out on.
    pub trunk: Trunk,
    /// The trunks left to fail over to, in order.
    pub rest: Vec<Trunk>,
    /// How this call came about when it is a failover.
    pub failover: Option<Failover>,
}

impl Route {
    /// The first call of attempt `attempt` at `contact` of `plan`.
    pub fn first(svc: &Service, plan: &Dialplan, contact: &str, attempt: u32) -> Route {
        let cfg = svc.config();
        let preference = plan
            .contacts
            .iter()
            .find(|c| c.id.as_str() == contact)
            .map(|c| plan.trunks_for(c))
            .unwrap_or_default();
        let all = cfg.trunks();
        let names: Vec<String> = all.iter().map(|t| t.name.clone()).collect();
        let mut trunks: Vec<Trunk> = svc
            .inner
            .trunks
            .order(&preference, &names)
            .iter()
            .filter_map(|n| all.iter().find(|t| &t.name == n).cloned())
            .collect();
        // One SIP endpoint per process: trunks on its transport before the others (stable,
        // so the preference and health order hold within each).
        trunks.sort_by_key(|t| t.transport != cfg.sip.transport);
        if trunks.is_empty() {
            trunks.push(cfg.trunk_for(&preference));
        }
        let trunk = trunks.remove(0);
        Route {
            contact: contact.to_string(),
            attempt,
            trunk,
            rest: trunks,
            failover: None,
        }
    }

    /// After `rec` (a call on this route) ended: when its trunk is at fault, the trunk is
    /// marked down and, if a trunk is left, the route of the failover call. Returns (the
    /// fault, the next route).
    pub fn after(&self, svc: &Service, rec: &CallRecord) -> (Option<String>, Option<Route>) {
        let Some(fault) = rec
            .termination
            .as_ref()
            .and_then(crate::ladder::trunks::trunk_fault)
        else {
            // Any response from beyond the trunk (answered, busy, refused...): it is up.
            if heard_back(rec) {
                svc.inner.trunks.reached(&self.trunk.name);
            }
            return (None, None);
        };
        let name = &self.trunk.name;
        if svc.inner.trunks.fault(name, &fault) {
            tracing::warn!(trunk = %name, reason = %fault, "trunk down");
        }
        let Some((next, rest)) = self.rest.split_first() else {
            return (Some(fault), None);
        };
        svc.inner.metrics.failover(name, &next.name);
        tracing::warn!(contact = %self.contact, from = %name, to = %next.name, reason = %fault,
            "trunk failover: same contact on the next trunk");
        let failover = Failover {
            from_trunk: name.clone(),
            from_call: rec.call_id.clone(),
            reason: fault.clone(),
            fault_at: rec.stages.ended.unwrap_or_else(chrono::Utc::now),
        };
        let next = Route {
            contact: self.contact.clone(),
            attempt: self.attempt,
            trunk: next.clone(),
            rest: rest.to_vec(),
            failover: Some(failover),
        };
        (Some(fault), Some(next))
    }
}

/// The call had any response to its INVITE (a 1xx, a final response, an answer).
fn heard_back(rec: &CallRecord) -> bool {
    use crate::call::EventKind as K;
    rec.events.iter().any(|e| {
        matches!(
            e.kind,
            K::Provisional { .. } | K::FinalResponse { .. } | K::Answered { .. }
        )
    })
}
