//! What the auditor console keeps: the access log, the integrity hash chain, notes and
//! ownership edits (each also a chain entry), the spoken briefing, cached waveform peaks,
//! and the queries behind the incident list and the vendor scorecard.

use super::Store;
use super::codec::{int, parse_outcome, parse_ts, parse_ts_opt, ts, uint};
use super::conn::{Conn, Row, Value, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::incidents::{INCIDENT_COLUMNS, incident_row};
use super::model::IncidentRow;
use super::worker::Db;
use crate::call::Side;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first chain entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the integrity chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainEntry {
    /// 1, 2, ... without gaps.
    pub seq: u64,
    /// As stored (RFC 3339 text): hashed as is.
    pub at: String,
    /// `call` or `incident_edit`.
    pub kind: String,
    /// The call id or incident id the entry is about.
    pub subject: String,
    /// JSON text, hashed as stored.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl ChainEntry {
    /// The hash this entry should have, from its own fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.kind,
            &self.subject,
            &self.payload,
        )
    }
}

/// `SHA-256(prev "\n" seq "\n" at "\n" kind "\n" subject "\n" payload)` as lower-case hex.
pub fn entry_hash(
    prev: &str,
    seq: u64,
    at: &str,
    kind: &str,
    subject: &str,
    payload: &str,
) -> String {
    let mut h = Sha256::new();
    for (i, part) in [prev, &seq.to_string(), at, kind, subject, payload]
        .iter()
        .enumerate()
    {
        if i > 0 {
            h.update(b"\n");
        }
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize().as_slice())
}

/// The chain's single append point: every transaction that appends holds this lock
/// ([`Conn::begin_locked`]), so replicas sharing a PostgreSQL database append one after
/// another and never fork the chain ("hotline_chain" as a number). On SQLite the write lock
/// is the same thing.
pub const CHAIN_LOCK: i64 = 0x686f_746c_696e_6502;

/// Appends an entry inside an open transaction begun with `begin_locked(CHAIN_LOCK)` (the
/// caller commits).
pub(super) fn append(
    tx: &Conn,
    kind: &str,
    subject: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<ChainEntry, StoreError> {
    let last: Option<(i64, String)> = tx
        .query_opt(
            "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (uint("seq", s)? + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let at = ts(now);
    let hash = entry_hash(&prev_hash, seq, &at, kind, subject, payload);
    tx.execute(
        "INSERT INTO audit_chain (seq, at, kind, subject, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![int(seq), at, kind, subject, payload, prev_hash, hash],
    )?;
    Ok(ChainEntry {
        seq,
        at,
        kind: kind.into(),
        subject: subject.into(),
        payload: payload.into(),
        prev_hash,
        hash,
    })
}

fn chain_rows(db: &mut Db, subject: Option<String>) -> Result<Vec<ChainEntry>, StoreError> {
    let rows = db.conn.query(
        "SELECT seq, at, kind, subject, payload, prev_hash, hash FROM audit_chain
         WHERE (CAST(?1 AS TEXT) IS NULL OR subject = ?1) ORDER BY seq",
        args![subject],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(ChainEntry {
            seq: uint("seq", r.get(0)?)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            subject: r.get(3)?,
            payload: r.get(4)?,
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        });
    }
    Ok(out)
}

/// One console or API request by a token holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    pub at: DateTime<Utc>,
    pub token_name: String,
    pub role: String,
    pub method: String,
    /// Path and query.
    pub path: String,
    pub status: u16,
}

/// An incident field a person edits in the console; each edit is a chain entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentField {
    Notes,
    VendorCase,
    EngineerName,
}

impl IncidentField {
    /// The column (and the name in chain payloads).
    pub fn column(self) -> &'static str {
        match self {
            IncidentField::Notes => "notes",
            IncidentField::VendorCase => "vendor_case",
            IncidentField::EngineerName => "engineer_name",
        }
    }

    /// Every field, in display order.
    pub const ALL: [IncidentField; 3] = [
        IncidentField::VendorCase,
        IncidentField::EngineerName,
        IncidentField::Notes,
    ];
}

/// Which incidents the console lists, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsoleFilter {
    /// Only these dialplans (a vendor's dialplans, or the one chosen); `None`: all.
    pub dialplans: Option<Vec<String>>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// `Some(true)`: some call was answered within its SLA; `Some(false)`: calls ended and
    /// none was.
    pub sla_met: Option<bool>,
    /// Ladder state name (`done`, `exhausted`, `stopped`, ...).
    pub result: Option<String>,
    /// Text searched in notes, summary, ownership, briefing and ids (case-insensitive).
    pub text: Option<String>,
    /// At most this many (clamped to 1..=5000).
    pub limit: u32,
}

/// An incident with its call figures, for the list.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentSummary {
    #[serde(flatten)]
    pub row: IncidentRow,
    pub calls: u32,
    pub answered: u32,
    /// `Some(true)` if a call was answered within its SLA, `Some(false)` if calls have a
    /// verdict and none met it, `None` without a verdict.
    pub sla_met: Option<bool>,
    /// The contact who answered first.
    pub answered_by: Option<String>,
    /// Time to answer of the first answered call.
    pub time_to_answer_ms: Option<u64>,
}

fn summaries(db: &mut Db, f: ConsoleFilter) -> Result<Vec<IncidentSummary>, StoreError> {
    let mut wh = vec!["1 = 1".to_string()];
    let mut args: Vec<String> = Vec::new();
    let mut arg = |v: String| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(plans) = &f.dialplans {
        if plans.is_empty() {
            wh.push("1 = 0".into());
        } else {
            let list: Vec<String> = plans.iter().map(|p| arg(p.clone())).collect();
            wh.push(format!("dialplan IN ({})", list.join(", ")));
        }
    }
    if let Some(t) = f.from {
        wh.push(format!("created_at >= {}", arg(ts(t))));
    }
    if let Some(t) = f.to {
        wh.push(format!("created_at < {}", arg(ts(t))));
    }
    const SLA: &str = "(SELECT MAX(c.sla_met) FROM calls c WHERE c.incident_id = incidents.id)";
    if let Some(met) = f.sla_met {
        wh.push(format!("{SLA} = {}", if met { 1 } else { 0 }));
    }
    if let Some(r) = &f.result {
        wh.push(format!("ladder_state = {}", arg(r.clone())));
    }
    if let Some(t) = f.text.as_ref().filter(|t| !t.trim().is_empty()) {
        let escaped = t
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = arg(format!("%{escaped}%"));
        let cols = [
            "id",
            "fingerprint",
            "notes",
            "vendor_case",
            "engineer_name",
            "briefing_text",
            "incident_json",
        ];
        let ors: Vec<String> = cols
            .iter()
            .map(|c| format!("LOWER(COALESCE({c}, '')) LIKE {p} ESCAPE '\\'"))
            .collect();
        wh.push(format!("({})", ors.join(" OR ")));
    }
    let limit = f.limit.clamp(1, 5000);
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS},
            (SELECT COUNT(*) FROM calls c WHERE c.incident_id = incidents.id),
            (SELECT COUNT(*) FROM calls c WHERE c.incident_id = incidents.id
                AND c.result = 'answered'),
            {SLA},
            (SELECT c.contact FROM calls c WHERE c.incident_id = incidents.id
                AND c.result = 'answered' ORDER BY c.started_at LIMIT 1),
            (SELECT c.time_to_answer_ms FROM calls c WHERE c.incident_id = incidents.id
                AND c.result = 'answered' ORDER BY c.started_at LIMIT 1)
         FROM incidents WHERE {} ORDER BY id DESC LIMIT {limit}",
        wh.join(" AND ")
    );
    let args: Vec<Value> = args.into_iter().map(Value::Text).collect();
    let rows = db.conn.query(&sql, &args)?;
    let mut out = Vec::new();
    let n = INCIDENT_COLUMNS.split(',').count();
    for r in &rows {
        out.push(IncidentSummary {
            row: incident_row(r)?,
            calls: r.get(n)?,
            answered: r.get(n + 1)?,
            sla_met: r.get(n + 2)?,
            answered_by: r.get(n + 3)?,
            time_to_answer_ms: r
                .get::<Option<i64>>(n + 4)?
                .map(|v| uint("time_to_answer_ms", v))
                .transpose()?,
        });
    }
    Ok(out)
}

/// One ended call, for the scorecard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallFact {
    pub call_id: String,
    pub incident_id: Option<String>,
    pub dialplan: String,
    pub contact: String,
    pub result: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub time_to_answer_ms: Option<u64>,
    /// INVITE to a person's first words, and hold music heard (from the record).
    pub time_to_human_ms: Option<u64>,
    pub hold_ms: Option<u64>,
    /// What `sla_met` was judged on: the 200 OK, or a person on the line.
    pub sla_basis: crate::call::SlaBasis,
    pub sla_met: Option<bool>,
    pub ended: bool,
    /// A stop cut the call short (`ended` stays false): recovered and sealed at the next start.
    pub interrupted: bool,
    /// Whose doing the end was: only the vendor's count in the scorecard; a call still
    /// live counts as the vendor's until it ends.
    pub side: Side,
}

/// Attributes a `call_facts` row (result 4, interrupted 9, code 10, reason 11).
fn side_of(r: &Row) -> Result<Side, StoreError> {
    if r.get::<bool>(9)? {
        return Ok(Side::Gateway);
    }
    let Some(result) = r.get::<Option<String>>(4)? else {
        return Ok(Side::Vendor);
    };
    let result = parse_outcome("result", result)?;
    let code = r
        .get::<Option<i64>>(10)?
        .and_then(|c| u16::try_from(c).ok());
    let reason: Option<String> = r.get(11)?;
    Ok(Side::of(result, code, reason.as_deref().unwrap_or("")))
}

fn call_facts(
    db: &mut Db,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<CallFact>, StoreError> {
    let rows = db.conn.query(
        "SELECT call_id, incident_id, dialplan, contact, result, started_at, time_to_answer_ms,
                sla_met, ended_at IS NOT NULL, interrupted, code, reason, record_json
         FROM calls
         WHERE (CAST(?1 AS TEXT) IS NULL OR COALESCE(started_at, updated_at) >= ?1)
           AND (CAST(?2 AS TEXT) IS NULL OR COALESCE(started_at, updated_at) < ?2)
         ORDER BY COALESCE(started_at, updated_at), call_id",
        args![from.map(ts), to.map(ts)],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        // The human figures live in the record (portable SQL: no JSON functions).
        let rec: serde_json::Value =
            serde_json::from_str(&r.get::<String>(12)?).unwrap_or_default();
        let sla_basis = serde_json::from_value(rec["sla"]["basis"].clone())
            .unwrap_or(crate::call::SlaBasis::Answer);
        out.push(CallFact {
            time_to_human_ms: rec["time_to_human_ms"].as_u64(),
            hold_ms: rec["hold_ms"].as_u64(),
            sla_basis,
            call_id: r.get(0)?,
            incident_id: r.get(1)?,
            dialplan: r.get(2)?,
            contact: r.get(3)?,
            result: r.get(4)?,
            started_at: parse_ts_opt("started_at", r.get(5)?)?,
            time_to_answer_ms: r
                .get::<Option<i64>>(6)?
                .map(|v| uint("time_to_answer_ms", v))
                .transpose()?,
            sla_met: r.get(7)?,
            ended: r.get(8)?,
            interrupted: r.get(9)?,
            side: side_of(r)?,
        });
    }
    Ok(out)
}

fn set_field(
    db: &mut Db,
    id: &IncidentId,
    field: IncidentField,
    value: Option<String>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<ChainEntry, StoreError> {
    let tx = db.conn.begin_locked(CHAIN_LOCK)?;
    let n = tx.execute(
        &format!(
            "UPDATE incidents SET {} = ?2, updated_at = ?3 WHERE id = ?1",
            field.column()
        ),
        args![id.as_str(), value, ts(now)],
    )?;
    if n == 0 {
        return Err(StoreError::NoIncident(id.to_string()));
    }
    let payload = serde_json::json!({
        "field": field.column(),
        "value": value,
        "by": by,
    })
    .to_string();
    let entry = append(&tx, "incident_edit", id.as_str(), &payload, now)?;
    tx.commit()?;
    Ok(entry)
}

impl Store {
    /// Appends an entry to the integrity chain (one transaction: the entry commits to the
    /// last one, whatever else writes).
    pub async fn append_chain(
        &self,
        kind: &str,
        subject: &str,
        payload: &str,
    ) -> Result<ChainEntry, StoreError> {
        let (kind, subject, payload) = (kind.to_string(), subject.to_string(), payload.to_string());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin_locked(CHAIN_LOCK)?;
                let e = append(&tx, &kind, &subject, &payload, Utc::now())?;
                tx.commit()?;
                Ok(e)
            })
            .await
    }

    /// The whole chain, oldest first.
    pub async fn chain(&self) -> Result<Vec<ChainEntry>, StoreError> {
        self.worker.call(|db| chain_rows(db, None)).await
    }

    /// The chain entries about one call or incident, oldest first.
    pub async fn chain_of(&self, subject: &str) -> Result<Vec<ChainEntry>, StoreError> {
        let subject = subject.to_string();
        self.worker
            .call(move |db| chain_rows(db, Some(subject.clone())))
            .await
    }

    /// Sets a notes or ownership field (`None` clears it) and chains the edit.
    pub async fn set_incident_field(
        &self,
        id: &IncidentId,
        field: IncidentField,
        value: Option<&str>,
        by: &str,
    ) -> Result<ChainEntry, StoreError> {
        let (id, value, by) = (id.clone(), value.map(str::to_string), by.to_string());
        self.worker
            .call(move |db| set_field(db, &id, field, value.clone(), &by, Utc::now()))
            .await
    }

    /// Keeps the briefing text as spoken to the vendor.
    pub async fn set_briefing_text(&self, id: &IncidentId, text: &str) -> Result<(), StoreError> {
        let (id, text) = (id.clone(), text.to_string());
        self.worker
            .call(move |db| {
                let n = db.conn.execute(
                    "UPDATE incidents SET briefing_text = ?2 WHERE id = ?1",
                    args![id.as_str(), text],
                )?;
                if n == 0 {
                    return Err(StoreError::NoIncident(id.to_string()));
                }
                Ok(())
            })
            .await
    }

    /// Writes one access-log line.
    pub async fn log_access(&self, e: AccessEntry) -> Result<(), StoreError> {
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "INSERT INTO access_log (seq, at, token_name, role, method, path, status)
                     SELECT COALESCE(MAX(seq), 0) + 1, CAST(?1 AS TEXT), CAST(?2 AS TEXT),
                            CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS TEXT),
                            CAST(?6 AS BIGINT)
                     FROM access_log",
                    args![ts(e.at), e.token_name, e.role, e.method, e.path, e.status],
                )?;
                Ok(())
            })
            .await
    }

    /// The newest `limit` access-log lines, newest first.
    pub async fn access_log(&self, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        self.worker
            .call(move |db| {
                let rows = db.conn.query(
                    "SELECT at, token_name, role, method, path, status FROM access_log
                     ORDER BY seq DESC LIMIT ?1",
                    args![limit.clamp(1, 100_000)],
                )?;
                let mut out = Vec::new();
                for r in &rows {
                    out.push(AccessEntry {
                        at: parse_ts("at", r.get(0)?)?,
                        token_name: r.get(1)?,
                        role: r.get(2)?,
                        method: r.get(3)?,
                        path: r.get(4)?,
                        status: r.get(5)?,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Incidents for the console list, with their call figures.
    pub async fn incident_summaries(
        &self,
        filter: ConsoleFilter,
    ) -> Result<Vec<IncidentSummary>, StoreError> {
        self.worker
            .call(move |db| summaries(db, filter.clone()))
            .await
    }

    /// Every call started in `[from, to)`, oldest first, for the scorecard.
    pub async fn call_facts(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<CallFact>, StoreError> {
        self.worker.call(move |db| call_facts(db, from, to)).await
    }

    /// Cached waveform peaks of a call's recording, if computed for a file of `bytes`.
    pub async fn peaks(&self, call_id: &str, bytes: u64) -> Result<Option<String>, StoreError> {
        let call_id = call_id.to_string();
        self.worker
            .call(move |db| {
                db.conn
                    .query_opt(
                        "SELECT peaks FROM waveform_peaks WHERE call_id = ?1 AND bytes = ?2",
                        args![call_id, int(bytes)],
                    )?
                    .map(|r| r.get(0))
                    .transpose()
            })
            .await
    }

    /// Caches a recording's waveform peaks.
    pub async fn save_peaks(
        &self,
        call_id: &str,
        bytes: u64,
        peaks: &str,
    ) -> Result<(), StoreError> {
        let (call_id, peaks) = (call_id.to_string(), peaks.to_string());
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "INSERT INTO waveform_peaks (call_id, bytes, peaks) VALUES (?1, ?2, ?3)
                     ON CONFLICT (call_id) DO UPDATE SET bytes = excluded.bytes,
                         peaks = excluded.peaks",
                    args![call_id, int(bytes), peaks],
                )?;
                Ok(())
            })
            .await
    }

    /// A call's record JSON exactly as stored (the text the chain hashes), and its
    /// recording path.
    pub async fn record_text(&self, call_id: &str) -> Result<Option<(String, String)>, StoreError> {
        let call_id = call_id.to_string();
        self.worker
            .call(move |db| {
                db.conn
                    .query_opt(
                        "SELECT record_json, recording_path FROM calls WHERE call_id = ?1",
                        args![call_id],
                    )?
                    .map(|r| Ok((r.get(0)?, r.get(1)?)))
                    .transpose()
            })
            .await
    }

    /// Every incident's editable fields: (id, vendor_case, engineer_name, notes).
    #[allow(clippy::type_complexity)]
    pub async fn incident_fields(&self) -> Result<Vec<(String, [Option<String>; 3])>, StoreError> {
        self.worker
            .call(|db| {
                let rows = db.conn.query(
                    "SELECT id, vendor_case, engineer_name, notes FROM incidents ORDER BY id",
                    &[],
                )?;
                let mut out = Vec::new();
                for r in &rows {
                    out.push((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?]));
                }
                Ok(out)
            })
            .await
    }

    /// Runs raw SQL: for tests that play the tamperer.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<usize, StoreError> {
        let sql = sql.to_string();
        self.worker.call(move |db| db.conn.execute(&sql, &[])).await
    }
}
