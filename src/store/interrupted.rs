//! At start: what the last run left half done. Ladders that were running and calls that had
//! not ended are marked interrupted, with a reason, and returned so the service can resume or
//! report them. (The WAVs and sidecars are repaired by `app::recover`.)

use super::Store;
use super::codec::ts;
use super::error::StoreError;
use super::id::IncidentId;
use super::model::{Interrupted, InterruptedCall, InterruptedIncident};
use super::worker::Db;
use chrono::{DateTime, Utc};
use rusqlite::{TransactionBehavior, params};
use serde_json::{Value, json};

/// Why a ladder or a call is marked interrupted.
const REASON: &str = "interrupted: hotline stopped while it ran";

fn mark(db: &mut Db, now: DateTime<Utc>) -> Result<Interrupted, StoreError> {
    let now = ts(now);
    let tx = db
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut found = Interrupted::default();

    let running: Vec<(String, String, Option<String>)> = {
        let mut stmt = tx.prepare(
            "SELECT id, fingerprint, dialplan FROM incidents
             WHERE ladder_state = 'running' ORDER BY id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, fingerprint, dialplan) in running {
        let open_steps: Vec<u32> = {
            let mut stmt = tx.prepare(
                "SELECT seq FROM ladder_steps WHERE incident_id = ?1 AND outcome IS NULL
                 ORDER BY seq",
            )?;
            stmt.query_map([&id], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE ladder_steps SET outcome = 'failed', reason = ?2, ended_at = ?3
             WHERE incident_id = ?1 AND outcome IS NULL",
            params![id, REASON, now],
        )?;
        tx.execute(
            "UPDATE incidents SET ladder_state = 'interrupted', ladder_reason = ?2,
                 updated_at = ?3
             WHERE id = ?1",
            params![id, REASON, now],
        )?;
        found.incidents.push(InterruptedIncident {
            id: IncidentId::from_db(id),
            fingerprint,
            dialplan,
            open_steps,
        });
    }

    let open: Vec<(String, Option<String>, String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT call_id, incident_id, recording_path, record_json FROM calls
             WHERE ended_at IS NULL AND interrupted = 0 ORDER BY call_id",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    };
    for (call_id, incident_id, recording_path, record_json) in open {
        // The same marks `app::recover` puts in the sidecar, so both copies agree.
        let mut record: Value = serde_json::from_str(&record_json)?;
        record["interrupted"] = json!(true);
        record["termination"] = json!({"result": "failed", "reason": REASON});
        tx.execute(
            "UPDATE calls SET interrupted = 1, result = 'failed', reason = ?2,
                 record_json = ?3, updated_at = ?4
             WHERE call_id = ?1",
            params![call_id, REASON, serde_json::to_string(&record)?, now],
        )?;
        found.calls.push(InterruptedCall {
            call_id,
            incident_id: incident_id.map(IncidentId::from_db),
            recording_path,
        });
    }
    tx.commit()?;
    Ok(found)
}

impl Store {
    /// Run once at start, before any ladder or call: marks every ladder left `running` as
    /// `interrupted` (closing its open steps as failed) and every call that never ended as
    /// interrupted and failed, all with a reason, and returns them. A second call finds
    /// nothing. Only for the sole hotline on this database: another one running would have
    /// its live work marked.
    pub async fn interrupted_on_start(&self) -> Result<Interrupted, StoreError> {
        self.worker.call(|db| mark(db, Utc::now())).await
    }
}
