//! Calls: the call record saved at start, at each stage and at the end; its timeline as
//! rows; its recording.

use super::Store;
use super::codec::{int, outcome_name, parse_outcome, parse_ts, parse_ts_opt, ts, uint};
use super::conn::{Conn, Row, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::model::{RecordingFile, StoredCall, StoredEvent};
use super::worker::Db;
use crate::call::CallRecord;
use chrono::Utc;

/// A call record flattened into its columns, made on the caller's task.
pub(super) struct CallRow {
    call_id: String,
    incident_id: Option<String>,
    dialplan: String,
    contact: String,
    uri: String,
    result: Option<&'static str>,
    code: Option<u16>,
    reason: Option<String>,
    started_at: Option<String>,
    answered_at: Option<String>,
    ended_at: Option<String>,
    time_to_answer_ms: Option<i64>,
    sla_met: Option<bool>,
    recording_path: String,
    record_json: String,
    /// (at, offset_ms, kind, event JSON), in timeline order.
    events: Vec<(String, f64, &'static str, String)>,
}

impl CallRow {
    pub(super) fn new(
        r: &CallRecord,
        incident_id: Option<&IncidentId>,
    ) -> Result<Self, StoreError> {
        let t = r.termination.as_ref();
        let events = r
            .events
            .iter()
            .map(|e| {
                Ok((
                    ts(e.at),
                    e.offset_ms,
                    e.kind.name(),
                    serde_json::to_string(e)?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Self {
            call_id: r.call_id.clone(),
            incident_id: incident_id.map(|i| i.to_string()),
            dialplan: r.dialplan.clone(),
            contact: r.contact.clone(),
            uri: r.uri.clone(),
            result: t.map(|t| outcome_name(t.result)),
            code: t.and_then(|t| t.code),
            reason: t.map(|t| t.reason.clone()),
            started_at: r.stages.invite_sent.map(ts),
            answered_at: r.stages.answered.map(ts),
            ended_at: r.stages.ended.map(ts),
            time_to_answer_ms: r.time_to_answer_ms.map(int),
            sla_met: r.sla.met,
            recording_path: r.recording.clone(),
            record_json: serde_json::to_string(r)?,
            events,
        })
    }
}

fn save(db: &mut Db, c: &CallRow) -> Result<(), StoreError> {
    let tx = db.conn.begin()?;
    write_call(&tx, c)?;
    tx.commit()
}

/// Inserts or rewrites a call's row and its events, inside the caller's transaction.
pub(super) fn write_call(tx: &Conn, c: &CallRow) -> Result<(), StoreError> {
    let now = ts(Utc::now());
    // An update without an incident keeps the one a first save gave.
    tx.execute(
        "INSERT INTO calls (call_id, incident_id, dialplan, contact, uri, result, code, reason,
                            started_at, answered_at, ended_at, time_to_answer_ms, sla_met,
                            recording_path, record_json, interrupted, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 0, ?16)
         ON CONFLICT (call_id) DO UPDATE SET
             incident_id = COALESCE(excluded.incident_id, calls.incident_id),
             dialplan = excluded.dialplan, contact = excluded.contact, uri = excluded.uri,
             result = excluded.result, code = excluded.code, reason = excluded.reason,
             started_at = excluded.started_at, answered_at = excluded.answered_at,
             ended_at = excluded.ended_at, time_to_answer_ms = excluded.time_to_answer_ms,
             sla_met = excluded.sla_met, recording_path = excluded.recording_path,
             record_json = excluded.record_json, updated_at = excluded.updated_at",
        args![
            c.call_id,
            c.incident_id,
            c.dialplan,
            c.contact,
            c.uri,
            c.result,
            c.code,
            c.reason,
            c.started_at,
            c.answered_at,
            c.ended_at,
            c.time_to_answer_ms,
            c.sla_met,
            c.recording_path,
            c.record_json,
            now,
        ],
    )?;
    // Events can be inserted mid-timeline (sends are stamped at the socket), so the rows
    // are rewritten whole; a call has tens of them.
    tx.execute(
        "DELETE FROM call_events WHERE call_id = ?1",
        args![c.call_id],
    )?;
    for (seq, (at, offset_ms, kind, json)) in c.events.iter().enumerate() {
        tx.execute(
            "INSERT INTO call_events (call_id, seq, at, offset_ms, kind, event_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            args![c.call_id, seq as i64, at, offset_ms, kind, json],
        )?;
    }
    Ok(())
}

/// The columns [`call_row`] reads, in its order.
const CALL_COLUMNS: &str = "call_id, incident_id, dialplan, contact, uri, result, code, reason, \
     started_at, answered_at, ended_at, time_to_answer_ms, sla_met, recording_path, \
     record_json, interrupted, updated_at";

fn call_row(r: &Row) -> Result<StoredCall, StoreError> {
    let json: String = r.get(14)?;
    let record: serde_json::Value = serde_json::from_str(&json)?;
    let result = r
        .get::<Option<String>>(5)?
        .map(|s| parse_outcome("result", s))
        .transpose()?;
    let interrupted: bool = r.get(15)?;
    let phase = match record.get("phase").and_then(|p| p.as_str()) {
        _ if result.is_some() || interrupted => "ended",
        Some(p) => p,
        None => "unknown",
    }
    .to_string();
    let phase_since = record
        .get("phase_since")
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(StoredCall {
        phase,
        phase_since,
        call_id: r.get(0)?,
        incident_id: r.get::<Option<String>>(1)?.map(IncidentId::from_db),
        dialplan: r.get(2)?,
        contact: r.get(3)?,
        uri: r.get(4)?,
        result,
        code: r.get(6)?,
        reason: r.get(7)?,
        started_at: parse_ts_opt("started_at", r.get(8)?)?,
        answered_at: parse_ts_opt("answered_at", r.get(9)?)?,
        ended_at: parse_ts_opt("ended_at", r.get(10)?)?,
        time_to_answer_ms: r
            .get::<Option<i64>>(11)?
            .map(|v| uint("time_to_answer_ms", v))
            .transpose()?,
        sla_met: r.get(12)?,
        recording_path: r.get(13)?,
        record,
        interrupted,
        updated_at: parse_ts("updated_at", r.get(16)?)?,
        events: Vec::new(),
        recording: None,
    })
}

fn events_of(conn: &Conn, call_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = conn.query(
        "SELECT seq, at, offset_ms, kind, event_json FROM call_events
         WHERE call_id = ?1 ORDER BY seq",
        args![call_id],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let json: String = r.get(4)?;
        out.push(StoredEvent {
            seq: r.get(0)?,
            at: parse_ts("at", r.get(1)?)?,
            offset_ms: r.get(2)?,
            kind: r.get(3)?,
            event: serde_json::from_str(&json)?,
        });
    }
    Ok(out)
}

fn recording_of(conn: &Conn, call_id: &str) -> Result<Option<RecordingFile>, StoreError> {
    conn.query_opt(
        "SELECT path, bytes, sha256, final FROM recordings WHERE call_id = ?1",
        args![call_id],
    )?
    .map(|r| {
        Ok(RecordingFile {
            path: r.get(0)?,
            bytes: uint("bytes", r.get(1)?)?,
            sha256: r.get(2)?,
            is_final: r.get(3)?,
        })
    })
    .transpose()
}

/// Fills in a call's events and recording.
fn complete(conn: &Conn, mut c: StoredCall) -> Result<StoredCall, StoreError> {
    c.events = events_of(conn, &c.call_id)?;
    c.recording = recording_of(conn, &c.call_id)?;
    Ok(c)
}

/// The calls of one incident, oldest first, complete.
pub(super) fn calls_of(conn: &Conn, incident_id: &str) -> Result<Vec<StoredCall>, StoreError> {
    let rows = conn.query(
        &format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE incident_id = ?1
             ORDER BY COALESCE(started_at, updated_at), call_id"
        ),
        args![incident_id],
    )?;
    rows.iter().map(|r| complete(conn, call_row(r)?)).collect()
}

fn one(db: &mut Db, call_id: &str) -> Result<Option<StoredCall>, StoreError> {
    let tx = db.conn.begin_read()?;
    let call = tx
        .query_opt(
            &format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = ?1"),
            args![call_id],
        )?
        .map(|r| call_row(&r))
        .transpose()?;
    let call = call.map(|c| complete(&tx, c)).transpose()?;
    tx.commit()?;
    Ok(call)
}

/// The calls still running (as of their last save), without events.
fn live_calls(conn: &Conn) -> Result<Vec<StoredCall>, StoreError> {
    let rows = conn.query(
        &format!(
            "SELECT {CALL_COLUMNS} FROM calls
             WHERE ended_at IS NULL AND result IS NULL AND interrupted = 0
               AND incident_id IS NOT NULL
             ORDER BY COALESCE(started_at, updated_at), call_id"
        ),
        &[],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let c = call_row(r)?;
        if c.is_live() {
            out.push(c);
        }
    }
    Ok(out)
}

impl Store {
    /// The calls running now (newest last), with their incident and phase; no events.
    pub async fn live_calls(&self) -> Result<Vec<StoredCall>, StoreError> {
        self.worker.call(|db| live_calls(&db.conn)).await
    }

    /// Saves a call record: inserts it on the first save, rewrites it on later ones (at
    /// start, at each stage, at the end). `incident_id` links the call to its incident;
    /// `None` on a later save keeps the link a first save made.
    pub async fn save_call(
        &self,
        record: &CallRecord,
        incident_id: Option<&IncidentId>,
    ) -> Result<(), StoreError> {
        let row = CallRow::new(record, incident_id)?;
        self.worker.call(move |db| save(db, &row)).await
    }

    /// One call with its events and recording; `None` if unknown.
    pub async fn call(&self, call_id: &str) -> Result<Option<StoredCall>, StoreError> {
        let call_id = call_id.to_string();
        self.worker.call(move |db| one(db, &call_id)).await
    }

    /// Indexes a call's WAV: its size now, and once final, its SHA-256. The call must have
    /// been saved first.
    pub async fn save_recording(
        &self,
        call_id: &str,
        file: &RecordingFile,
    ) -> Result<(), StoreError> {
        let (call_id, file) = (call_id.to_string(), file.clone());
        self.worker
            .call(move |db| {
                let known = db
                    .conn
                    .query_opt("SELECT 1 FROM calls WHERE call_id = ?1", args![call_id])?;
                if known.is_none() {
                    return Err(StoreError::NoCall(call_id.clone()));
                }
                db.conn.execute(
                    "INSERT INTO recordings (call_id, path, bytes, sha256, final, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (call_id) DO UPDATE SET path = excluded.path,
                         bytes = excluded.bytes, sha256 = excluded.sha256,
                         final = excluded.final, updated_at = excluded.updated_at",
                    args![
                        call_id,
                        file.path,
                        int(file.bytes),
                        file.sha256,
                        file.is_final,
                        ts(Utc::now())
                    ],
                )?;
                Ok(())
            })
            .await
    }
}
