//! The queries behind the console: the incident list (filters, call figures, SLA verdict)
//! and the calls of the vendor scorecard.

use super::Store;
use super::codec::{parse_outcome, parse_ts_opt, ts, uint};
use super::conn::{Row, Value, args};
use super::error::StoreError;
use super::incidents::{INCIDENT_COLUMNS, incident_row};
use super::model::IncidentRow;
use super::worker::Db;
use crate::call::Side;
use chrono::{DateTime, Utc};
use serde::Serialize;

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

impl Store {
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
}
