//! After a crash: calls whose sidecar never reached `ended` are marked interrupted, and their
//! WAV headers repaired so the recording plays.

use crate::recording::repair::{RepairOutcome, repair};
use crate::recording::sidecar::write_json_atomic;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn sidecars(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            sidecars(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

/// Repairs every interrupted call under `dir`; returns how many were found.
pub fn recover_recordings(dir: &Path) -> usize {
    let mut files = Vec::new();
    sidecars(dir, &mut files);
    let mut n = 0;
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(mut v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let ended = v.pointer("/stages/ended").is_some_and(|e| !e.is_null());
        if ended || v.get("interrupted").is_some() {
            continue;
        }
        n += 1;
        let wav = path.with_extension("wav");
        let repaired = match repair(&wav) {
            Ok(RepairOutcome::Ok) => "recording intact".to_string(),
            Ok(RepairOutcome::Repaired { frames }) => {
                format!("recording repaired ({frames} frames)")
            }
            Err(e) => format!("recording not repairable: {e}"),
        };
        let reason = format!("interrupted: hotline stopped during the call; {repaired}");
        tracing::warn!(sidecar = %path.display(), reason, "recovered an interrupted call");
        v["interrupted"] = json!(true);
        v["termination"] = json!({"result": "failed", "reason": reason});
        if let Err(e) = write_json_atomic(&path, &v) {
            tracing::warn!(error = %e, "cannot update sidecar");
        }
    }
    n
}
