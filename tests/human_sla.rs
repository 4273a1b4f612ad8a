//! The SLA on time to a person through the ladder, end to end: `hotline serve` calls two
//! `hotline sim-vendor` hold lines (sip:hold@…: IVR prompt, hold music, then a person who
//! answers the probe). The first holds far past its contact's 4 s SLA: at the miss it is hung
//! up ("no person within 4s (SLA)") and the second contact is dialled at once; there a person
//! picks up within the SLA, is briefed, and the on-call phone (`[bridge] ring_on_human`, a
//! sipp UAS) is rung only then, never during the first call's hold music.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::serve::*;
use support::*;

struct Vendor(Child, u16);

impl Drop for Vendor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A hold line: `hold` of music before the person; the vendor hangs up `hangup_after` the
/// answer (with an operator on the bridge, the people on the line end the call).
fn sim_vendor(hold: &str, hangup_after: &str) -> Vendor {
    let port = free_port(false);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["sim-vendor", "--bind", &format!("127.0.0.1:{port}")])
        .args([
            "--ring",
            "300ms",
            "--hold",
            hold,
            "--hangup-after",
            hangup_after,
        ])
        .env("RUST_LOG", "hotline=info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sim-vendor");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        if line.expect("line").contains("simulated vendor line ready") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Vendor(child, port)
}

fn events(call: &Value) -> Vec<&Value> {
    call["record"]["events"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn at(call: &Value, kind: &str) -> Option<f64> {
    events(call)
        .into_iter()
        .find(|e| e["kind"] == kind)
        .and_then(|e| e["offset_ms"].as_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_person_within_the_sla_hangs_up_and_the_next_contact_gets_the_person() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = sim_vendor("40s", "90s");
    let quick = sim_vendor("1s", "40s");
    let phone = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let extra = format!(
        "[bridge]\nring_on_human = [\"oncall-primary\"]\n\n[[operators]]\nid = \"oncall-primary\"\n\
         name = \"On call\"\nuri = \"sip:oncall@127.0.0.1:{}\"\n",
        phone.port
    );
    let config = serve_config(dir.path(), &extra);
    let menu = r#"{ wait = "human", timeout = "60s" }, { play = "briefing" }, { wait = "1s" }, { hangup = true }"#;
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}{}",
        contact("hotline", slow.1, "4s", menu),
        contact("vip", quick.1, "40s", menu),
    )
    .replace("sip:hotline@", "sip:hold@")
    .replace("sip:vip@", "sip:hold@");
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let body = serde_json::json!({
        "fingerprint": "fp-human-sla",
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-1", "vendor": "HPE"},
        "fault": {"summary": "disk failed"}
    });
    let id = post_incident(&s, &body.to_string()).await;
    let inc = settled(&s, &id, Duration::from_secs(90)).await;

    let steps = inc["ladder"].as_array().expect("steps");
    let summary: Vec<String> = steps
        .iter()
        .map(|s| format!("{} {} ({})", s["contact"], s["outcome"], s["reason"]))
        .collect();
    println!(
        "ladder steps: {summary:#?}\nladder: {}",
        inc["ladder_reason"]
    );
    assert_eq!(steps.len(), 2, "{summary:?}");
    assert_eq!(steps[0]["contact"], "hotline");
    assert_eq!(steps[0]["reason"], "no person within 4s (SLA)");
    assert_eq!(steps[1]["contact"], "vip");
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let reason = inc["ladder_reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("taken by vip"), "{reason}");

    let calls = inc["calls"].as_array().expect("calls");
    let of = |contact: &str| {
        calls
            .iter()
            .find(|c| c["record"]["contact"] == contact)
            .unwrap_or_else(|| panic!("{contact}'s call: {inc:#}"))
    };
    let (first, second) = (of("hotline"), of("vip"));
    // The first: answered by the IVR at once, no person, missed at INVITE + 4 s, BYE'd.
    let rec = &first["record"];
    assert_eq!(rec["sla"]["basis"], "human");
    assert_eq!(rec["sla"]["met"], false);
    assert!(rec["time_to_answer_ms"].as_u64().expect("answered") < 4000);
    assert!(rec["time_to_human_ms"].is_null(), "no person: {rec:#}");
    let missed = at(first, "sla_missed").expect("sla_missed on the timeline");
    // The timer counts from the call's start, the offset from the INVITE's send stamp.
    assert!((3950.0..4600.0).contains(&missed), "missed at {missed} ms");
    let bye = events(first)
        .into_iter()
        .find(|e| e["kind"] == "bye_sent")
        .expect("we hung up");
    assert_eq!(bye["reason"], "no person within 4s (SLA)");
    assert!(
        at(first, "playback_started").is_none(),
        "hold music never briefed"
    );
    assert!(
        at(first, "operator_joined").is_none(),
        "no operator during the hold"
    );
    // The second: a person within its SLA, briefed; the on-call phone rung at the person.
    let rec = &second["record"];
    assert_eq!(rec["sla"]["met"], true, "{rec:#}");
    let human = at(second, "human_detected").expect("a person");
    let joined = events(second)
        .into_iter()
        .find(|e| e["kind"] == "operator_joined")
        .unwrap_or_else(|| panic!("the on-call phone joined: {rec:#}"));
    assert_eq!(joined["via"], "phone");
    let joined_at = joined["offset_ms"].as_f64().expect("offset");
    assert!(
        joined_at >= human,
        "rung at the person ({joined_at} >= {human})"
    );
    let briefed = events(second)
        .into_iter()
        .find(|e| e["kind"] == "playback_finished" && e["source"] == "briefing")
        .and_then(|e| e["offset_ms"].as_f64())
        .expect("the person was briefed");
    assert!(briefed > human);
    println!(
        "hotline missed at {missed:.0} ms; vip person after {} ms (hold {} ms), on-call joined \
         {:.0} ms after the decision",
        rec["time_to_human_ms"],
        rec["hold_ms"],
        joined_at - human
    );
    assert!(
        calls
            .iter()
            .any(|c| c["record"]["contact"] == "operator-oncall-primary"),
        "the operator's phone call is stored with the incident"
    );
    drop(s);
    let _ = phone.wait(Duration::from_secs(10));
}

/// `strategy = "overlap"`: the first contact answers at once and holds past its 4 s SLA; the
/// second is dialled then while the first holds on; the first call with a *person* wins (not
/// the first 200 OK) and the holding one is hung up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_the_first_call_with_a_person_wins_not_the_first_answer() {
    let dir = tempfile::tempdir().expect("tmp");
    let slow = sim_vendor("40s", "90s");
    let quick = sim_vendor("1s", "35s");
    let config = serve_config(dir.path(), "");
    let menu = r#"{ wait = "human", timeout = "60s" }, { play = "briefing" }, { hangup = true }"#;
    let plan = format!(
        "vendor = \"HPE\"\nstrategy = \"overlap\"\n[[match]]\nvendor = \"HPE\"\n{}{}",
        contact("hotline", slow.1, "4s", menu),
        contact("vip", quick.1, "40s", menu),
    )
    .replace("sip:hotline@", "sip:hold@")
    .replace("sip:vip@", "sip:hold@");
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let body = serde_json::json!({
        "fingerprint": "fp-human-overlap",
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-2", "vendor": "HPE"},
        "fault": {"summary": "disk failed"}
    });
    let id = post_incident(&s, &body.to_string()).await;
    let inc = settled(&s, &id, Duration::from_secs(90)).await;
    let steps = inc["ladder"].as_array().expect("steps");
    let by = |c: &str| {
        steps
            .iter()
            .find(|s| s["contact"] == c)
            .unwrap_or_else(|| panic!("no step for {c}: {inc:#}"))
    };
    println!(
        "overlap: hotline {} ({}), vip {} ({}); {}",
        by("hotline")["outcome"],
        by("hotline")["reason"],
        by("vip")["outcome"],
        by("vip")["reason"],
        inc["ladder_reason"]
    );
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let reason = inc["ladder_reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("taken by vip"), "{reason}");
    // The hotline was answered (by its IVR) and held, yet lost to the person on vip.
    assert_eq!(by("hotline")["outcome"], "answered", "{inc:#}");
    assert_eq!(by("hotline")["reason"], "another contact answered first");
    let calls = inc["calls"].as_array().expect("calls");
    let hotline = calls
        .iter()
        .find(|c| c["record"]["contact"] == "hotline")
        .expect("hotline call");
    assert!(at(hotline, "sla_missed").is_some());
    assert!(at(hotline, "human_detected").is_none());
    let vip = calls
        .iter()
        .find(|c| c["record"]["contact"] == "vip")
        .expect("vip call");
    assert!(at(vip, "human_detected").is_some());
    // The hotline hung up only after the person on vip, not at vip's 200 OK.
    let t = |c: &Value, k: &str| {
        chrono::DateTime::parse_from_rfc3339(c["record"]["stages"][k].as_str().expect("stage"))
            .expect("rfc3339")
    };
    let bye = events(hotline)
        .into_iter()
        .find(|e| e["kind"] == "bye_sent")
        .and_then(|e| e["at"].as_str().map(str::to_string))
        .expect("hotline hung up");
    let bye = chrono::DateTime::parse_from_rfc3339(&bye).expect("rfc3339");
    assert!(bye > t(vip, "answered"), "not at vip's 200 OK");
    assert!(bye >= t(vip, "human"), "at vip's person");
}
