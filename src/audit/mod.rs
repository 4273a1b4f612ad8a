//! The integrity proof: when a call is final its WAV, its timeline (the sidecar JSON) and
//! its stored record are hashed into the store's append-only chain ([`seal_call`]);
//! [`verify`] recomputes the chain and every file and names what was changed, added or
//! removed. Also the evidence bundle's zip writer and the waveform peaks the console draws.

#[cfg(test)]
mod label_tests;
mod peaks;
pub mod retention;
mod verify;
pub mod zip;

pub use peaks::{Peaks, compute_peaks};
pub use verify::{CLI_DIR, CallCheck, Problem, Report, verify, verify_anchored, verify_call};

use crate::store::{ChainEntry, RecordingFile, Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Chain entry kind of a sealed call.
pub const KIND_CALL: &str = "call";
/// Chain entry kind of a notes or ownership edit.
pub const KIND_EDIT: &str = "incident_edit";

/// What can go wrong sealing a call.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no call {0} in the store")]
    NoCall(String),
    #[error("call {0} is already sealed with different contents")]
    AlreadySealed(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// One hashed file in a call's chain entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// As given when sealed (relative to where hotline runs, like the store's paths).
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// The payload of a `call` chain entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSeal {
    pub call_id: String,
    /// The two-channel recording.
    pub wav: FileHash,
    /// The call record JSON written beside it (the timeline).
    pub timeline: FileHash,
    /// SHA-256 of the call record as stored in the database.
    pub record_sha256: String,
}

/// SHA-256 and size of a file, read in blocks (blocking: call off the runtime).
pub fn hash_file(path: &Path) -> Result<(String, u64), std::io::Error> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize().as_slice()), n))
}

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes).as_slice())
}

async fn hash_async(path: &Path) -> Result<FileHash, AuditError> {
    let p = path.to_path_buf();
    let r = tokio::task::spawn_blocking(move || hash_file(&p))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()));
    let (sha256, bytes) = r.and_then(|x| x).map_err(|source| AuditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(FileHash {
        path: path.to_string_lossy().into_owned(),
        bytes,
        sha256,
    })
}

/// Seals a finished call: hashes its WAV, its sidecar JSON and its stored record into the
/// integrity chain, and marks the recording final (with its SHA-256) in the store.
///
/// Call it once the call task has returned, after the final `Store::save_call` and after
/// the sidecar is on disk (`Sidecar::finish`). Sealing again with the same contents returns
/// the existing entry; with other contents it fails: the chain is append-only.
pub async fn seal_call(
    store: &Store,
    call_id: &str,
    wav: &Path,
    sidecar: &Path,
) -> Result<ChainEntry, AuditError> {
    let (record, _) = store
        .record_text(call_id)
        .await?
        .ok_or_else(|| AuditError::NoCall(call_id.to_string()))?;
    let seal = CallSeal {
        call_id: call_id.to_string(),
        wav: hash_async(wav).await?,
        timeline: hash_async(sidecar).await?,
        record_sha256: sha256_hex(record.as_bytes()),
    };
    for e in store.chain_of(call_id).await? {
        if e.kind == KIND_CALL {
            let old: CallSeal = serde_json::from_str(&e.payload)?;
            return if old == seal {
                Ok(e)
            } else {
                Err(AuditError::AlreadySealed(call_id.to_string()))
            };
        }
    }
    store
        .save_recording(
            call_id,
            &RecordingFile {
                path: seal.wav.path.clone(),
                bytes: seal.wav.bytes,
                sha256: Some(seal.wav.sha256.clone()),
                is_final: true,
            },
        )
        .await?;
    let payload = serde_json::to_string(&seal)?;
    Ok(store.append_chain(KIND_CALL, call_id, &payload).await?)
}

/// `hotline verify`: opens the store of `config` and verifies everything (see [`verify`]);
/// `anchors` are head hashes recorded earlier. Errors are setup errors.
pub async fn verify_config(config: &Path, anchors: &[String]) -> Result<Report, String> {
    let cfg = crate::config::load(config).map_err(|e| e.to_string())?;
    if cfg.store.url.is_none() && !cfg.store.path.exists() {
        return Err(format!("{}: no database yet", cfg.store.path.display()));
    }
    let store = Store::open_configured(&cfg.store)
        .await
        .map_err(|e| format!("{}: {e}", cfg.store.describe()))?;
    verify_anchored(&store, &cfg.recording.dir, anchors)
        .await
        .map_err(|e| e.to_string())
}
