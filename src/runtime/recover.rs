//! After a crash. `hotline serve` completes each call of the store that a stop cut short
//! ([`recover_call`]): WAV repaired, the orphaned dialog ended with a BYE, the interruption and
//! the BYE's outcome on the timeline, sealed. [`recover_recordings`] does the file part for
//! sidecars no store knows (`hotline dial`): marked interrupted, WAV headers repaired.

use crate::call::{ByeEnd, EventKind, TimelineEvent};
use crate::config::Config;
use crate::recording::repair::{RepairOutcome, repair};
use crate::recording::sidecar::write_json_atomic;
use crate::sip::Endpoint;
use crate::store::{InterruptedCall, Store, StoredDialog};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;
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
    recover_recordings_except(dir, &HashSet::new())
}

/// [`recover_recordings`], leaving alone the calls in `skip` (recovered through the store).
pub fn recover_recordings_except(dir: &Path, skip: &HashSet<String>) -> usize {
    let mut files = Vec::new();
    sidecars(dir, &mut files);
    let mut n = 0;
    for path in files {
        if path
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|s| skip.contains(s))
        {
            continue;
        }
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

/// Why the recovered call's BYE is sent (its Reason header).
const BYE_REASON: &str = "hotline restarted; this call was cut short";

/// A cut call read back and its WAV repaired, before its BYE.
pub struct Prepared {
    pub call_id: String,
    wav: PathBuf,
    sidecar: PathBuf,
    record: Value,
    reason: String,
}

/// First half of completing a call a stop cut short: repairs its WAV and reads its record
/// (the sidecar, written as the call went, unless the stored one has more).
pub async fn prepare_call(store: &Store, call: &InterruptedCall) -> Option<Prepared> {
    let wav = PathBuf::from(&call.recording_path);
    let sidecar = wav.with_extension("json");
    let w = wav.clone();
    let repaired = match tokio::task::spawn_blocking(move || repair(&w)).await {
        Ok(Ok(RepairOutcome::Ok)) => "recording intact".to_string(),
        Ok(Ok(RepairOutcome::Repaired { frames })) => {
            format!("recording repaired ({frames} frames)")
        }
        Ok(Err(e)) => format!("recording not repairable: {e}"),
        Err(e) => format!("recording not repairable: {e}"),
    };
    let stored: Option<Value> = match store.record_text(&call.call_id).await {
        Ok(Some((text, _))) => serde_json::from_str(&text).ok(),
        _ => None,
    };
    let on_disk: Option<Value> = std::fs::read_to_string(&sidecar)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let events = |v: &Value| v["events"].as_array().map_or(0, Vec::len);
    let record = match (on_disk, stored) {
        (Some(d), Some(s)) if events(&s) > events(&d) => s,
        (Some(d), _) => d,
        (None, Some(s)) => s,
        (None, None) => {
            tracing::warn!(call = call.call_id, "no record to recover");
            return None;
        }
    };
    let reason = format!("interrupted: hotline stopped during the call; {repaired}");
    tracing::warn!(
        call = call.call_id,
        reason,
        "recovering an interrupted call"
    );
    Some(Prepared {
        call_id: call.call_id.clone(),
        wav,
        sidecar,
        record,
        reason,
    })
}

/// Second half: ends the orphaned dialog (if the call was answered) with a BYE, puts the
/// interruption and the BYE's outcome on the timeline, stores the record, rewrites the sidecar
/// and seals the call into the integrity chain.
pub async fn finish_call(
    store: &Store,
    ep: &Endpoint,
    cfg: &Config,
    p: Prepared,
    dialog: Option<StoredDialog>,
) {
    let Prepared {
        call_id,
        wav,
        sidecar,
        record: mut v,
        reason,
    } = p;
    let answered = v.pointer("/stages/answered").is_some_and(|a| !a.is_null());
    push_event(
        &mut v,
        Utc::now(),
        EventKind::Interrupted {
            reason: reason.clone(),
        },
    );
    let mut why = reason;
    if let Some(d) = dialog {
        let ended = super::orphan::end_dialog(ep, cfg, &d, BYE_REASON).await;
        for (at, kind) in ended.events {
            push_event(&mut v, at, kind);
        }
        let outcome = match &ended.end {
            ByeEnd::Answered { code: 200..=299 } => "BYE after the restart answered".to_string(),
            ByeEnd::Answered { code: 481 } => {
                "BYE after the restart: the far end had already ended it (481)".to_string()
            }
            ByeEnd::Answered { code } => format!("BYE after the restart answered {code}"),
            ByeEnd::Failed { reason } => format!("BYE after the restart failed: {reason}"),
        };
        tracing::warn!(call = call_id, outcome, "orphaned dialog");
        why = format!("{why}; {outcome}");
        if let Err(e) = store.close_dialog(&d.call_id, &outcome, Utc::now()).await {
            tracing::warn!(error = %e, "cannot close the dialog");
        }
    }
    v["interrupted"] = json!(true);
    v["termination"] = json!({
        "result": if answered { "answered" } else { "failed" },
        "reason": why,
    });
    if let Err(e) = store.replace_record(&call_id, &v).await {
        tracing::warn!(error = %e, "cannot store the recovered record");
        return;
    }
    let (s, value) = (sidecar.clone(), v.clone());
    match tokio::task::spawn_blocking(move || write_json_atomic(&s, &value)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the recovered sidecar"),
        Err(e) => tracing::warn!(error = %e, "cannot write the recovered sidecar"),
    }
    match crate::audit::seal_call(store, &call_id, &wav, &sidecar).await {
        Ok(e) => tracing::info!(call = call_id, seq = e.seq, "recovered call sealed"),
        Err(e) => tracing::warn!(call = call_id, error = %e, "cannot seal the recovered call"),
    }
}

/// Ends an orphaned dialog whose call is not in the store (its row never written): nothing to
/// seal, but the far end still holds the line.
pub async fn end_stray_dialog(store: &Store, ep: &Endpoint, cfg: &Config, d: StoredDialog) {
    let ended = super::orphan::end_dialog(ep, cfg, &d, BYE_REASON).await;
    let outcome = format!("BYE after the restart: {:?}", ended.end);
    tracing::warn!(
        call = d.call_id,
        outcome,
        "orphaned dialog without a stored call"
    );
    let _ = store.close_dialog(&d.call_id, &outcome, Utc::now()).await;
}

/// Appends a timeline entry to a record's JSON (its offset counted from the INVITE).
fn push_event(v: &mut Value, at: DateTime<Utc>, kind: EventKind) {
    let first = v
        .pointer("/stages/invite_sent")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(at);
    let offset_ms = (at - first).num_microseconds().unwrap_or(0) as f64 / 1000.0;
    let e = TimelineEvent {
        at,
        offset_ms,
        kind,
    };
    if let (Ok(e), Some(events)) = (serde_json::to_value(e), v["events"].as_array_mut()) {
        events.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{CallRecord, Clock};
    use crate::recording::{Channel, Recorder};
    use std::time::{Duration, Instant};

    /// A call that was ringing when hotline died: no dialog to end, but its record is
    /// completed and sealed, and `verify` counts it.
    #[tokio::test]
    async fn a_cut_call_without_a_dialog_is_completed_and_sealed() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg_path = dir.path().join("hotline.toml");
        std::fs::write(
            &cfg_path,
            "[sip]\nbind = \"127.0.0.1:0\"\ntransport = \"udp\"\nfrom_user = \"hotline\"\n\
             [media]\nadvertise = \"127.0.0.1\"\nrtp_ports = \"30000-30010\"\n\
             [recording]\ndir = \"recordings\"\n[sla]\nanswer_within = \"30s\"\n\
             [dialplans]\ndir = \"dialplans\"\n",
        )
        .expect("config");
        let cfg = crate::config::load(&cfg_path).expect("load");
        let recordings = dir.path().join("recordings");
        let wav = recordings.join("c1.wav");
        let t0 = Instant::now();
        let mut rec = CallRecord::new(
            "c1",
            "acme",
            "support",
            "sip:support@127.0.0.1",
            Duration::from_secs(30),
            &wav.display().to_string(),
            Clock::now(),
        );
        rec.push(
            t0,
            EventKind::InviteSent {
                cseq: 1,
                authenticated: false,
            },
        );
        let store = Store::open(dir.path().join("hotline.db"))
            .await
            .expect("store");
        store.save_call(&rec, None).await.expect("save");
        // As the call task left them: a WAV with a stale header, the sidecar a step ahead.
        let mut w = Recorder::create(&wav).expect("wav");
        w.write(Channel::Rx, 0, &[100; 8000]).expect("write");
        std::mem::forget(w);
        rec.push(
            t0 + Duration::from_millis(120),
            EventKind::Provisional {
                code: 180,
                reason: "Ringing".into(),
            },
        );
        let sidecar = wav.with_extension("json");
        write_json_atomic(&sidecar, &serde_json::to_value(&rec).expect("json")).expect("sidecar");

        let found = store.interrupted_on_start().await.expect("marked");
        assert_eq!(found.calls.len(), 1);
        let p = prepare_call(&store, &found.calls[0])
            .await
            .expect("prepared");
        let ep = Endpoint::bind(
            "127.0.0.1:0".parse().expect("addr"),
            crate::sip::Transport::Udp,
            "t",
        )
        .await
        .expect("endpoint");
        finish_call(&store, &ep, &cfg, p, None).await;

        let stored = store.call("c1").await.expect("read").expect("call");
        let kinds: Vec<_> = stored.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["invite_sent", "provisional", "interrupted"]);
        assert_eq!(stored.record["termination"]["result"], "failed");
        let on_disk: Value =
            serde_json::from_str(&std::fs::read_to_string(&sidecar).expect("read")).expect("json");
        assert_eq!(on_disk, stored.record, "the sidecar and the store agree");
        let report = crate::audit::verify(&store, &recordings)
            .await
            .expect("verify");
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!((report.calls, report.stored_calls), (1, 1));
        // Found again? No: sealed calls are done.
        assert!(
            store
                .interrupted_on_start()
                .await
                .expect("again")
                .calls
                .is_empty()
        );
    }
}
