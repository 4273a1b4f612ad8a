//! Fallback P0 tickets: each POST attempt, with what came back.

use super::Store;
use super::codec::require_incident;
use super::codec::{parse_ts, ts};
use super::conn::{Conn, args};
use super::error::StoreError;
use super::id::IncidentId;
use super::model::TicketAttempt;

/// The most of a response body the store keeps.
const RESPONSE_MAX: usize = 1024;

/// `s` cut to at most `max` bytes, on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The ticket attempts of one incident, in order.
pub(super) fn tickets_of(conn: &Conn, incident_id: &str) -> Result<Vec<TicketAttempt>, StoreError> {
    let rows = conn.query(
        "SELECT url, attempt, status_code, response, at FROM tickets
         WHERE incident_id = ?1 ORDER BY seq",
        args![incident_id],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(TicketAttempt {
            url: r.get(0)?,
            attempt: r.get(1)?,
            status_code: r.get(2)?,
            response: r.get(3)?,
            at: parse_ts("at", r.get(4)?)?,
        });
    }
    Ok(out)
}

impl Store {
    /// Records one ticket POST for an incident (the response kept to its first 1 KiB).
    pub async fn record_ticket(
        &self,
        id: &IncidentId,
        attempt: &TicketAttempt,
    ) -> Result<(), StoreError> {
        let (id, t) = (id.clone(), attempt.clone());
        self.worker
            .call(move |db| {
                let tx = db.conn.begin()?;
                require_incident(&tx, &id)?;
                tx.execute(
                    "INSERT INTO tickets (incident_id, seq, url, attempt, status_code, response, at)
                     SELECT ?1, COALESCE(MAX(seq), 0) + 1, CAST(?2 AS TEXT), CAST(?3 AS BIGINT),
                            CAST(?4 AS BIGINT), CAST(?5 AS TEXT), CAST(?6 AS TEXT)
                     FROM tickets WHERE incident_id = ?1",
                    args![
                        id.as_str(),
                        t.url,
                        t.attempt,
                        t.status_code,
                        t.response.as_deref().map(|r| clip(r, RESPONSE_MAX)),
                        ts(t.at)
                    ],
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clip_keeps_characters_whole() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("aé", 2), "a");
    }
}

/// An incident whose P0 ticket was never accepted while it still fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTicket {
    pub id: IncidentId,
    /// POSTs tried so far.
    pub attempts: u32,
    /// When the last one was tried.
    pub last_at: chrono::DateTime<chrono::Utc>,
}

impl Store {
    /// Incidents still firing whose ladder is exhausted and whose ticket no attempt got
    /// accepted (2xx): the fallback retries them for as long as they fire, across restarts.
    pub async fn pending_tickets(&self) -> Result<Vec<PendingTicket>, StoreError> {
        self.worker
            .call(|db| {
                let rows = db.conn.query(
                    "SELECT i.id, COUNT(*), MAX(t.at) FROM incidents i
                     JOIN tickets t ON t.incident_id = i.id
                     WHERE i.status = 'firing' AND i.ladder_state = 'exhausted'
                     GROUP BY i.id
                     HAVING SUM(CASE WHEN t.status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END) = 0
                     ORDER BY i.id",
                    &[],
                )?;
                let mut out = Vec::new();
                for r in &rows {
                    out.push(PendingTicket {
                        id: IncidentId::from_db(r.get(0)?),
                        attempts: r.get::<i64>(1)?.clamp(0, u32::MAX as i64) as u32,
                        last_at: parse_ts("at", r.get(2)?)?,
                    });
                }
                Ok(out)
            })
            .await
    }
}
