//! Call storms on the service: incidents that share a vendor line and asset join one
//! ladder (groups, durable in the store), and ladders and calls wait for room under the caps
//! (per delivery, per dialplan, per line, the dialplan's RTP share).

use super::admission::Slot;
use super::groups::{Groups, Resolution};
use super::service::{Service, ServiceError};
use crate::incident::{Incident, Status};
use crate::store::{IncidentId, LadderState};

impl Service {
    pub(super) fn groups(&self) -> std::sync::MutexGuard<'_, Groups> {
        self.inner.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The group an incident on `plan` belongs to (`group_by` of the dialplan or
    /// `[ladder]`; the line is the dialplan's first contact's `uri`).
    pub(super) fn group_key(
        &self,
        incident: &Incident,
        plan: &crate::dialplan::Dialplan,
    ) -> Option<String> {
        let by = plan.group_by.unwrap_or(self.inner.cfg().ladder.group_by);
        let line = plan.contacts.first()?.destination.to_string();
        crate::ladder::group_key(incident, &line, by)
    }

    /// `member` joins the group `key` led by `leader`: stored, shown, no call of its own.
    pub(super) async fn join(
        &self,
        member: &IncidentId,
        leader: &IncidentId,
        key: &str,
        incident: Incident,
    ) -> Result<String, ServiceError> {
        let summary = incident.fault.summary.clone();
        self.inner.store.join_group(member, leader, key).await?;
        let why = format!("grouped with incident {leader}: one call for the same line and asset");
        self.inner
            .store
            .set_ladder_state(member, LadderState::Grouped, Some(&why))
            .await?;
        self.groups().join(key, member.clone(), incident);
        let data = serde_json::json!({ "leader": leader.to_string(), "member": member.to_string(),
            "summary": summary });
        self.inner
            .events
            .publish(&leader.to_string(), "grouped", data.clone());
        self.inner
            .events
            .publish(&member.to_string(), "grouped", data);
        Ok(format!(
            "grouped with incident {leader} (same vendor line and asset): its call covers this fault"
        ))
    }

    /// The incidents the ladder of `leader` calls about, when it leads a group, and the
    /// group's version (it changes when someone joins).
    pub(super) fn group_incidents(&self, leader: &IncidentId) -> Option<(u64, Vec<Incident>)> {
        self.groups().incidents(leader)
    }

    /// The leader's ladder ended: closes its group; returns the other members.
    pub(super) fn close_group(&self, leader: &IncidentId) -> Vec<IncidentId> {
        self.groups().close(leader)
    }

    /// Rebuilds a resumed leader's group from the store (a restart).
    pub(super) async fn restore_group(&self, leader: &IncidentId, incident: &Incident) {
        let Ok(Some(g)) = self.inner.store.group(leader).await else {
            return;
        };
        if g.leader != *leader {
            return;
        }
        let mut members = Vec::new();
        for m in g.members.iter().filter(|m| m.id != *leader) {
            if let Ok(Some(v)) = self.inner.store.incident(&m.id).await {
                let resolved = v.row.status != Status::Firing;
                members.push((m.id.clone(), v.row.incident.clone(), resolved));
            }
        }
        let leader_resolved = g
            .members
            .iter()
            .any(|m| m.id == *leader && m.status != Status::Firing);
        let mut groups = self.groups();
        groups.open(&g.key, (leader.clone(), incident.clone()), members);
        if leader_resolved {
            // It resumed for its members; its own alert is over.
            groups.resolve(leader);
        }
    }

    /// Room for a ladder of `plan`: at most `max_ladders` / `[ladder] per_dialplan` of the
    /// dialplan and `[ladder] per_delivery` of one webhook delivery at once.
    pub(super) fn ladder_slot(
        &self,
        plan: &crate::dialplan::Dialplan,
        incident: &Incident,
        delivery: Option<u64>,
    ) -> Slot {
        let cfg = self.inner.cfg();
        let mut limits = vec![crate::ladder::Limit::new(
            format!("plan:{}", plan.id.as_str()),
            plan.max_ladders.unwrap_or(cfg.ladder.per_dialplan),
        )];
        if let Some(d) = delivery {
            limits.push(crate::ladder::Limit::new(
                format!("delivery:{d}"),
                cfg.ladder.per_delivery,
            ));
        }
        self.inner
            .ladder_gate
            .request(limits, super::ladder_wait::priority(incident))
    }

    /// Room for a call to `contact` of `plan` on `trunk`: at most `max_calls` on its line,
    /// the dialplan's share of the RTP ports (`[ladder] rtp_share_percent`), and the trunk's
    /// limits.
    pub(super) fn call_slot(
        &self,
        plan: &crate::dialplan::Dialplan,
        contact: &crate::dialplan::Contact,
        trunk: &crate::config::Trunk,
        incident: &Incident,
    ) -> Slot {
        let cfg = self.inner.cfg();
        let r = cfg.media.rtp_ports;
        let ports = u32::from((r.end - r.start) / 2 + 1);
        let mut limits = vec![
            crate::ladder::Limit::new(
                format!("line:{}", contact.destination),
                contact.max_calls.unwrap_or(cfg.ladder.max_calls),
            ),
            crate::ladder::Limit::new(
                format!("rtp:{}", plan.id.as_str()),
                crate::config::rtp_calls(ports, cfg.ladder.rtp_share_percent),
            ),
        ];
        // The trunk's carrier limits: `max_channels` at once, `max_cps` INVITEs a second.
        if trunk.max_channels.is_some() || trunk.max_cps.is_some() {
            let limit = crate::ladder::Limit::new(
                format!("trunk:{}", trunk.name),
                trunk.max_channels.unwrap_or(u32::MAX),
            );
            limits.push(match trunk.max_cps {
                Some(cps) => limit.paced(cps),
                None => limit,
            });
        }
        self.inner
            .call_gate
            .request(limits, super::ladder_wait::priority(incident))
    }

    /// Stops what `id`'s resolution (or acknowledgement) stops: its own ladder, or, in a
    /// group, the group's ladder once every member has resolved. Returns the words.
    pub(super) async fn stop_for(&self, id: &IncidentId, reason: &str) -> String {
        let r = self.groups().resolve(id);
        match r {
            Resolution::Alone => {
                self.stop_ladder(id, reason).await;
                "resolved: ladder stopped".into()
            }
            Resolution::Others { leader, firing } => {
                let words = format!(
                    "resolved: the call of group {leader} goes on for {firing} incident(s) \
                     still firing"
                );
                if leader == *id {
                    // The store marked it stopped as it resolved; its ladder runs on.
                    let _ = self
                        .inner
                        .store
                        .set_ladder_state(id, LadderState::Running, Some(&words))
                        .await;
                }
                words
            }
            Resolution::Last { leader } => {
                let why = format!("{reason} (every incident of the group)");
                self.stop_ladder(&leader, &why).await;
                "resolved: the group's ladder stopped".into()
            }
        }
    }
}
