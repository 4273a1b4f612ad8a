//! Dialogs of answered calls: saved at answer, closed when the call's task ends. Rows still
//! open at start belong to calls a crash cut short, still up at the far end.

use super::Store;
use super::codec::{int, parse_ts, ts};
use super::conn::args;
use super::error::StoreError;
use super::model::StoredDialog;
use chrono::{DateTime, Utc};

impl Store {
    /// Persists an answered call's dialog (a second save of the same call replaces it and
    /// opens it again).
    pub async fn save_dialog(&self, d: &StoredDialog) -> Result<(), StoreError> {
        let d = d.clone();
        let routes = serde_json::to_string(&d.route_set)?;
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "INSERT INTO dialogs (call_id, local_tag, remote_tag, local_uri, remote_uri,
                         remote_target, route_set, next_cseq, transport, destination,
                         answered_at, closed_at, closed_reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL)
                     ON CONFLICT (call_id) DO UPDATE SET local_tag = excluded.local_tag,
                         remote_tag = excluded.remote_tag, local_uri = excluded.local_uri,
                         remote_uri = excluded.remote_uri,
                         remote_target = excluded.remote_target,
                         route_set = excluded.route_set, next_cseq = excluded.next_cseq,
                         transport = excluded.transport, destination = excluded.destination,
                         answered_at = excluded.answered_at, closed_at = NULL,
                         closed_reason = NULL",
                    args![
                        d.call_id,
                        d.local_tag,
                        d.remote_tag,
                        d.local_uri,
                        d.remote_uri,
                        d.remote_target,
                        routes,
                        int(d.next_cseq as u64),
                        d.transport,
                        d.destination,
                        ts(d.answered_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    /// Marks a dialog over (the call ended, or its orphan BYE got its answer or gave up).
    /// Unknown or already closed dialogs are left alone.
    pub async fn close_dialog(
        &self,
        call_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (call_id, reason) = (call_id.to_string(), reason.to_string());
        self.worker
            .call(move |db| {
                db.conn.execute(
                    "UPDATE dialogs SET closed_at = ?2, closed_reason = ?3
                     WHERE call_id = ?1 AND closed_at IS NULL",
                    args![call_id, ts(at), reason],
                )?;
                Ok(())
            })
            .await
    }

    /// Dialogs not closed yet, oldest answer first.
    pub async fn open_dialogs(&self) -> Result<Vec<StoredDialog>, StoreError> {
        let held = self.held.clone();
        self.worker
            .call(move |db| {
                // Not a live replica's (PostgreSQL): its calls are up and its own; a call
                // marked interrupted (its replica's lease taken over) is anyone's to end.
                let live = super::leases::live_lease(&db.conn, "c.incident_id", &held.owner);
                let rows = db.conn.query(
                    &format!(
                        "SELECT call_id, local_tag, remote_tag, local_uri, remote_uri,
                                remote_target, route_set, next_cseq, transport, destination,
                                answered_at
                         FROM dialogs d WHERE closed_at IS NULL
                           AND NOT EXISTS (SELECT 1 FROM calls c
                                           WHERE c.call_id = d.call_id
                                             AND c.interrupted = 0 AND {live})
                         ORDER BY answered_at, call_id"
                    ),
                    &[],
                )?;
                let mut out = Vec::new();
                for r in &rows {
                    let routes: String = r.get(6)?;
                    let cseq: i64 = r.get(7)?;
                    out.push(StoredDialog {
                        call_id: r.get(0)?,
                        local_tag: r.get(1)?,
                        remote_tag: r.get(2)?,
                        local_uri: r.get(3)?,
                        remote_uri: r.get(4)?,
                        remote_target: r.get(5)?,
                        route_set: serde_json::from_str(&routes)?,
                        next_cseq: u32::try_from(cseq).unwrap_or(u32::MAX),
                        transport: r.get(8)?,
                        destination: r.get(9)?,
                        answered_at: parse_ts("answered_at", r.get(10)?)?,
                    });
                }
                Ok(out)
            })
            .await
    }
}
