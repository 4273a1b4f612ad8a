//! Incidents: opening or joining one per firing fingerprint, resolving, routing, the ladder's
//! state, reading one back and listing.

use super::Store;
use super::calls::calls_of;
use super::codec::{
    int, parse_severity, parse_status, parse_ts, parse_ts_opt, severity_name, status_name, ts, uint,
};
use super::conn::{Conn, Row, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::ladder::steps_of;
use super::model::{
    Delivery, IncidentFilter, IncidentRow, IncidentView, LadderState, Route, Upserted,
};
use super::tickets::tickets_of;
use super::worker::Db;
use crate::incident::{Incident, Status};
use chrono::{DateTime, Utc};

/// The columns [`incident_row`] reads, in its order.
pub(super) const INCIDENT_COLUMNS: &str = "id, source, fingerprint, status, severity, dialplan, \
     route, incident_json, created_at, updated_at, resolved_at, resolution_reason, \
     ladder_state, ladder_reason, vendor_case, engineer_name, briefing_text, notes";

/// Reads a row selected with [`INCIDENT_COLUMNS`].
pub(super) fn incident_row(r: &Row) -> Result<IncidentRow, StoreError> {
    let json: String = r.get(7)?;
    Ok(IncidentRow {
        id: IncidentId::from_db(r.get(0)?),
        source: r.get(1)?,
        fingerprint: r.get(2)?,
        status: parse_status(r.get(3)?)?,
        severity: parse_severity(r.get(4)?)?,
        dialplan: r.get(5)?,
        route: r.get::<Option<String>>(6)?.map(Route::parse).transpose()?,
        incident: serde_json::from_str(&json)?,
        created_at: parse_ts("created_at", r.get(8)?)?,
        updated_at: parse_ts("updated_at", r.get(9)?)?,
        resolved_at: parse_ts_opt("resolved_at", r.get(10)?)?,
        resolution_reason: r.get(11)?,
        ladder_state: LadderState::parse(r.get(12)?)?,
        ladder_reason: r.get(13)?,
        vendor_case: r.get(14)?,
        engineer_name: r.get(15)?,
        briefing_text: r.get(16)?,
        notes: r.get(17)?,
    })
}

/// Fails with `NoIncident` when an update touched no row.
fn touched(n: usize, id: &IncidentId) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NoIncident(id.to_string()))
    } else {
        Ok(())
    }
}

/// The advisory lock deliveries and resolutions of one fingerprint queue on (PostgreSQL).
fn fingerprint_lock(fingerprint: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(fingerprint.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    i64::from_be_bytes(b)
}

/// What a new firing incident is routed to, written with it (one transaction before the 202).
#[derive(Clone, Debug, Default)]
pub struct Routing {
    /// `Some(dialplan)`: routed; `None`: unrouted.
    pub dialplan: Option<String>,
    /// The group key it leads (a new group of its own), if it is grouped.
    pub leads: Option<String>,
}

fn upsert_firing(
    db: &mut Db,
    mut incident: Incident,
    raw_size: u64,
    now: DateTime<Utc>,
    routing: Option<&Routing>,
) -> Result<Upserted, StoreError> {
    let fresh = db.ids.next(now);
    incident.status = Status::Firing;
    incident.id = fresh.to_string();
    let severity = severity_name(incident.severity);
    // Locked (SQLite: IMMEDIATE, the write lock first): a joining delivery reads the row it
    // joins; on PostgreSQL deliveries of one fingerprint queue on its lock instead of racing.
    let tx = db
        .conn
        .begin_locked(fingerprint_lock(&incident.fingerprint))?;
    let inserted = tx.execute(
        "INSERT INTO incidents (id, source, fingerprint, status, severity, incident_json,
                                created_at, updated_at, ladder_state)
         VALUES (?1, ?2, ?3, 'firing', ?4, ?5, ?6, ?6, 'pending')
         ON CONFLICT (fingerprint) WHERE status = 'firing' DO NOTHING",
        args![
            fresh.as_str(),
            incident.source,
            incident.fingerprint,
            severity,
            serde_json::to_string(&incident)?,
            ts(now),
        ],
    )?;
    let upserted = if inserted == 1 {
        Upserted {
            id: fresh,
            created: true,
        }
    } else {
        let id: String = tx
            .query_one(
                "SELECT id FROM incidents WHERE fingerprint = ?1 AND status = 'firing'",
                args![incident.fingerprint],
            )?
            .get(0)?;
        // A re-delivery carries the latest view of the alert (timeline, severity): keep it.
        incident.id = id.clone();
        tx.execute(
            "UPDATE incidents SET incident_json = ?2, severity = ?3, updated_at = ?4
             WHERE id = ?1",
            args![id, serde_json::to_string(&incident)?, severity, ts(now)],
        )?;
        Upserted {
            id: IncidentId::from_db(id),
            created: false,
        }
    };
    tx.execute(
        "INSERT INTO deliveries (incident_id, seq, received_at, source, raw_size, created)
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, CAST(?4 AS BIGINT), CAST(?5 AS BIGINT)
         FROM deliveries WHERE incident_id = ?1",
        args![
            upserted.id.as_str(),
            ts(now),
            incident.source,
            int(raw_size),
            upserted.created
        ],
    )?;
    if let (true, Some(r)) = (upserted.created, routing) {
        let route = match r.dialplan {
            Some(_) => Route::Routed,
            None => Route::Unrouted,
        };
        tx.execute(
            "UPDATE incidents SET dialplan = ?2, route = ?3 WHERE id = ?1",
            args![upserted.id.as_str(), r.dialplan, route.as_str()],
        )?;
        if let Some(key) = &r.leads {
            tx.execute(
                "INSERT INTO incident_groups (member_id, leader_id, group_key, joined_at)
                 VALUES (?1, ?1, ?2, ?3) ON CONFLICT (member_id) DO NOTHING",
                args![upserted.id.as_str(), key, ts(now)],
            )?;
        }
    }
    tx.commit()?;
    Ok(upserted)
}

fn resolve(
    db: &mut Db,
    fingerprint: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<IncidentId>, StoreError> {
    let tx = db.conn.begin_locked(fingerprint_lock(fingerprint))?;
    let found: Option<(String, String)> = tx
        .query_opt(
            "SELECT id, incident_json FROM incidents WHERE fingerprint = ?1 AND status = 'firing'",
            args![fingerprint],
        )?
        .map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    let Some((id, json)) = found else {
        return Ok(None);
    };
    let mut incident: Incident = serde_json::from_str(&json)?;
    incident.status = Status::Resolved;
    // A ladder not yet finished stops: nobody should be called about a resolved fault.
    tx.execute(
        "UPDATE incidents SET status = 'resolved', incident_json = ?2, resolved_at = ?3,
             updated_at = ?3, resolution_reason = ?4,
             ladder_reason = CASE WHEN ladder_state IN ('pending', 'running')
                                  THEN ?4 ELSE ladder_reason END,
             ladder_state = CASE WHEN ladder_state IN ('pending', 'running')
                                 THEN 'stopped' ELSE ladder_state END
         WHERE id = ?1",
        args![id, serde_json::to_string(&incident)?, ts(now), reason],
    )?;
    // The replica running its ladder stops it (polling catches a lost notification).
    tx.notify(&format!("stop {id}"))?;
    tx.commit()?;
    Ok(Some(IncidentId::from_db(id)))
}

fn deliveries_of(conn: &Conn, id: &str) -> Result<Vec<Delivery>, StoreError> {
    let rows = conn.query(
        "SELECT seq, received_at, source, raw_size, created FROM deliveries
         WHERE incident_id = ?1 ORDER BY seq",
        args![id],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(Delivery {
            seq: r.get(0)?,
            received_at: parse_ts("received_at", r.get(1)?)?,
            source: r.get(2)?,
            raw_size: uint("raw_size", r.get(3)?)?,
            created: r.get(4)?,
        });
    }
    Ok(out)
}

fn view(db: &mut Db, id: &IncidentId) -> Result<Option<IncidentView>, StoreError> {
    // One read transaction: the parts agree with each other.
    let tx = db.conn.begin_read()?;
    let row = match tx.query_opt(
        &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"),
        args![id.as_str()],
    )? {
        Some(r) => incident_row(&r)?,
        None => return Ok(None),
    };
    let view = IncidentView {
        deliveries: deliveries_of(&tx, id.as_str())?,
        ladder: steps_of(&tx, id.as_str())?,
        calls: calls_of(&tx, id.as_str())?,
        tickets: tickets_of(&tx, id.as_str())?,
        group: super::groups::group_of(&tx, id.as_str())?,
        row,
    };
    tx.commit()?;
    Ok(Some(view))
}

fn list(db: &mut Db, filter: IncidentFilter) -> Result<Vec<IncidentRow>, StoreError> {
    let rows = db.conn.query(
        &format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents
             WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR source = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR id < ?3)
             ORDER BY id DESC LIMIT ?4"
        ),
        args![
            filter.status.map(status_name),
            filter.source,
            filter.before.as_ref().map(IncidentId::as_str),
            filter.limit.clamp(1, 1000),
        ],
    )?;
    rows.iter().map(incident_row).collect()
}

impl Store {
    /// Takes one delivery of a firing alert: opens an incident for its fingerprint, or joins
    /// the one already firing (keeping the latest incident JSON and severity). Either way the
    /// delivery is recorded (`raw_size`: body bytes as received). Race-free: any number of
    /// concurrent deliveries of one alert open exactly one incident. The incident's `id` is
    /// replaced by the store's and its status taken as firing.
    pub async fn upsert_firing(
        &self,
        incident: &Incident,
        raw_size: usize,
    ) -> Result<Upserted, StoreError> {
        let incident = incident.clone();
        let raw_size = raw_size as u64;
        self.worker
            .call(move |db| upsert_firing(db, incident.clone(), raw_size, Utc::now(), None))
            .await
    }

    /// [`Store::upsert_firing`] for a webhook's alert, in one transaction with what a new
    /// incident is routed to ([`Store::set_routing`]) and the group it leads, if any
    /// ([`Store::join_group`] of itself). A joining delivery leaves those as they were.
    pub async fn take_firing(
        &self,
        incident: &Incident,
        raw_size: usize,
        routing: Routing,
    ) -> Result<Upserted, StoreError> {
        let incident = incident.clone();
        let raw_size = raw_size as u64;
        self.worker
            .call(move |db| {
                let now = Utc::now();
                upsert_firing(db, incident.clone(), raw_size, now, Some(&routing))
            })
            .await
    }

    /// Resolves the firing incident with this fingerprint, if there is one, and stops its
    /// ladder if it had not finished (`ladder_state` becomes `stopped`, with `reason`).
    /// Returns its id, or `None` if nothing was firing.
    pub async fn resolve(
        &self,
        fingerprint: &str,
        reason: &str,
    ) -> Result<Option<IncidentId>, StoreError> {
        let (fingerprint, reason) = (fingerprint.to_string(), reason.to_string());
        self.worker
            .call(move |db| resolve(db, &fingerprint, &reason, Utc::now()))
            .await
    }

    /// Records the routing decision: `Some(dialplan)` is routed, `None` unrouted.
    pub async fn set_routing(
        &self,
        id: &IncidentId,
        dialplan: Option<&str>,
    ) -> Result<(), StoreError> {
        let (id, dialplan) = (id.clone(), dialplan.map(str::to_string));
        self.worker
            .call(move |db| {
                let route = match dialplan {
                    Some(_) => Route::Routed,
                    None => Route::Unrouted,
                };
                let n = db.conn.execute(
                    "UPDATE incidents SET dialplan = ?2, route = ?3, updated_at = ?4
                     WHERE id = ?1",
                    args![id.as_str(), dialplan, route.as_str(), ts(Utc::now())],
                )?;
                touched(n, &id)
            })
            .await
    }

    /// Sets where the ladder stands, and why (`None` clears the reason).
    pub async fn set_ladder_state(
        &self,
        id: &IncidentId,
        state: LadderState,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let (id, reason) = (id.clone(), reason.map(str::to_string));
        let held = self.held.clone();
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                super::leases::check_fence(&tx, &held, id.as_str())?;
                let n = tx.execute(
                    "UPDATE incidents SET ladder_state = ?2, ladder_reason = ?3, updated_at = ?4
                     WHERE id = ?1",
                    args![id.as_str(), state.as_str(), reason, ts(Utc::now())],
                )?;
                touched(n, &id)?;
                tx.commit()
            })
            .await
    }

    /// One incident with its deliveries, ladder steps, calls (with events and recordings)
    /// and ticket attempts; `None` if there is no such incident.
    pub async fn incident(&self, id: &IncidentId) -> Result<Option<IncidentView>, StoreError> {
        let id = id.clone();
        self.worker.call(move |db| view(db, &id)).await
    }

    /// Incidents matching `filter`, newest first. For the next page, pass the last id
    /// returned as `filter.before`.
    pub async fn list_incidents(
        &self,
        filter: IncidentFilter,
    ) -> Result<Vec<IncidentRow>, StoreError> {
        self.worker.call(move |db| list(db, filter.clone())).await
    }
}
