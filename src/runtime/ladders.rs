//! The service's running ladders: start (after room under the caps), stop, resolve, an
//! operator's dial, the graceful drain on shutdown, and resuming what a stop cut short.

use super::ladder_task::run_ladder;
use super::service::{Accepted, LadderCmd, PendingStart, Service, ServiceError};
use crate::incident::{Incident, Status};
use crate::store::IncidentId;
use std::collections::HashMap;
use tokio::sync::mpsc;

impl Service {
    /// True once a graceful stop began: no ladder starts (incidents wait, stored, for the
    /// next start).
    pub fn is_stopping(&self) -> bool {
        self.inner
            .shutting_down
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts the ladder task of an incident (or its fallback when unrouted); `resumed`: a
    /// stop cut it short and it picks up where it was. It waits for room under the
    /// dialplan's ladder cap first.
    pub(super) fn start_ladder(
        &self,
        id: IncidentId,
        incident: Incident,
        plan: Option<String>,
        resumed: bool,
    ) {
        let plans = self.inner.plans();
        let slot = plan
            .as_deref()
            .and_then(|p| plans.get(p))
            .map(|p| self.ladder_slot(p, &incident, None));
        let start = PendingStart {
            id,
            incident,
            plan,
            slot,
        };
        self.spawn_ladder(start, resumed);
    }

    pub(super) fn spawn_ladder(&self, start: PendingStart, resumed: bool) {
        if self.is_stopping() {
            return;
        }
        let PendingStart {
            id,
            incident,
            plan,
            slot,
        } = start;
        let (tx, rx) = mpsc::channel(8);
        self.ladders().insert(id.to_string(), tx);
        let svc = self.clone();
        tokio::spawn(async move {
            // Replicas on one database: only the lease holder works the ladder.
            if super::replicas::claim(&svc, &id).await {
                run_ladder(svc.clone(), id.clone(), incident, plan, rx, resumed, slot).await;
                super::replicas::finished(&svc, &id).await;
            }
            svc.ladders().remove(id.as_str());
            // A group whose ladder ended without ladder_finished (unrouted, stopped queued).
            svc.groups().close(&id);
        });
    }

    pub(super) async fn stop_ladder(&self, id: &IncidentId, reason: &str) {
        let tx = self.ladders().get(id.as_str()).cloned();
        if let Some(tx) = tx {
            let _ = tx.send(LadderCmd::Stop(reason.to_string())).await;
        }
    }

    /// Resolves an incident by id (API).
    pub async fn resolve(&self, id: &IncidentId, reason: &str) -> Result<(), ServiceError> {
        let view = self
            .inner
            .store
            .incident(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no incident {id}")))?;
        self.inner
            .store
            .resolve(&view.row.fingerprint, reason)
            .await?;
        self.resolved(id, reason);
        self.stop_for(id, reason).await;
        Ok(())
    }

    pub(super) fn resolved(&self, id: &IncidentId, reason: &str) {
        let data = serde_json::json!({ "reason": reason, "at": chrono::Utc::now() });
        self.inner.events.publish(&id.to_string(), "resolved", data);
    }

    /// Starts a dialplan's ladder by hand (API): still only its whitelisted contacts.
    pub async fn dial(
        &self,
        plan_id: &str,
        summary: Option<String>,
    ) -> Result<Accepted, ServiceError> {
        if self.inner.plans().get(plan_id).is_none() {
            return Err(ServiceError::NotFound(format!("no dialplan \"{plan_id}\"")));
        }
        let mut incident = Incident {
            source: "manual".into(),
            fingerprint: format!("manual-{:016x}", rand::random::<u64>()),
            ..Default::default()
        };
        incident.fault.summary = summary.unwrap_or_else(|| "manual call".into());
        let up = self.inner.store.upsert_firing(&incident, 0).await?;
        self.inner.store.set_routing(&up.id, Some(plan_id)).await?;
        self.start_ladder(up.id.clone(), incident, Some(plan_id.to_string()), false);
        let action = if self.is_stopping() {
            "queued: hotline is restarting; the ladder starts when it is back".into()
        } else {
            format!("calling the {plan_id} ladder")
        };
        Ok(Accepted {
            id: up.id.to_string(),
            status: Status::Firing,
            dialplan: Some(plan_id.to_string()),
            created: true,
            action,
        })
    }

    /// First stage of a graceful stop (SIGTERM): no new ladder or step; live calls go on for
    /// up to `[ladder] drain`, then are hung up with a reason; waits until every ladder has
    /// closed its call, stored it and sealed it. The next start resumes the ladders.
    pub async fn shutdown(&self) {
        self.inner
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let drain = self.config().ladder.drain;
        let until = tokio::time::Instant::now() + drain;
        let all: Vec<_> = self.ladders().values().cloned().collect();
        if !all.is_empty() {
            tracing::warn!(
                ladders = all.len(),
                drain = ?drain,
                "draining: no new ladder steps; live calls may go on until the drain time"
            );
        }
        for tx in all {
            let _ = tx.send(LadderCmd::Drain { until }).await;
        }
        // Bounded: the drain, then the BYE's own transaction (64*T1) and sealing.
        let give_up = until + std::time::Duration::from_secs(40);
        let busy = || {
            !self.ladders().is_empty()
                || self
                    .inner
                    .side_calls
                    .load(std::sync::atomic::Ordering::Relaxed)
                    > 0
        };
        while busy() && tokio::time::Instant::now() < give_up {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// After a stop: completes the calls it cut short (WAV repaired; an answered call's
    /// orphaned dialog ended with a BYE, its outcome on the call's timeline; sealed), waits a
    /// few seconds for those BYEs so a redial does not find the line still held, then resumes
    /// every ladder a stop cut short from where it was. Returns how many it resumed.
    pub async fn resume_interrupted(&self) -> Result<usize, ServiceError> {
        let inner = &self.inner;
        let found = inner.store.interrupted_on_start().await?;
        let mut dialogs: HashMap<String, crate::store::StoredDialog> = inner
            .store
            .open_dialogs()
            .await?
            .into_iter()
            .map(|d| (d.call_id.clone(), d))
            .collect();
        let mut prepared = Vec::new();
        for call in &found.calls {
            if let Some(p) = super::recover::prepare_call(&inner.store, call).await {
                prepared.push(p);
            }
        }
        let mut tasks = Vec::new();
        let recovered: std::collections::HashSet<String> =
            found.calls.iter().map(|c| c.call_id.clone()).collect();
        for p in prepared {
            let dialog = dialogs.remove(&p.call_id);
            let svc = self.clone();
            tasks.push(tokio::spawn(async move {
                let i = &svc.inner;
                super::recover::finish_call(&i.store, &i.ep, &svc.config(), p, dialog).await;
            }));
        }
        for (_, d) in dialogs {
            let svc = self.clone();
            tasks.push(tokio::spawn(async move {
                let i = &svc.inner;
                super::recover::end_stray_dialog(&i.store, &i.ep, &svc.config(), d).await;
            }));
        }
        // Sidecars no stored call covers (a killed `hotline dial`, an older store).
        let dir = self.config().recording.dir.clone();
        let _ = tokio::task::spawn_blocking(move || {
            super::recover::recover_recordings_except(&dir, &recovered)
        })
        .await;
        // Before the ladders resume: the far end has had the BYE (bounded; a BYE still
        // unanswered goes on in the background until its Timer F).
        let deadline = tokio::time::Instant::now() + ORPHAN_WAIT;
        for t in &mut tasks {
            if tokio::time::timeout_at(deadline, t).await.is_err() {
                tracing::warn!("an orphaned call's BYE is still unanswered; resuming anyway");
                break;
            }
        }
        let mut n = 0;
        for i in found.incidents {
            let Some(view) = inner.store.incident(&i.id).await? else {
                continue;
            };
            let incident = view.row.incident.clone();
            // The ladder task marks it running again as it starts.
            tracing::warn!(incident = %i.id, "resuming a ladder a stop cut short");
            self.restore_group(&i.id, &incident).await;
            self.start_ladder(i.id.clone(), incident, i.dialplan.clone(), true);
            n += 1;
        }
        Ok(n)
    }
}

/// How long a restart waits for the BYEs of orphaned calls before resuming ladders.
const ORPHAN_WAIT: std::time::Duration = std::time::Duration::from_secs(4);
