//! Work claiming across replicas: a ladder runs on the replica holding its incident's lease.
//!
//! A lease has an owner (this process's replica name), an expiry on the database's clock
//! (renewed by the owner's heartbeat) and a fencing number that grows at every claim. The
//! store remembers the fence of each lease it holds and checks it inside every ladder write
//! (`check_fence`: steps, their ends, the ladder's state), so a replica that lost its lease
//! (paused, cut off, presumed dead) cannot write over the one that took it over. An expired
//! lease is taken over whole in one transaction: the attempt the dead owner left `dialing` is
//! marked interrupted, its calls too, and the ladder is handed back to resume per policy.

use super::Store;
use super::codec::ts;
use super::conn::{Conn, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::model::InterruptedIncident;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How long a lease lasts without renewal; the owner renews it every third of that. A
/// replica that dies leaves its ladders to another within this (plus one poll).
pub const LEASE_TTL: Duration = Duration::from_secs(5);

/// The leases this process holds: its replica name and, per incident, the fence it claimed.
#[derive(Debug)]
pub(super) struct Held {
    pub owner: String,
    fences: Mutex<HashMap<String, i64>>,
}

impl Held {
    pub fn new() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        Self {
            owner: format!(
                "{host}-{}-{:04x}",
                std::process::id(),
                rand::random::<u16>()
            ),
            fences: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.fences.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn fence(&self, id: &str) -> Option<i64> {
        self.map().get(id).copied()
    }

    /// A lease another replica took over: its fence becomes 0 (no lease has it), so this
    /// process's writes about the incident stay refused until its ladder is gone.
    fn lost(&self, id: &str) {
        self.map().insert(id.to_string(), 0);
    }

    pub(super) fn hold(&self, id: &str, fence: i64) {
        self.map().insert(id.to_string(), fence);
    }

    fn drop_lease(&self, id: &str) {
        self.map().remove(id);
    }
}

/// Fails with `LeaseLost` when this process holds a lease on `incident` whose fence is no
/// longer the database's (another replica took it over). Writes about incidents this
/// process holds no lease on are not fenced (a resolve from any replica, SQLite's single
/// process before any claim).
pub(super) fn check_fence(conn: &Conn, held: &Held, incident: &str) -> Result<(), StoreError> {
    let Some(fence) = held.fence(incident) else {
        return Ok(());
    };
    let ok = conn
        .query_opt(
            "SELECT 1 FROM leases WHERE incident_id = ?1 AND fence = ?2 AND owner = ?3",
            args![incident, fence, held.owner],
        )?
        .is_some();
    if ok {
        Ok(())
    } else {
        held.lost(incident);
        Err(StoreError::LeaseLost(incident.to_string()))
    }
}

/// SQL true when `col`'s incident has a lease another process (not `me`) still holds.
/// Always false on SQLite: one serve per file (flock), so any lease there is a dead
/// process's.
pub(super) fn live_lease(conn: &Conn, col: &str, me: &str) -> String {
    match conn.backend() {
        super::conn::Backend::Sqlite => "0 = 1".into(),
        super::conn::Backend::Postgres => format!(
            "EXISTS (SELECT 1 FROM leases l WHERE l.incident_id = {col}
                     AND l.expires_ms >= {} AND l.owner <> '{}')",
            conn.now_ms(),
            me.replace('\'', "''")
        ),
    }
}

/// Claims `incident`'s lease for `owner` if it is free, expired or already `owner`'s; returns
/// the fence (a new one unless it was already held by `owner`).
pub(super) fn claim_in(
    conn: &Conn,
    owner: &str,
    incident: &str,
    ttl: Duration,
    take_live: bool,
) -> Result<Option<i64>, StoreError> {
    let now = conn.now_ms();
    let ttl_ms = ttl.as_millis() as i64;
    // take_live (SQLite start-up): whatever a lease says, its owner is gone.
    let free = if take_live {
        "1 = 1".to_string()
    } else {
        format!("leases.expires_ms < {now}")
    };
    let row = conn.query_opt(
        &format!(
            "INSERT INTO leases (incident_id, owner, fence, claimed_ms, expires_ms)
             VALUES (?1, ?2, 1, {now}, {now} + ?3)
             ON CONFLICT (incident_id) DO UPDATE SET
                 fence = CASE WHEN leases.owner = excluded.owner THEN leases.fence
                              ELSE leases.fence + 1 END,
                 owner = excluded.owner, claimed_ms = excluded.claimed_ms,
                 expires_ms = excluded.expires_ms
             WHERE leases.owner = excluded.owner OR {free}
             RETURNING fence"
        ),
        args![incident, owner, ttl_ms],
    )?;
    row.map(|r| r.get(0)).transpose()
}

/// What taking over an expired lease found: the ladder to resume, and the calls the dead
/// owner left up (their dialogs may still be open at the far end).
#[derive(Clone, Debug)]
pub struct Takeover {
    pub incident: InterruptedIncident,
    /// The replica whose lease expired.
    pub previous_owner: String,
    /// The new fence.
    pub fence: i64,
    /// Calls that were live on the dead owner, now marked interrupted.
    pub calls: Vec<String>,
}

fn take_over(conn: &Conn, held: &Held, ttl: Duration) -> Result<Option<Takeover>, StoreError> {
    let tx = conn.begin()?;
    let now = conn.now_ms();
    let found = tx.query_opt(
        &format!(
            "SELECT l.incident_id, l.owner, i.fingerprint, i.dialplan FROM leases l
             JOIN incidents i ON i.id = l.incident_id
             WHERE l.expires_ms < {now} AND l.owner <> ?1
               AND i.ladder_state IN ('running', 'pending', 'interrupted')
               AND (i.status = 'firing'
                    OR i.id IN (SELECT g.leader_id FROM incident_groups g
                                JOIN incidents m ON m.id = g.member_id
                                WHERE m.status = 'firing'))
             ORDER BY l.expires_ms LIMIT 1 {}",
            match conn.backend() {
                super::conn::Backend::Sqlite => "",
                super::conn::Backend::Postgres => "FOR UPDATE OF l SKIP LOCKED",
            }
        ),
        args![held.owner],
    )?;
    let Some(found) = found else {
        return Ok(None);
    };
    let (id, previous_owner): (String, String) = (found.get(0)?, found.get(1)?);
    let (fingerprint, dialplan): (String, Option<String>) = (found.get(2)?, found.get(3)?);
    let Some(fence) = claim_in(&tx, &held.owner, &id, ttl, false)? else {
        return Ok(None);
    };
    let at = ts(Utc::now());
    let reason = format!("interrupted: replica {previous_owner} stopped renewing its lease");
    let open_steps: Vec<u32> = tx
        .query(
            "SELECT seq FROM ladder_steps WHERE incident_id = ?1 AND outcome IS NULL
               AND ended_at IS NULL ORDER BY seq",
            args![id],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_, _>>()?;
    tx.execute(
        "UPDATE ladder_steps SET outcome = 'failed', reason = ?2, ended_at = ?3,
             interrupted = 1, state = 'interrupted'
         WHERE incident_id = ?1 AND outcome IS NULL AND ended_at IS NULL",
        args![id, reason, at],
    )?;
    tx.execute(
        "UPDATE incidents SET ladder_state = 'interrupted', ladder_reason = ?2, updated_at = ?3
         WHERE id = ?1",
        args![id, reason, at],
    )?;
    let open: Vec<(String, String)> = tx
        .query(
            "SELECT call_id, record_json FROM calls
             WHERE incident_id = ?1 AND ended_at IS NULL AND interrupted = 0 ORDER BY call_id",
            args![id],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    for (call_id, record_json) in &open {
        let mut record: Value = serde_json::from_str(record_json)?;
        record["interrupted"] = json!(true);
        record["termination"] = json!({"result": "failed", "reason": reason});
        tx.execute(
            "UPDATE calls SET interrupted = 1, result = 'failed', reason = ?2,
                 record_json = ?3, updated_at = ?4
             WHERE call_id = ?1",
            args![call_id, reason, serde_json::to_string(&record)?, at],
        )?;
    }
    tx.commit()?;
    held.hold(&id, fence);
    Ok(Some(Takeover {
        incident: InterruptedIncident {
            id: IncidentId::from_db(id),
            fingerprint,
            dialplan,
            open_steps,
        },
        previous_owner,
        fence,
        calls: open.into_iter().map(|(c, _)| c).collect(),
    }))
}

impl Store {
    /// This process's replica name (lease owner).
    pub fn replica(&self) -> &str {
        &self.held.owner
    }

    /// Whether this process held `id`'s lease and lost it to another replica (its ladder
    /// must not place another call here).
    pub fn lease_lost(&self, id: &IncidentId) -> bool {
        self.held.fence(id.as_str()) == Some(0)
    }

    /// How many leases this process holds (for `/readyz`).
    pub fn leases_held(&self) -> usize {
        self.held.map().values().filter(|f| **f > 0).count()
    }

    /// Claims the lease on `id`'s ladder for `ttl`: `Some(fence)` if this process holds it
    /// now (it was free, expired or already ours), `None` if another replica holds it.
    pub async fn claim(&self, id: &IncidentId, ttl: Duration) -> Result<Option<i64>, StoreError> {
        let (id, held) = (id.clone(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                let fence = claim_in(&tx, &held.owner, id.as_str(), ttl, false)?;
                tx.commit()?;
                if let Some(f) = fence {
                    held.hold(id.as_str(), f);
                }
                Ok(fence)
            })
            .await
    }

    /// Renews every lease this process holds by `ttl`; returns those it lost (another
    /// replica took them over: their ladders must stop here).
    pub async fn renew_leases(&self, ttl: Duration) -> Result<Vec<IncidentId>, StoreError> {
        let held = self.held.clone();
        let mine: Vec<(String, i64)> = held
            .map()
            .iter()
            .filter(|(_, f)| **f > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        self.worker
            .call(move |db| {
                let now = db.conn.now_ms();
                let mut lost = Vec::new();
                for (id, fence) in &mine {
                    let n = db.conn.execute(
                        &format!(
                            "UPDATE leases SET expires_ms = {now} + ?4
                             WHERE incident_id = ?1 AND owner = ?2 AND fence = ?3"
                        ),
                        args![id, held.owner, fence, ttl.as_millis() as i64],
                    )?;
                    if n == 0 {
                        held.lost(id);
                        lost.push(IncidentId::from_db(id.clone()));
                    }
                }
                Ok(lost)
            })
            .await
    }

    /// Gives up the lease on `id` (its ladder ended here, or a graceful stop hands it on).
    pub async fn release(&self, id: &IncidentId) -> Result<(), StoreError> {
        let (id, held) = (id.clone(), self.held.clone());
        let Some(fence) = held.fence(id.as_str()) else {
            return Ok(());
        };
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "DELETE FROM leases WHERE incident_id = ?1 AND owner = ?2 AND fence = ?3",
                    args![id.as_str(), held.owner, fence],
                )?;
                held.drop_lease(id.as_str());
                Ok(())
            })
            .await
    }

    /// Notifications from the other replicas (`stop <incident>`, `wake`); `None` on SQLite.
    pub fn listen(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        self.worker.pg().map(|p| p.listen())
    }

    /// Of the ladders this process holds, those the database says are stopped (resolved or
    /// acknowledged through another replica), with the reason.
    pub async fn held_stopped(&self) -> Result<Vec<(IncidentId, String)>, StoreError> {
        let mine: Vec<String> = self.held.map().keys().cloned().collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        self.worker
            .call(move |db| {
                let mut out = Vec::new();
                for id in &mine {
                    let row = db.conn.query_opt(
                        "SELECT ladder_reason FROM incidents
                         WHERE id = ?1 AND ladder_state = 'stopped'",
                        args![id],
                    )?;
                    if let Some(r) = row {
                        let why: Option<String> = r.get(0)?;
                        out.push((
                            IncidentId::from_db(id.clone()),
                            why.unwrap_or_else(|| "stopped".into()),
                        ));
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Takes over one expired lease of a ladder still to be worked (skipping rows another
    /// replica is taking at the same moment): its open attempt and live calls are marked
    /// interrupted, and the ladder is handed back to be resumed here.
    pub async fn take_over(&self, ttl: Duration) -> Result<Option<Takeover>, StoreError> {
        let held = self.held.clone();
        self.worker
            .call(move |db| take_over(&db.conn, &held, ttl))
            .await
    }
}
