//! Vendor callbacks (issue 11): the open incidents a call to the callback line may be about,
//! a call marked inbound, and the vendor's response (the first answered callback, or one an
//! operator recorded with a note, audited).

use super::Store;
use super::codec::{parse_ts_opt, ts};
use super::conn::args;
use super::error::StoreError;
use super::id::IncidentId;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// An incident still firing, as callback matching needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenForCallback {
    pub id: IncidentId,
    /// The dialplan (vendor) it was routed to.
    pub dialplan: String,
    /// The vendor's case number an operator stored, if any.
    pub vendor_case: Option<String>,
}

/// The response clock's stored facts for one incident.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResponseFacts {
    /// The dialplan the incident was routed to (its `response_within`).
    pub dialplan: Option<String>,
    /// The first answered outbound call (the clock starts there).
    pub first_answered: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    /// "callback <call id>" or the operator's note.
    pub note: Option<String>,
    pub by: Option<String>,
}

impl Store {
    /// Every firing, routed incident, oldest first.
    pub async fn open_for_callback(&self) -> Result<Vec<OpenForCallback>, StoreError> {
        self.worker
            .call(|db| {
                let rows = db.conn.query(
                    "SELECT id, dialplan, vendor_case FROM incidents
                     WHERE status = 'firing' AND dialplan IS NOT NULL ORDER BY id",
                    args![],
                )?;
                rows.iter()
                    .map(|r| {
                        Ok(OpenForCallback {
                            id: IncidentId::from_db(r.get(0)?),
                            dialplan: r.get(1)?,
                            vendor_case: r.get(2)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    /// Marks a stored call as a call to the callback line.
    pub async fn mark_inbound(&self, call_id: &str) -> Result<(), StoreError> {
        let call_id = call_id.to_string();
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "UPDATE calls SET direction = 'inbound' WHERE call_id = ?1",
                    args![call_id],
                )?;
                Ok(())
            })
            .await
    }

    /// Records the vendor's response unless one is already recorded (the first counts);
    /// returns whether this one was recorded. `by`: who (an operator, or "callback").
    pub async fn record_response(
        &self,
        id: &IncidentId,
        at: DateTime<Utc>,
        note: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let (id, note, by) = (id.clone(), note.to_string(), by.to_string());
        self.worker
            .call(move |db| {
                let n = db.conn.execute(
                    "UPDATE incidents SET response_note = ?3, response_by = ?4, responded_at = ?2
                     WHERE id = ?1 AND responded_at IS NULL",
                    args![id.as_str(), ts(at), note, by],
                )?;
                if n == 0
                    && db
                        .conn
                        .query_opt("SELECT 1 FROM incidents WHERE id = ?1", args![id.as_str()])?
                        .is_none()
                {
                    return Err(StoreError::NoIncident(id.to_string()));
                }
                Ok(n > 0)
            })
            .await
    }

    /// The response clock's facts of one incident.
    pub async fn response_facts(&self, id: &IncidentId) -> Result<ResponseFacts, StoreError> {
        let id = id.clone();
        self.worker
            .call(move |db| {
                let Some(r) = db.conn.query_opt(
                    "SELECT responded_at, response_note, response_by, dialplan FROM incidents
                     WHERE id = ?1",
                    args![id.as_str()],
                )?
                else {
                    return Err(StoreError::NoIncident(id.to_string()));
                };
                let first = db.conn.query_opt(
                    "SELECT MIN(answered_at) FROM calls
                     WHERE incident_id = ?1 AND direction = 'outbound'
                       AND answered_at IS NOT NULL AND contact NOT LIKE 'operator-%'",
                    args![id.as_str()],
                )?;
                let first_answered = match first {
                    Some(f) => parse_ts_opt("answered_at", f.get(0)?)?,
                    None => None,
                };
                Ok(ResponseFacts {
                    dialplan: r.get(3)?,
                    first_answered,
                    responded_at: parse_ts_opt("responded_at", r.get(0)?)?,
                    note: r.get(1)?,
                    by: r.get(2)?,
                })
            })
            .await
    }
}
