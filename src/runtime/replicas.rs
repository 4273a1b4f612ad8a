//! Several replicas on one PostgreSQL store (docs/replicas.md): a ladder runs where its
//! incident's lease is held. This task set renews the leases (a lost one stops its ladder
//! here), takes over expired ones (the dead replica's calls ended with a BYE from here,
//! its ladder resumed per `[ladder] after_restart`), and stops ladders another replica
//! resolved. NOTIFY wakes it; a one-second poll is the safety net. Nothing runs on SQLite
//! (one serve per store).

use super::service::Service;
use crate::store::{Backend, IncidentId, LEASE_TTL};
use std::time::Duration;

/// How often expired leases and stopped ladders are looked for without a notification.
const POLL: Duration = Duration::from_secs(1);

fn shared(svc: &Service) -> bool {
    svc.store().backend() == Backend::Postgres
}

/// Before a ladder runs here: its lease (PostgreSQL). `false`: another replica works it.
pub(super) async fn claim(svc: &Service, id: &IncidentId) -> bool {
    if !shared(svc) {
        return true;
    }
    match svc.store().claim(id, LEASE_TTL).await {
        Ok(Some(fence)) => {
            tracing::debug!(incident = %id, fence, "lease claimed");
            true
        }
        Ok(None) => {
            tracing::info!(incident = %id, "another replica works this ladder");
            false
        }
        Err(e) => {
            tracing::warn!(incident = %id, error = %e, "cannot claim the ladder's lease");
            false
        }
    }
}

/// After a ladder ended here: its lease is given up, unless a graceful stop cut it short
/// (then it expires and another replica resumes the ladder).
pub(super) async fn finished(svc: &Service, id: &IncidentId) {
    if shared(svc)
        && !svc.is_stopping()
        && let Err(e) = svc.store().release(id).await
    {
        tracing::warn!(incident = %id, error = %e, "cannot release the ladder's lease");
    }
}

/// Starts the heartbeat and the takeover watch (PostgreSQL only).
pub fn start(svc: &Service) {
    if !shared(svc) {
        return;
    }
    tracing::info!(
        replica = svc.store().replica(),
        "sharing the store with other replicas"
    );
    let beat = svc.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(LEASE_TTL / 3);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match beat.store().renew_leases(LEASE_TTL).await {
                Ok(lost) => {
                    for id in lost {
                        tracing::warn!(incident = %id, "lease lost: another replica took this ladder over");
                        beat.stop_ladder(&id, "lease lost: another replica took the ladder over")
                            .await;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew leases"),
            }
        }
    });
    let watch = svc.clone();
    tokio::spawn(async move {
        let mut notes = watch.store().listen();
        // Ladders already told to stop (a stop takes a moment to hang up and end).
        let mut told = std::collections::HashSet::new();
        loop {
            if !watch.is_stopping() {
                take_over(&watch).await;
                stop_resolved(&watch, &mut told).await;
            }
            match notes.as_mut() {
                Some(rx) => {
                    // A notification or the poll, whichever first.
                    let _ = tokio::time::timeout(POLL, rx.recv()).await;
                }
                None => tokio::time::sleep(POLL).await,
            }
        }
    });
}

/// Takes over every expired lease it can and resumes those ladders here.
async fn take_over(svc: &Service) {
    loop {
        let t = match svc.store().take_over(LEASE_TTL).await {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take over expired leases");
                return;
            }
        };
        let id = t.incident.id.clone();
        tracing::warn!(
            incident = %id, from = t.previous_owner, fence = t.fence,
            "took over a ladder whose replica stopped renewing its lease"
        );
        // The dead replica's calls may still be up at the far end: a BYE from here (the
        // dialog itself cannot move between hosts).
        if let Ok(dialogs) = svc.store().open_dialogs().await {
            for d in dialogs.into_iter().filter(|d| t.calls.contains(&d.call_id)) {
                let s = svc.clone();
                tokio::spawn(async move {
                    let ep = s.inner.ep.clone();
                    super::recover::end_stray_dialog(s.store(), &ep, &s.config(), d).await;
                });
            }
        }
        let Ok(Some(view)) = svc.store().incident(&id).await else {
            continue;
        };
        let incident = view.row.incident.clone();
        svc.restore_group(&id, &incident).await;
        svc.start_ladder(id, incident, t.incident.dialplan.clone(), true);
    }
}

/// Stops the ladders here whose incident another replica resolved or acknowledged.
async fn stop_resolved(svc: &Service, told: &mut std::collections::HashSet<IncidentId>) {
    match svc.store().held_stopped().await {
        Ok(stopped) => {
            told.retain(|id| stopped.iter().any(|(s, _)| s == id));
            for (id, why) in stopped {
                if told.insert(id.clone()) {
                    svc.stop_ladder(&id, &why).await;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot check for stopped ladders"),
    }
}
