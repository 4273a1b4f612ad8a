//! What the auditor console keeps: the access log, the integrity hash chain, notes and
//! ownership edits (each also a chain entry), the spoken briefing, cached waveform peaks.
//! The queries behind the incident list and the vendor scorecard are `console.rs`.

use super::Store;
use super::codec::{int, parse_ts, ts, uint};
use super::conn::{Conn, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::worker::Db;
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
