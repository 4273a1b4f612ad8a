//! `kill -9` mid-call: the recording still plays, the sidecar says how far the call got, and
//! the next start marks the call interrupted and repairs the WAV.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn sidecars(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("recordings")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn kill_9_mid_call_leaves_a_playable_recording_and_a_timeline() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "30s" }, { hangup = true }"#,
        "",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["dial", "--config"])
        .arg(&s.config)
        .arg("t")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn hotline");
    // Wait until the sidecar says the call was answered, then let it run 3 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let sidecar = loop {
        assert!(Instant::now() < deadline, "call never answered");
        if let Some(p) = sidecars(s.dir.path()).pop()
            && let Ok(t) = std::fs::read_to_string(&p)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&t)
            && !v["stages"]["answered"].is_null()
        {
            break p;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_secs(3));
    child.kill().expect("kill -9"); // SIGKILL
    child.wait().expect("reaped");
    drop(sipp);

    let wav = sidecar.with_extension("wav");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sidecar).expect("sidecar")).expect("json");
    assert!(
        v["stages"]["ended"].is_null(),
        "the call never ended cleanly"
    );
    assert!(!v["events"].as_array().expect("events").is_empty());
    // Playable as it is, missing at most the last ~1.5 s.
    let r = hound::WavReader::open(&wav).expect("playable after kill -9");
    let frames = r.duration();
    assert!(frames >= 8000 * 3 / 2, "only {frames} frames survived");

    // The next start finds it, marks it interrupted and fixes the header.
    let busy = Sipp::start(dir.path(), "uas_busy.xml", "u1", &[]);
    let s2 = setup("udp", busy.port, "10s", "", "");
    std::fs::rename(
        s.dir.path().join("recordings"),
        s2.dir.path().join("recordings"),
    )
    .expect("move recordings");
    let (code, _) = dial(&s2, &[]);
    assert_eq!(code, 3);
    let moved = sidecars(s2.dir.path())
        .into_iter()
        .find(|p| p.file_name() == sidecar.file_name())
        .expect("old sidecar");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&moved).expect("sidecar")).expect("json");
    assert_eq!(v["interrupted"], true);
    assert!(
        v["termination"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("interrupted"),
        "{v:#}"
    );
    let wav = moved.with_extension("wav");
    let len = std::fs::metadata(&wav).expect("wav").len();
    let r = hound::WavReader::open(&wav).expect("still playable");
    assert_eq!(
        44 + r.duration() as u64 * 4,
        len,
        "header now covers the whole file"
    );
}
