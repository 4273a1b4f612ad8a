//! Ladder steps: one row per contact attempt, appended when it starts and closed when it ends.

use super::Store;
use super::calls::{CallRow, write_call};
use super::codec::require_incident;
use super::codec::{outcome_name, parse_outcome, parse_ts, parse_ts_opt, ts};
use super::conn::{Conn, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::leases::{Held, check_fence};
use super::model::{LadderStep, NewStep, StepEnd, StepStart};
use crate::call::CallRecord;
use chrono::Utc;

/// Appends a step inside the caller's transaction (the incident must exist and its lease,
/// if any, be ours); returns its number.
fn insert_step(
    tx: &Conn,
    held: &Held,
    id: &IncidentId,
    step: &NewStep,
    queued: Option<&(u64, String)>,
) -> Result<u32, StoreError> {
    require_incident(tx, id)?;
    check_fence(tx, held, id.as_str())?;
    let seq: u32 = tx
        .query_one(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM ladder_steps WHERE incident_id = ?1",
            args![id.as_str()],
        )?
        .get(0)?;
    tx.execute(
        "INSERT INTO ladder_steps (incident_id, seq, contact, attempt, started_at,
                                   call_id, state, fence, queued_ms, queue_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        args![
            id.as_str(),
            seq,
            step.contact,
            step.attempt,
            ts(step.started_at),
            step.call_id,
            // Committed before the INVITE leaves (runtime::ladder_calls::place).
            step.call_id.as_ref().map(|_| "dialing"),
            held.fence(id.as_str()),
            queued.map(|(ms, _)| i64::try_from(*ms).unwrap_or(i64::MAX)),
            queued.map(|(_, why)| why.as_str()),
        ],
    )?;
    Ok(seq)
}

/// The steps of one incident, in order.
pub(super) fn steps_of(conn: &Conn, incident_id: &str) -> Result<Vec<LadderStep>, StoreError> {
    let rows = conn.query(
        "SELECT seq, contact, attempt, started_at, outcome, reason, call_id, ended_at,
                interrupted, queued_ms, queue_reason
         FROM ladder_steps WHERE incident_id = ?1 ORDER BY seq",
        args![incident_id],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(LadderStep {
            seq: r.get(0)?,
            contact: r.get(1)?,
            attempt: r.get(2)?,
            started_at: parse_ts("started_at", r.get(3)?)?,
            outcome: r
                .get::<Option<String>>(4)?
                .map(|s| parse_outcome("outcome", s))
                .transpose()?,
            reason: r.get(5)?,
            call_id: r.get(6)?,
            ended_at: parse_ts_opt("ended_at", r.get(7)?)?,
            interrupted: r.get(8)?,
            queued_ms: r.get::<Option<i64>>(9)?.map(|v| v.max(0) as u64),
            queue_reason: r.get(10)?,
        });
    }
    Ok(out)
}

impl Store {
    /// Appends a step to an incident's ladder; returns its number (1, 2, ...).
    pub async fn append_step(&self, id: &IncidentId, step: NewStep) -> Result<u32, StoreError> {
        let (id, held) = (id.clone(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                let seq = insert_step(&tx, &held, &id, &step, None)?;
                tx.commit()?;
                Ok(seq)
            })
            .await
    }

    /// A ladder's call about to be dialled, in one transaction (one fsync before the
    /// INVITE): `with`'s ladder state and briefing text, the step (with its wait for room)
    /// and the call's first record. Returns the step's number.
    pub async fn start_call(
        &self,
        id: &IncidentId,
        step: NewStep,
        call: &CallRecord,
        with: StepStart,
    ) -> Result<u32, StoreError> {
        let row = CallRow::new(call, Some(id))?;
        let (id, held) = (id.clone(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                let seq = insert_step(&tx, &held, &id, &step, with.queued.as_ref())?;
                let now = ts(Utc::now());
                if with.running {
                    tx.execute(
                        "UPDATE incidents SET ladder_state = 'running', ladder_reason = NULL,
                             updated_at = ?2
                         WHERE id = ?1",
                        args![id.as_str(), now],
                    )?;
                }
                if let Some(text) = &with.briefing_text {
                    tx.execute(
                        "UPDATE incidents SET briefing_text = ?2 WHERE id = ?1",
                        args![id.as_str(), text],
                    )?;
                }
                write_call(&tx, &row)?;
                tx.commit()?;
                Ok(seq)
            })
            .await
    }

    /// Records that step `seq`'s call waited `queued_ms` for room before it was placed.
    pub async fn note_queue_wait(
        &self,
        id: &IncidentId,
        seq: u32,
        queued_ms: u64,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (id, reason, held) = (id.clone(), reason.to_string(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                check_fence(&tx, &held, id.as_str())?;
                tx.execute(
                    "UPDATE ladder_steps SET queued_ms = ?3, queue_reason = ?4
                     WHERE incident_id = ?1 AND seq = ?2",
                    args![id.as_str(), seq, queued_ms as i64, reason],
                )?;
                tx.commit()
            })
            .await
    }

    /// Records how step `seq` of an incident's ladder ended.
    pub async fn finish_step(
        &self,
        id: &IncidentId,
        seq: u32,
        end: StepEnd,
    ) -> Result<(), StoreError> {
        let (id, held) = (id.clone(), self.held.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                check_fence(&tx, &held, id.as_str())?;
                let n = tx.execute(
                    "UPDATE ladder_steps SET outcome = ?3, reason = ?4, ended_at = ?5,
                         call_id = COALESCE(?6, call_id), state = 'ended'
                     WHERE incident_id = ?1 AND seq = ?2",
                    args![
                        id.as_str(),
                        seq,
                        end.outcome.map(outcome_name),
                        end.reason,
                        ts(end.ended_at),
                        end.call_id
                    ],
                )?;
                if n == 0 {
                    return Err(StoreError::NoStep {
                        incident: id.to_string(),
                        seq,
                    });
                }
                tx.commit()
            })
            .await
    }
}
