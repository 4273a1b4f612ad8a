//! Issue 20 end to end through `hotline serve` and sipp: a call that reached the vendor ends the
//! ladder however the vendor hangs up afterwards (no next contact, no P0 ticket), and a menu
//! placeholder with no value fails the call before it is dialled.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::serve::*;
use support::*;

fn incident(fingerprint: &str, serial: Option<&str>) -> String {
    let mut asset = json!({"tag": "AT-004711", "vendor": "HPE", "contract": "HPE-PC-2231-88812"});
    if let Some(s) = serial {
        asset["serial"] = json!(s);
    }
    json!({
        "fingerprint": fingerprint,
        "status": "firing",
        "severity": "critical",
        "asset": asset,
        "fault": {"summary": "disk 0:1:3 failed"}
    })
    .to_string()
}

/// The run from issue 20: the briefing played in full, its repeat was playing when the vendor
/// hung up. (The briefing outlasts the vendor's 2 s greeting, so the silence that starts the
/// repeat is real silence, not the greeting's tail.) Before the fix that was "answered (far end hung up), next", then exhausted and a
/// P0 ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_hanging_up_after_the_briefing_ends_the_ladder_as_taken() {
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_hangup_after.xml", "u1", &["-d", "14000"]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}{}\n[briefing]\nrepeats = 3\n\
         template = \"\"\"\nDisk three failed in the storage array of rack seven; \
         the controller reports a degraded volume.\n\"\"\"\n",
        contact(
            "hotline",
            vendor.port,
            "30s",
            r#"{ play = "briefing" }, { hangup = true }"#
        ),
        // Nothing listens here: were it dialled, its step would say so.
        contact("vip", free_port(false), "30s", r#"{ hangup = true }"#),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let id = post_incident(&s, &incident("fp-reached", Some("CZJ1"))).await;
    let inc = settled(&s, &id, Duration::from_secs(40)).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    assert_eq!(
        inc["ladder_reason"], "taken by hotline (briefing_played)",
        "{inc:#}"
    );
    let steps = inc["ladder"].as_array().expect("steps");
    assert_eq!(steps.len(), 1, "the vip line was never called: {inc:#}");
    assert_eq!(steps[0]["outcome"], "answered");
    assert!(
        inc["tickets"].as_array().is_none_or(Vec::is_empty),
        "{inc:#}"
    );
    // The vendor hung up during a repeat, after the first full play.
    let events = inc["calls"][0]["record"]["events"]
        .as_array()
        .expect("events")
        .clone();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    let finished = kinds.iter().position(|k| *k == "playback_finished");
    let repeated = kinds.iter().position(|k| *k == "briefing_repeated");
    let bye = kinds.iter().position(|k| *k == "bye_received");
    assert!(
        finished.is_some() && finished < repeated && repeated < bye,
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"menu_done"), "{kinds:?}");
}

/// Issue 20.7: an alert without a serial, a menu that keys `{serial_digits}`: the first
/// contact is not dialled, its step says why, the ladder goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_variable_without_a_value_skips_the_call_with_the_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let ok = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-d", "500"]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}{}\n[vars]\nletters = \"drop\"\n",
        contact(
            "hotline",
            free_port(false),
            "30s",
            r#"{ dtmf = "{serial_digits}#" }, { hangup = true }"#
        ),
        contact(
            "vip",
            ok.port,
            "30s",
            r#"{ wait = "300ms" }, { dtmf = "{contract_digits}#" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let id = post_incident(&s, &incident("fp-vars", None)).await;
    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    let steps = inc["ladder"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{inc:#}");
    assert_eq!(steps[0]["outcome"], "failed");
    assert!(steps[0]["call_id"].is_null(), "never dialled: {inc:#}");
    let why = steps[0]["reason"].as_str().expect("reason");
    assert!(
        why.contains("no value for {serial_digits}") && why.contains("[vars]"),
        "{why}"
    );
    assert_eq!(steps[1]["outcome"], "answered", "{inc:#}");
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    // The contract's letters were dropped as the dialplan says: 223188812#.
    let events = inc["calls"][0]["record"]["events"]
        .as_array()
        .expect("events")
        .clone();
    let step = events
        .iter()
        .find(|e| e["kind"] == "menu_step" && e["step"].as_str().unwrap_or("").contains("dtmf"))
        .expect("dtmf step");
    assert!(
        step["step"].as_str().unwrap_or("").contains("223188812#"),
        "{step}"
    );
}

/// Issue 20.3, `strategy = "overlap"`: the hotline misses its 2 s SLA and keeps ringing while
/// the VIP line is called; the VIP answers first, the hotline is cancelled, the VIP takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_calls_the_next_contact_at_the_sla_miss_and_cancels_the_loser() {
    let dir = tempfile::tempdir().expect("tmp");
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let ok = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-d", "800"]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\nstrategy = \"overlap\"\n[[match]]\nvendor = \"HPE\"\n{}{}",
        contact("hotline", ring.port, "2s", r#"{ hangup = true }"#),
        contact(
            "vip",
            ok.port,
            "10s",
            r#"{ wait = "300ms" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let id = post_incident(&s, &incident("fp-overlap", Some("CZJ1"))).await;
    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    assert_eq!(inc["ladder_reason"], "taken by vip (menu_completed)");
    let steps = inc["ladder"].as_array().expect("steps");
    let by = |c: &str| {
        steps
            .iter()
            .find(|s| s["contact"] == c)
            .unwrap_or_else(|| panic!("no step for {c}: {inc:#}"))
    };
    assert_eq!(by("hotline")["outcome"], "cancelled", "{inc:#}");
    assert_eq!(by("hotline")["reason"], "another contact answered first");
    assert_eq!(by("vip")["outcome"], "answered");
    // vip started at the hotline's SLA miss (2 s), while the hotline still rang; the hotline
    // was cancelled after vip answered (~0.8 s later), past its own SLA.
    let at = |s: &Value, k: &str| {
        chrono::DateTime::parse_from_rfc3339(s[k].as_str().expect("time")).expect("rfc3339")
    };
    let vip_start =
        (at(by("vip"), "started_at") - at(by("hotline"), "started_at")).num_milliseconds();
    assert!(
        (1900..2600).contains(&vip_start),
        "vip started at {vip_start} ms"
    );
    let calls = inc["calls"].as_array().expect("calls");
    let hotline = calls
        .iter()
        .find(|c| c["record"]["contact"] == "hotline")
        .expect("hotline call");
    let cancel = hotline["record"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "cancel_sent")
        .and_then(|e| e["offset_ms"].as_f64())
        .expect("cancel sent");
    assert!((2600.0..4500.0).contains(&cancel), "CANCEL at {cancel} ms");
    assert_eq!(
        ring.wait(Duration::from_secs(10)),
        0,
        "the hotline's sipp saw the CANCEL"
    );
}
