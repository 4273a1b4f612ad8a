//! Ground truth from the operators on the bridge: "a person is here" / "still a machine",
//! kept with the call and, in the same transaction, as an entry of the integrity chain.

use super::Store;
use super::audit::{CHAIN_LOCK, ChainEntry, append};
use super::codec::{int, parse_ts, ts, uint};
use super::conn::args;
use super::error::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The chain entry kind of a label (subject: the call id; payload: `{"label", "by"}`).
pub const KIND_LABEL: &str = "call_label";

/// One label as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallLabel {
    /// The chain entry that proves it.
    pub seq: u64,
    pub call_id: String,
    pub at: DateTime<Utc>,
    /// `person` or `machine`.
    pub label: String,
    /// Who gave it ("bridge L1 (Ada)").
    pub by: String,
}

/// The payload a label's chain entry commits to.
pub fn label_payload(label: &str, by: &str) -> String {
    serde_json::json!({ "label": label, "by": by }).to_string()
}

fn rows(db: &mut super::worker::Db, call_id: Option<String>) -> Result<Vec<CallLabel>, StoreError> {
    let rows = db.conn.query(
        "SELECT chain_seq, call_id, at, label, given_by FROM call_labels
         WHERE (CAST(?1 AS TEXT) IS NULL OR call_id = ?1) ORDER BY chain_seq",
        args![call_id],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(CallLabel {
            seq: uint("chain_seq", r.get(0)?)?,
            call_id: r.get(1)?,
            at: parse_ts("at", r.get(2)?)?,
            label: r.get(3)?,
            by: r.get(4)?,
        });
    }
    Ok(out)
}

impl Store {
    /// Stores an operator's label for a call and chains it (one transaction).
    pub async fn label_call(
        &self,
        call_id: &str,
        label: &str,
        by: &str,
    ) -> Result<(CallLabel, ChainEntry), StoreError> {
        let (call_id, label, by) = (call_id.to_string(), label.to_string(), by.to_string());
        self.worker
            .call(move |db| {
                let now = Utc::now();
                let tx = db.conn.begin_locked(CHAIN_LOCK)?;
                let e = append(&tx, KIND_LABEL, &call_id, &label_payload(&label, &by), now)?;
                tx.execute(
                    "INSERT INTO call_labels (chain_seq, call_id, at, label, given_by)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    args![int(e.seq), call_id, e.at, label, by],
                )?;
                tx.commit()?;
                let at = parse_ts("at", e.at.clone())?;
                debug_assert_eq!(ts(at), e.at);
                Ok((
                    CallLabel {
                        seq: e.seq,
                        call_id: call_id.clone(),
                        at,
                        label: label.clone(),
                        by: by.clone(),
                    },
                    e,
                ))
            })
            .await
    }

    /// A call's labels, oldest first.
    pub async fn call_labels(&self, call_id: &str) -> Result<Vec<CallLabel>, StoreError> {
        let call_id = call_id.to_string();
        self.worker
            .call(move |db| rows(db, Some(call_id.clone())))
            .await
    }

    /// Every label (for `hotline verify`).
    pub async fn all_call_labels(&self) -> Result<Vec<CallLabel>, StoreError> {
        self.worker.call(|db| rows(db, None)).await
    }
}
