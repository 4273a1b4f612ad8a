//! At start: what the last run left half done. Ladders that were running and calls that had
//! not ended are marked interrupted, with a reason; every firing incident whose ladder a stop
//! cut short (a crash, or a graceful stop that drained it) is returned to be resumed, and
//! every interrupted call not yet sealed is returned to be recovered (`runtime::recover`: WAV
//! repaired, orphaned dialog ended with a BYE, sealed).

use super::Store;
use super::codec::ts;
use super::conn::{Backend, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::leases::{Held, LEASE_TTL, claim_in, live_lease};
use super::model::{Interrupted, InterruptedCall, InterruptedIncident};
use super::worker::Db;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Why a ladder or a call is marked interrupted.
const REASON: &str = "interrupted: hotline stopped while it ran";

fn mark(db: &mut Db, now: DateTime<Utc>, held: &Held) -> Result<Interrupted, StoreError> {
    let now = ts(now);
    let tx = db.conn.begin()?;
    let mut found = Interrupted::default();
    // On PostgreSQL, only what no live replica holds (an expired lease, or none): never a
    // live replica's ladders, calls or dialogs.
    let live = live_lease(&tx, "incidents.id", &held.owner);

    let running: Vec<String> = tx
        .query(
            &format!(
                "SELECT id FROM incidents WHERE ladder_state = 'running' AND NOT {live}
                 ORDER BY id"
            ),
            &[],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_, _>>()?;
    let mut open_steps: Vec<(String, Vec<u32>)> = Vec::new();
    for id in running {
        let steps: Vec<u32> = tx
            .query(
                "SELECT seq FROM ladder_steps WHERE incident_id = ?1 AND outcome IS NULL
                   AND ended_at IS NULL
                 ORDER BY seq",
                args![id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_, _>>()?;
        tx.execute(
            "UPDATE ladder_steps SET outcome = 'failed', reason = ?2, ended_at = ?3,
                 interrupted = 1
             WHERE incident_id = ?1 AND outcome IS NULL AND ended_at IS NULL",
            args![id, REASON, now],
        )?;
        tx.execute(
            "UPDATE incidents SET ladder_state = 'interrupted', ladder_reason = ?2,
                 updated_at = ?3
             WHERE id = ?1",
            args![id, REASON, now],
        )?;
        open_steps.push((id, steps));
    }

    // Every firing incident a stop cut short, and routed ones whose ladder never started (a
    // webhook taken while a graceful stop drained); a resolved group leader whose members
    // still fire too (its ladder calls for them).
    let resumable: Vec<(String, String, Option<String>)> = tx
        .query(
            &format!(
                "SELECT id, fingerprint, dialplan FROM incidents
             WHERE (status = 'firing'
                    OR id IN (SELECT g.leader_id FROM incident_groups g
                              JOIN incidents m ON m.id = g.member_id
                              WHERE m.status = 'firing'))
               AND (ladder_state = 'interrupted'
                    OR (ladder_state = 'pending' AND route IS NOT NULL))
               AND NOT {live}
             ORDER BY id"
            ),
            &[],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect::<Result<_, StoreError>>()?;
    let sqlite = tx.backend() == Backend::Sqlite;
    let mut claimed = Vec::new();
    for (id, fingerprint, dialplan) in resumable {
        // Claimed here, in the same transaction: no other replica's takeover resumes it too.
        let Some(fence) = claim_in(&tx, &held.owner, &id, LEASE_TTL, sqlite)? else {
            continue;
        };
        claimed.push((id.clone(), fence));
        let open_steps = open_steps
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        found.incidents.push(InterruptedIncident {
            id: IncidentId::from_db(id),
            fingerprint,
            dialplan,
            open_steps,
        });
    }

    let call_live = live_lease(&tx, "calls.incident_id", &held.owner);
    let open: Vec<(String, String)> = tx
        .query(
            &format!(
                "SELECT call_id, record_json FROM calls
                 WHERE ended_at IS NULL AND interrupted = 0
                   AND (incident_id IS NULL OR NOT {call_live})
                 ORDER BY call_id"
            ),
            &[],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<Result<_, StoreError>>()?;
    for (call_id, record_json) in open {
        // The same marks `runtime::recover` puts in the sidecar, so both copies agree.
        let mut record: Value = serde_json::from_str(&record_json)?;
        record["interrupted"] = json!(true);
        record["termination"] = json!({"result": "failed", "reason": REASON});
        tx.execute(
            "UPDATE calls SET interrupted = 1, result = 'failed', reason = ?2,
                 record_json = ?3, updated_at = ?4
             WHERE call_id = ?1",
            args![call_id, REASON, serde_json::to_string(&record)?, now],
        )?;
    }

    // Interrupted calls not sealed yet: this start's, and any an earlier start did not finish.
    let unsealed: Vec<(String, Option<String>, String)> = tx
        .query(
            "SELECT call_id, incident_id, recording_path FROM calls c
             WHERE interrupted = 1
               AND NOT EXISTS (SELECT 1 FROM audit_chain a
                               WHERE a.kind = 'call' AND a.subject = c.call_id)
             ORDER BY call_id",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect::<Result<_, StoreError>>()?;
    for (call_id, incident_id, recording_path) in unsealed {
        found.calls.push(InterruptedCall {
            call_id,
            incident_id: incident_id.map(IncidentId::from_db),
            recording_path,
        });
    }
    tx.commit()?;
    for (id, fence) in claimed {
        held.hold(&id, fence);
    }
    Ok(found)
}

impl Store {
    /// Run once at start, before any ladder or call: marks every ladder left `running` as
    /// `interrupted` (closing its open steps as failed and interrupted) and every call that
    /// never ended as interrupted and failed, all with a reason. Returns the firing incidents
    /// to resume (interrupted by any stop, or routed and never started) and the interrupted
    /// calls not yet sealed. Until a resumed ladder runs and the calls are sealed, the next
    /// start finds them again. Only for the sole hotline on this database: another one
    /// running would have its live work marked.
    pub async fn interrupted_on_start(&self) -> Result<Interrupted, StoreError> {
        let held = self.held.clone();
        self.worker
            .call(move |db| mark(db, Utc::now(), &held))
            .await
    }

    /// Marks step `seq` as cut short by a stop (its call hung up when the drain time ran
    /// out): the next start applies `[ladder] after_restart` to its contact.
    pub async fn mark_step_interrupted(&self, id: &IncidentId, seq: u32) -> Result<(), StoreError> {
        let (id, held) = (id.clone(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                super::leases::check_fence(&tx, &held, id.as_str())?;
                tx.execute(
                    "UPDATE ladder_steps SET interrupted = 1, state = 'interrupted'
                     WHERE incident_id = ?1 AND seq = ?2",
                    args![id.as_str(), seq],
                )?;
                tx.commit()
            })
            .await
    }

    /// Rewrites a call's stored record (and its timeline rows) from its JSON: used by crash
    /// recovery, which completes the record of a call whose task is gone.
    pub async fn replace_record(&self, call_id: &str, record: &Value) -> Result<(), StoreError> {
        let call_id = call_id.to_string();
        let text = serde_json::to_string(record)?;
        let events: Vec<(String, f64, String, String)> = record["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["at"].as_str().unwrap_or_default().to_string(),
                            e["offset_ms"].as_f64().unwrap_or_default(),
                            e["kind"].as_str().unwrap_or_default().to_string(),
                            e.to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let answered_at = record
            .pointer("/stages/answered")
            .and_then(Value::as_str)
            .map(str::to_string);
        let result = record
            .pointer("/termination/result")
            .and_then(Value::as_str)
            .map(str::to_string);
        let reason = record
            .pointer("/termination/reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.worker
            .call(move |db| {
                let now = ts(Utc::now());
                let tx = db.conn.begin()?;
                let n = tx.execute(
                    "UPDATE calls SET record_json = ?2, answered_at = COALESCE(?3, answered_at),
                         result = COALESCE(?4, result), reason = COALESCE(?5, reason),
                         updated_at = ?6
                     WHERE call_id = ?1",
                    args![call_id, text, answered_at, result, reason, now],
                )?;
                if n == 0 {
                    return Err(StoreError::NoCall(call_id.clone()));
                }
                tx.execute("DELETE FROM call_events WHERE call_id = ?1", args![call_id])?;
                for (seq, (at, offset, kind, json)) in events.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO call_events (call_id, seq, at, offset_ms, kind, event_json)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        args![call_id, seq as i64, at, offset, kind, json],
                    )?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}
