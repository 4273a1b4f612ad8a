//! Ground truth end to end, and the band on the console: `hotline serve` calls
//! `hotline sim-vendor`'s hold line (IVR prompt, hold music with an announcement, then a
//! person who answers the probe). Once the listener has found the person, headless Chromium
//! (Debian's, npm playwright-core) joins: a listen-only leg may not label; a talking leg
//! presses "Still a machine" and hangs up. The label is in the store, the API, the record
//! (the detection kept, flagged disputed), the console and the chain (`hotline verify` clean,
//! then a tampered label named); the contact's prompt library now knows the person's words.
//! The console's call page shows the band (music / prompt / person), the human stage, time
//! to a person and hold time.

mod support;

use hotline::listen::silero::SileroModel;
use hotline::listen::{Event, Listener, PromptLibrary, Recorded, Thresholds};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn has_event(call: &Value, kind: &str) -> bool {
    call["record"]["events"]
        .as_array()
        .or_else(|| call["events"].as_array())
        .is_some_and(|a| a.iter().any(|e| e["kind"] == kind))
}

/// Waits until the incident's call has a person on the line; returns the call id.
async fn call_with_person(s: &Server, incident: &str) -> String {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, inc) = get(s, &format!("/v1/incidents/{incident}")).await;
        if let Some(id) = inc["calls"][0]["call_id"].as_str() {
            let (_, call) = get(s, &format!("/v1/calls/{id}")).await;
            if call["bridge"]["live"] == true && has_event(&call, "human_detected") {
                return id.to_string();
            }
        }
        assert!(Instant::now() < end, "no person found on the line: {inc:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn verify(config: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["verify", "--config"])
        .arg(config)
        .output()
        .expect("hotline verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn right_channel(path: &Path) -> Vec<i16> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
    all.iter().skip(1).step_by(2).copied().collect()
}

fn find_bin(dir: &Path) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_bin(&p) {
                return Some(f);
            }
        } else if p.extension().is_some_and(|x| x == "bin") {
            return Some(p);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn still_a_machine_is_stored_chained_shown_and_learned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing");
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run `npm ci --prefix tests/browser` (the README's test command does)"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port(false);
    let mut vendor = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["sim-vendor", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--ring", "500ms", "--hold", "9s", "--hangup-after", "90s"])
        .env("RUST_LOG", "hotline=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sim-vendor");
    // Its voices are synthesized before it answers: wait for it to say it is ready.
    let mut lines = BufReader::new(vendor.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        if line
            .expect("sim-vendor stderr")
            .contains("simulated vendor line ready")
        {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let config = serve_config(dir.path(), "[bridge]\njoin_ttl = \"10m\"\n");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "support",
            port,
            "30s",
            r#"{ wait = "prompt" }, { wait = "human", timeout = "60s" }, { play = "briefing" }, { wait = "1s" }, { hangup = true }"#
        )
        .replace("sip:support@", "sip:hold@"),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let (code, v) = post(&s, "/v1/dialplans/hpe/dial", json!({})).await;
    assert_eq!(code, 202, "{v:#}");
    let incident = v["id"].as_str().expect("id").to_string();
    let call_id = call_with_person(&s, &incident).await;

    let (code, m) = post(&s, &format!("/v1/calls/{call_id}/join"), json!({})).await;
    assert_eq!(code, 201, "{m}");
    let join = format!("{}{}", s.http, m["path"].as_str().expect("link"));
    let (code, m) = post(
        &s,
        &format!("/v1/calls/{call_id}/join"),
        json!({"listen_only": true}),
    )
    .await;
    assert_eq!(code, 201, "{m}");
    let listen = format!("{}{}", s.http, m["path"].as_str().expect("link"));
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(root.join("tests/browser"))
        .arg("truth.mjs")
        .arg(&join)
        .arg(&listen)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the browser finishes within 90 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let b: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    eprintln!("browser: {b}");
    assert!(
        b["error"].is_null(),
        "browser: {b}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b["listen_only_truth_disabled"], true);
    assert_eq!(
        b["listen_only_status"], 403,
        "a listen-only leg may not label"
    );
    assert_eq!(b["truth_disabled"], false);
    assert_eq!(b["buttons"], json!(["A person is here", "Still a machine"]));
    assert_eq!(b["labelled"], "noted: still a machine");
    assert_eq!(b["bad_label_status"], 400);

    settled(&s, &incident, Duration::from_secs(30)).await;
    // The store and the API: the label, who, when, its chain entry.
    let (_, call) = get(&s, &format!("/v1/calls/{call_id}")).await;
    let labels = call["labels"].as_array().expect("labels");
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert_eq!(labels[0]["label"], "machine");
    let by = labels[0]["by"].as_str().expect("by");
    assert!(
        by.starts_with("bridge leg-") && by.ends_with(" (Ada (on call))"),
        "{by}"
    );
    assert!(labels[0]["at"].is_string() && labels[0]["seq"].as_u64().is_some());
    let rec = &call["record"];
    assert_eq!(rec["human"]["disputed"], true, "{:#}", rec["human"]);
    assert!(
        rec["human"]["evidence"].as_array().is_some_and(|e| e
            .iter()
            .any(|x| x.as_str().unwrap_or("").starts_with("reply_to_probe"))),
        "the listener's decision is kept: {:#}",
        rec["human"]
    );
    let label_ev = rec["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "operator_label")
        .expect("operator_label on the timeline")
        .clone();
    assert_eq!(label_ev["disputed"], true);
    assert_eq!(label_ev["listener_human"], true);

    // The console: the band, the human stage, time to a person, hold, the label.
    let (code, page) = get(&s, &format!("/console/calls/{call_id}")).await;
    assert_eq!(code, 200);
    let page = page.as_str().expect("html").to_string();
    // Kept for a look (chromium --headless --screenshot target/truth-console-call.html).
    let _ = std::fs::write(root.join("target/truth-console-call.html"), &page);
    for needle in [
        "id='band'",
        "band-music",
        "band-prompt",
        "band-person",
        "id='band-human'",
        "disputed",
        "id='band-legend'",
        "recorded prompt",
        "id='time-to-human'",
        "id='hold'",
        "id='labels'",
        "still a machine",
        "(Ada (on call))",
        "a person in",
    ] {
        assert!(page.contains(needle), "console call page lacks {needle}");
    }
    // The person's mark sits where the record's human stage is.
    let zero = rec["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "media_first_tx")
        .and_then(|e| e["offset_ms"].as_f64())
        .expect("media started");
    let onset_s = (rec["time_to_human_ms"].as_f64().expect("time to human") - zero) / 1000.0;
    assert!(
        [-0.05, 0.0, 0.05]
            .iter()
            .any(|d| page.contains(&format!("person, disputed {:.1} s", onset_s + d))),
        "human mark at {onset_s:.1} s"
    );
    s.terminate();
    let _ = vendor.kill();
    let _ = vendor.wait();

    // The contact's library knows the person's words now: the call's vendor channel, read
    // again with it, has a known prompt where the person began.
    let bin = find_bin(&dir.path().join("recordings/prompts")).expect("prompt library saved");
    let lib = PromptLibrary::from_bytes(&std::fs::read(&bin).expect("library")).expect("valid");
    let rel = rec["recording"].as_str().expect("recording");
    let wav = if Path::new(rel).is_absolute() {
        PathBuf::from(rel)
    } else {
        dir.path().join(rel)
    };
    let right = right_channel(&wav);
    let model = SileroModel::shared().expect("model");
    let mut l = Listener::new(Box::new(model.stream()), lib.clone(), Thresholds::default());
    let ev = hotline::listen::timeline::run(&mut l, &right, None);
    let known: Vec<f64> = ev
        .iter()
        .filter_map(|(at, e)| match e {
            Event::Recorded {
                why: Recorded::KnownPrompt,
                ..
            } => Some(at.as_secs_f64()),
            _ => None,
        })
        .collect();
    eprintln!(
        "library: {} prompts; known prompts heard again at {known:?} s; person began at {onset_s:.2} s",
        lib.len()
    );
    assert!(
        known.iter().any(|k| (k - onset_s).abs() < 0.5),
        "the person's first words are a known recording of this contact now"
    );

    // The chain covers the label: clean, then a tampered label is named.
    let (ok, text) = verify(&config);
    assert!(ok, "verify: {text}");
    let db = rusqlite::Connection::open(dir.path().join("data/hotline.db")).expect("db");
    db.execute("UPDATE call_labels SET label = 'person'", [])
        .expect("tamper");
    drop(db);
    let (ok, text) = verify(&config);
    assert!(!ok, "a tampered label fails: {text}");
    assert!(
        text.contains("the operator label differs from chain entry"),
        "{text}"
    );
}

/// Waits for the incident's first call to be answered (joinable); returns its id.
async fn answered_call(s: &Server, incident: &str) -> String {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, inc) = get(s, &format!("/v1/incidents/{incident}")).await;
        if let Some(id) = inc["calls"][0]["call_id"].as_str() {
            let (_, call) = get(s, &format!("/v1/calls/{id}")).await;
            if call["bridge"]["live"] == true {
                return id.to_string();
            }
        }
        assert!(Instant::now() < end, "no answered call: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A vendor the listener never finds a person on (sipp echoing hotline's own silence): the
/// operator's "a person is here" is the human stage (evidence "operator"), ends the hold and
/// the person is briefed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_here_is_the_human_stage_when_the_listener_has_none() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing");
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let config = serve_config(dir.path(), "[bridge]\njoin_ttl = \"10m\"\n");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "support",
            vendor.port,
            "30s",
            r#"{ wait = "human", timeout = "60s" }, { play = "briefing" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let (code, v) = post(&s, "/v1/dialplans/hpe/dial", json!({})).await;
    assert_eq!(code, 202, "{v:#}");
    let incident = v["id"].as_str().expect("id").to_string();
    let call_id = answered_call(&s, &incident).await;
    let (code, m) = post(&s, &format!("/v1/calls/{call_id}/join"), json!({})).await;
    assert_eq!(code, 201, "{m}");
    let join = format!("{}{}", s.http, m["path"].as_str().expect("link"));
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(root.join("tests/browser"))
        .args(["truth.mjs", &join, "-", "person"])
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the browser finishes within 90 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let b: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_default();
    assert!(
        b["error"].is_null() && b["ended"] == true,
        "browser: {b}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b["labelled"], "noted: a person is here");
    settled(&s, &incident, Duration::from_secs(30)).await;
    let (_, call) = get(&s, &format!("/v1/calls/{call_id}")).await;
    assert_eq!(call["labels"][0]["label"], "person", "{:#}", call["labels"]);
    let rec = &call["record"];
    assert_eq!(
        rec["human"]["evidence"],
        json!(["operator"]),
        "{:#}",
        rec["human"]
    );
    assert_eq!(rec["human"]["confidence"], 1.0);
    assert!(rec["human"]["disputed"].is_null());
    assert!(rec["stages"]["human"].is_string());
    assert_eq!(rec["sla"]["basis"], "human");
    let events = rec["events"].as_array().expect("events");
    let at = |kind: &str| {
        events
            .iter()
            .position(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} missing"))
    };
    let label = &events[at("operator_label")];
    assert_eq!(
        (label["label"].as_str(), label["listener_human"].as_bool()),
        (Some("person"), Some(false))
    );
    assert!(at("operator_label") < at("human_detected"));
    let briefing = events
        .iter()
        .position(|e| e["kind"] == "playback_started" && e["source"] == "briefing")
        .expect("the person is briefed");
    assert!(at("human_detected") < briefing);
    let (code, page) = get(&s, &format!("/console/calls/{call_id}")).await;
    assert_eq!(code, 200);
    let page = page.as_str().expect("html");
    assert!(
        page.contains("an operator said so"),
        "time to a person, by an operator"
    );
    assert!(page.contains("a person is here"));
    s.terminate();
    let (ok, text) = verify(&config);
    assert!(ok, "verify: {text}");
}
