//! The chain against a tamperer: a flipped byte in a WAV, an edited timeline field, a
//! deleted entry, an edited entry, an added file; each is named. `hotline verify` too.

use crate::fixture::{AUDITOR, fixture};
use hotline::audit::{CallCheck, Problem, verify, verify_call};
use hotline::store::IncidentField;
use std::process::Command;

#[tokio::test]
async fn untouched_evidence_verifies() {
    let f = fixture(true).await;
    let r = verify(f.svc.store(), &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!((r.entries, r.calls, r.files), (2, 2, 4));
    assert!(matches!(
        verify_call(f.svc.store(), &f.call_id).await.expect("call"),
        CallCheck::Verified { seq: 2, .. }
    ));
    // Sealing again with the same files is a no-op; the chain is append-only.
    let again = hotline::audit::seal_call(f.svc.store(), &f.call_id, &f.wav, &f.sidecar)
        .await
        .expect("reseal");
    assert_eq!(again.seq, 2);
}

#[tokio::test]
async fn flipped_wav_byte_is_reported() {
    let f = fixture(true).await;
    let mut wav = std::fs::read(&f.wav).expect("wav");
    wav[5000] ^= 0x01;
    std::fs::write(&f.wav, wav).expect("write");
    let r = verify(f.svc.store(), &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert_eq!(
        r.problems,
        [Problem::FileChanged {
            call_id: f.call_id.clone(),
            file: "recording",
            path: f.wav.to_string_lossy().into(),
        }]
    );
    assert!(r.problems[0].to_string().contains("recording"));
    assert!(matches!(
        verify_call(f.svc.store(), &f.call_id).await.expect("call"),
        CallCheck::Failed { .. }
    ));
    let app = hotline::web::router(f.svc.clone());
    let page = crate::router::send(
        &app,
        "GET",
        &format!("/console/calls/{}", f.call_id),
        Some(AUDITOR),
        None,
    )
    .await
    .text();
    assert!(
        page.contains("TAMPERED") && page.contains("was changed"),
        "call page shows it"
    );
}

#[tokio::test]
async fn edited_timeline_field_is_reported_on_disk_and_in_the_store() {
    let f = fixture(true).await;
    let text = std::fs::read_to_string(&f.sidecar).expect("sidecar");
    let edited = text.replacen(
        "\"time_to_answer_ms\": 1500",
        "\"time_to_answer_ms\": 900",
        1,
    );
    assert_ne!(text, edited, "the field is there to edit");
    std::fs::write(&f.sidecar, edited).expect("write");
    f.svc
        .store()
        .execute_raw(&format!(
            "UPDATE calls SET record_json = replace(record_json, '\"time_to_answer_ms\":1500', \
             '\"time_to_answer_ms\":900') WHERE call_id = '{}'",
            f.call_id
        ))
        .await
        .expect("tamper");
    let r = verify(f.svc.store(), &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert_eq!(
        r.problems,
        [
            Problem::FileChanged {
                call_id: f.call_id.clone(),
                file: "timeline",
                path: f.sidecar.to_string_lossy().into(),
            },
            Problem::RecordChanged {
                call_id: f.call_id.clone()
            },
        ]
    );
}

#[tokio::test]
async fn deleted_and_edited_entries_are_reported() {
    let f = fixture(true).await;
    let store = f.svc.store();
    store
        .set_incident_field(
            &f.incident,
            IncidentField::Notes,
            Some("swap disk 3"),
            "oscar",
        )
        .await
        .expect("notes");
    store
        .set_incident_field(
            &f.incident,
            IncidentField::Notes,
            Some("swap disk 3, then rebuild"),
            "oscar",
        )
        .await
        .expect("notes");
    // Entries: 1 first call, 2 answered call, 3 and 4 notes.
    let dir = f.svc.config().recording.dir.clone();
    assert!(verify(store, &dir).await.expect("verify").ok());

    store
        .execute_raw("DELETE FROM audit_chain WHERE seq = 2")
        .await
        .expect("delete");
    let r = verify(store, &dir).await.expect("verify");
    assert_eq!(
        r.problems,
        [
            Problem::EntriesRemoved { from: 2, to: 2 },
            Problem::CallNotSealed {
                call_id: f.call_id.clone()
            },
        ],
        "named: the gap and the call it held"
    );
    assert_eq!(r.problems[0].to_string(), "chain entry 2 was removed");

    // The last entry, deleted: its notes edit no longer matches the notes.
    store
        .execute_raw("DELETE FROM audit_chain WHERE seq = 4")
        .await
        .expect("delete");
    let r = verify(store, &dir).await.expect("verify");
    assert!(
        r.problems.contains(&Problem::FieldChanged {
            incident_id: f.incident.to_string(),
            field: "notes".into()
        }),
        "{:?}",
        r.problems
    );

    // An edited payload breaks the entry's own hash.
    store
        .execute_raw(
            "UPDATE audit_chain SET payload = replace(payload, 'swap', 'SWAP') WHERE seq = 3",
        )
        .await
        .expect("edit");
    let r = verify(store, &dir).await.expect("verify");
    assert!(
        r.problems.contains(&Problem::EntryChanged { seq: 3 }),
        "{:?}",
        r.problems
    );
}

#[tokio::test]
async fn notes_edited_behind_the_consoles_back_and_added_files_are_reported() {
    let f = fixture(true).await;
    let store = f.svc.store();
    store
        .execute_raw(&format!(
            "UPDATE incidents SET notes = 'nothing happened' WHERE id = '{}'",
            f.incident
        ))
        .await
        .expect("tamper");
    let extra = f.wav.with_file_name("planted.wav");
    std::fs::copy(&f.wav, &extra).expect("copy");
    let r = verify(store, &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert_eq!(
        r.problems,
        [
            Problem::FileAdded {
                path: extra.to_string_lossy().into()
            },
            Problem::FieldChanged {
                incident_id: f.incident.to_string(),
                field: "notes".into()
            },
        ]
    );
}

#[tokio::test]
async fn hotline_verify_names_what_changed() {
    let f = fixture(false).await;
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("verify")
            .arg("--config")
            .arg(&f.config)
            .args(extra)
            .output()
            .expect("run hotline verify")
    };
    let ok = run(&[]);
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        out.starts_with(
            "verified: 2 chain entries, 2 calls sealed of 2 in the store, 4 files; head "
        ),
        "{out}"
    );
    let head = out.trim().rsplit(' ').next().expect("head").to_string();
    assert_eq!(head.len(), 64);
    assert_eq!(run(&["--head", &head]).status.code(), Some(0));

    let mut wav = std::fs::read(&f.wav).expect("wav");
    wav[100] ^= 0x80;
    std::fs::write(&f.wav, wav).expect("write");
    let bad = run(&["--head", &"ab".repeat(32)]);
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("FAIL call {}: recording", f.call_id)) && out.contains("was changed"),
        "{out}"
    );
    assert!(
        out.contains("is not in the chain: the chain was rewritten"),
        "{out}"
    );
    let json = run(&["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["problems"][0]["problem"], "file_changed");
}

/// Issue 19, retention: `prune` deletes sealed recordings past the policy only after a
/// tombstone in the chain; `verify` stays clean, and a recording deleted without one is named.
#[tokio::test]
async fn retention_tombstones_keep_the_chain_verifiable() {
    use hotline::audit::retention::{KIND_TOMBSTONE, prune};
    let f = fixture(true).await;
    let store = f.svc.store();
    let future = chrono::Utc::now() + chrono::TimeDelta::days(1);
    let dry = prune(store, future, "test policy", true)
        .await
        .expect("dry");
    assert_eq!(dry.deleted.len(), 2, "{dry:?}");
    assert!(f.wav.exists(), "a dry run deletes nothing");
    // Nothing is old enough under a one-year policy.
    let year_ago = chrono::Utc::now() - chrono::TimeDelta::days(365);
    assert!(
        prune(store, year_ago, "1y", false)
            .await
            .expect("prune")
            .deleted
            .is_empty()
    );
    let r = prune(store, future, "test policy", false)
        .await
        .expect("prune");
    assert_eq!(r.deleted.len(), 2);
    assert!(!f.wav.exists());
    assert!(f.sidecar.exists(), "the timeline stays");
    let chain = store.chain().await.expect("chain");
    assert_eq!(chain.iter().filter(|e| e.kind == KIND_TOMBSTONE).count(), 2);
    let v = verify(store, &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert!(v.ok(), "{:?}", v.problems);
    // Pruning again finds nothing; deleting a timeline by hand is still named.
    assert!(
        prune(store, future, "again", false)
            .await
            .expect("prune")
            .deleted
            .is_empty()
    );
    std::fs::remove_file(&f.sidecar).expect("rm");
    let v = verify(store, &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert!(
        v.problems.iter().any(|p| matches!(
            p,
            Problem::FileRemoved {
                file: "timeline",
                ..
            }
        )),
        "{:?}",
        v.problems
    );
}
