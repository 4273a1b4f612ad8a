//! Recording retention that keeps the chain verifiable: a sealed recording older than the
//! policy is deleted only after a tombstone entry (`recording_deleted`: which call, the
//! sealed file's path, SHA-256 and size, when and why) is appended to the hash chain. `verify`
//! then accepts the missing file for exactly that hash and names any other deletion.

use super::{CallSeal, FileHash, KIND_CALL};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Chain entry kind of a recording deleted by the retention policy.
pub const KIND_TOMBSTONE: &str = "recording_deleted";

/// The payload of a `recording_deleted` chain entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub call_id: String,
    /// The recording as it was sealed.
    pub wav: FileHash,
    pub reason: String,
}

/// What a prune did (or, dry, would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PruneReport {
    pub deleted: Vec<String>,
    pub bytes: u64,
    /// Calls whose file was already gone or differed from its seal: left for `verify`.
    pub skipped: Vec<String>,
}

/// Deletes the recordings of calls sealed before `before` (their timelines and records stay),
/// each after its tombstone is in the chain. `dry`: report only.
pub async fn prune(
    store: &Store,
    before: DateTime<Utc>,
    reason: &str,
    dry: bool,
) -> Result<PruneReport, StoreError> {
    let chain = store.chain().await?;
    let gone: std::collections::BTreeSet<String> = chain
        .iter()
        .filter(|e| e.kind == KIND_TOMBSTONE)
        .map(|e| e.subject.clone())
        .collect();
    let mut r = PruneReport::default();
    for e in chain.iter().filter(|e| e.kind == KIND_CALL) {
        let Ok(at) = DateTime::parse_from_rfc3339(&e.at) else {
            continue;
        };
        if at.with_timezone(&Utc) >= before || gone.contains(&e.subject) {
            continue;
        }
        let Ok(seal) = serde_json::from_str::<CallSeal>(&e.payload) else {
            continue;
        };
        let path = std::path::PathBuf::from(&seal.wav.path);
        let p = path.clone();
        let now = tokio::task::spawn_blocking(move || super::hash_file(&p))
            .await
            .ok()
            .and_then(Result::ok);
        if now != Some((seal.wav.sha256.clone(), seal.wav.bytes)) {
            r.skipped.push(seal.call_id.clone());
            continue;
        }
        r.bytes += seal.wav.bytes;
        r.deleted.push(seal.call_id.clone());
        if dry {
            continue;
        }
        let t = Tombstone {
            call_id: seal.call_id.clone(),
            wav: seal.wav.clone(),
            reason: reason.to_string(),
        };
        let payload = serde_json::to_string(&t).unwrap_or_default();
        store
            .append_chain(KIND_TOMBSTONE, &seal.call_id, &payload)
            .await?;
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "tombstoned but not deleted");
        }
    }
    Ok(r)
}

/// `hotline prune`: opens the store of `config` and prunes recordings sealed more than
/// `older_than` ago.
pub async fn prune_config(
    config: &std::path::Path,
    older_than: std::time::Duration,
    dry: bool,
) -> Result<PruneReport, String> {
    let cfg = crate::config::load(config).map_err(|e| e.to_string())?;
    let store = Store::open_configured(&cfg.store)
        .await
        .map_err(|e| format!("{}: {e}", cfg.store.describe()))?;
    let age = chrono::TimeDelta::from_std(older_than).map_err(|e| e.to_string())?;
    let reason = format!(
        "retention: recordings sealed more than {} days ago",
        age.num_days()
    );
    prune(&store, Utc::now() - age, &reason, dry)
        .await
        .map_err(|e| e.to_string())
}
