//! Incidents in: each stored durably (joined by fingerprint while firing) before the 202,
//! routed to one dialplan, grouped with a running or queued ladder on the same line and
//! asset, its ladder started once the whole delivery is stored.

use super::service::{Accepted, PendingStart, Service, ServiceError};
use crate::incident::{Incident, Status};
use crate::store::{LadderState, Routing};

impl Service {
    /// Takes one incident: durable in the store before this returns.
    pub async fn ingest(
        &self,
        incident: Incident,
        raw_size: usize,
    ) -> Result<Accepted, ServiceError> {
        let mut all = self.ingest_delivery(vec![incident], raw_size).await?;
        Ok(all.remove(0))
    }

    /// Takes every incident of one webhook delivery: each stored before this returns; those
    /// that share a vendor line and asset with a running or queued ladder join it (one call);
    /// at most `[ladder] per_delivery` of the delivery's ladders run at once, the rest wait.
    /// Ladders start once the whole delivery is stored.
    pub async fn ingest_delivery(
        &self,
        incidents: Vec<Incident>,
        raw_size: usize,
    ) -> Result<Vec<Accepted>, ServiceError> {
        let delivery = self
            .inner
            .deliveries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut starts = Vec::new();
        let mut out = Vec::new();
        let mut failed = None;
        for i in incidents {
            match self.ingest_one(i, raw_size, delivery, &mut starts).await {
                Ok(a) => out.push(a),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // Even when a later incident failed: the stored ones get their ladders.
        for s in starts {
            self.spawn_ladder(s, false);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    async fn ingest_one(
        &self,
        incident: Incident,
        raw_size: usize,
        delivery: u64,
        starts: &mut Vec<PendingStart>,
    ) -> Result<Accepted, ServiceError> {
        match incident.status {
            Status::Firing => self.firing(incident, raw_size, delivery, starts).await,
            Status::Resolved => {
                let id = self
                    .inner
                    .store
                    .resolve(&incident.fingerprint, "resolved at the source")
                    .await?;
                let action = match &id {
                    Some(id) => {
                        self.resolved(id, "resolved at the source");
                        self.stop_for(id, "incident resolved at the source").await
                    }
                    None => "no firing incident with this fingerprint".to_string(),
                };
                Ok(Accepted {
                    id: id.map(|i| i.to_string()).unwrap_or_default(),
                    status: Status::Resolved,
                    dialplan: None,
                    created: false,
                    action,
                })
            }
            Status::Acknowledged => {
                // Still failing, but a person has it at the source: stop escalating.
                let up = self.inner.store.upsert_firing(&incident, raw_size).await?;
                if up.created {
                    self.inner
                        .store
                        .set_ladder_state(
                            &up.id,
                            LadderState::Stopped,
                            Some("acknowledged at the source"),
                        )
                        .await?;
                } else {
                    self.stop_for(&up.id, "acknowledged at the source").await;
                }
                Ok(Accepted {
                    id: up.id.to_string(),
                    status: Status::Acknowledged,
                    dialplan: None,
                    created: up.created,
                    action: "acknowledged: no further calls".into(),
                })
            }
        }
    }

    async fn firing(
        &self,
        incident: Incident,
        raw_size: usize,
        delivery: u64,
        starts: &mut Vec<PendingStart>,
    ) -> Result<Accepted, ServiceError> {
        let plans = self.inner.plans();
        let routed = plans.route(&incident);
        let plan = routed.map(|p| p.id.as_str().to_string());
        // Same vendor line and asset as a running or queued ladder: join its call. Else a
        // new incident leads its own group, written with it: one transaction before the 202.
        let key = routed.and_then(|p| self.group_key(&incident, p));
        let leads = key.clone().filter(|k| self.groups().leader(k).is_none());
        let routing = Routing {
            dialplan: plan.clone(),
            leads: leads.clone(),
        };
        let up = self
            .inner
            .store
            .take_firing(&incident, raw_size, routing)
            .await?;
        if !up.created {
            return Ok(Accepted {
                id: up.id.to_string(),
                status: Status::Firing,
                dialplan: plan,
                created: false,
                action: "joined the existing incident (same fingerprint while firing)".into(),
            });
        }
        self.inner
            .metrics
            .incident(&incident.source, plan.as_deref().unwrap_or("unrouted"));
        // (The groups' lock is let go before any await: the leader is read into a value.)
        let leader = match (&key, &leads) {
            (Some(key), None) => self.groups().leader(key),
            _ => None,
        };
        if let (Some(key), Some(leader)) = (&key, leader) {
            let action = self.join(&up.id, &leader, key, incident).await?;
            return Ok(Accepted {
                id: up.id.to_string(),
                status: Status::Firing,
                dialplan: plan,
                created: true,
                action,
            });
        }
        let slot = routed.map(|p| self.ladder_slot(p, &incident, Some(delivery)));
        let action = match (&plan, &slot) {
            _ if self.is_stopping() => {
                "queued: hotline is restarting; the ladder starts when it is back".into()
            }
            (Some(p), Some(s)) if s.queued.is_some() => {
                let q = s.queued.as_ref().expect("guarded");
                format!(
                    "queued: {} (position {}); the {p} ladder starts when one ends",
                    super::ladder_wait::words(&q.full),
                    q.position
                )
            }
            (Some(p), _) => format!("calling the {p} ladder"),
            (None, _) => "unrouted: fallback ticket".into(),
        };
        // The group's leader ended while this was stored (rare): this one leads it now.
        if let Some(key) = &key {
            if leads.is_none() {
                self.inner.store.join_group(&up.id, &up.id, key).await?;
            }
            self.groups()
                .open(key, (up.id.clone(), incident.clone()), Vec::new());
        }
        starts.push(PendingStart {
            id: up.id.clone(),
            incident,
            plan: plan.clone(),
            slot,
        });
        Ok(Accepted {
            id: up.id.to_string(),
            status: Status::Firing,
            dialplan: plan,
            created: true,
            action,
        })
    }
}
