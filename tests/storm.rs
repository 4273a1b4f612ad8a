//! Call storms end to end (issue 20 item 2, security review finding 8): `hotline serve`
//! against sipp vendors over real SIP on 127.0.0.1. One Alertmanager group with three failed
//! disks on one host is one call whose briefing lists all three; a 120-fingerprint webhook
//! rings the vendor line at most `max_calls` at a time, and another vendor's incident posted
//! at the same moment still gets its call.

mod support;

use hotline::briefing::normalize::normalize;
use hotline::config::Language;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

async fn post(s: &Server, format: &str, body: String) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/hooks/{format}", s.http))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .body(body)
        .send()
        .await
        .expect("post");
    let code = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The INVITEs sipp received, from its message log: Call-ID -> (first INVITE, final answer
/// sent or CANCEL received), in seconds of the day.
fn sipp_calls(log: &str) -> HashMap<String, (f64, Option<f64>)> {
    let mut calls: HashMap<String, (f64, Option<f64>)> = HashMap::new();
    for block in log.split("----------------------------------------------- ") {
        let mut lines = block.lines();
        let Some(stamp) = lines.next() else { continue };
        // "2026-12-02 11:22:47.123456"
        let Some(t) = stamp.split_whitespace().nth(1).and_then(|hms| {
            let mut p = hms.trim().split(':');
            let h: f64 = p.next()?.parse().ok()?;
            let m: f64 = p.next()?.parse().ok()?;
            let s: f64 = p.next()?.parse().ok()?;
            Some(h * 3600.0 + m * 60.0 + s)
        }) else {
            continue;
        };
        let dir = lines.next().unwrap_or("");
        let body: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
        let first = body.first().copied().unwrap_or("");
        let call_id = body
            .iter()
            .find_map(|l| {
                l.strip_prefix("Call-ID:")
                    .or_else(|| l.strip_prefix("i:"))
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default();
        if call_id.is_empty() {
            continue;
        }
        let received = dir.contains("received");
        if received && first.starts_with("INVITE ") {
            calls.entry(call_id).or_insert((t, None));
        } else if ((!received && first.starts_with("SIP/2.0 ") && !first.starts_with("SIP/2.0 1"))
            || (received && first.starts_with("CANCEL ")))
            && let Some(c) = calls.get_mut(&call_id)
        {
            c.1.get_or_insert(t);
        }
    }
    calls
}

/// The most calls ringing at once.
fn most_at_once(calls: &HashMap<String, (f64, Option<f64>)>) -> usize {
    let mut edges: Vec<(f64, i32)> = Vec::new();
    for (start, end) in calls.values() {
        edges.push((*start, 1));
        edges.push((end.unwrap_or(f64::MAX), -1));
    }
    // Ends before starts at the same instant.
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

/// A sipp UAS taking up to `calls` calls, its messages logged with times.
fn sipp_many(dir: &Path, scenario: &str, calls: u32) -> (Child, u16, std::path::PathBuf) {
    let port = free_port(false);
    let media = free_port(true);
    let sf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let log = dir.join(format!("{scenario}.messages.log"));
    let child = Command::new("sipp")
        .current_dir(dir)
        .arg("-sf")
        .arg(&sf)
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1"])
        .args(["-mi", "127.0.0.1", "-mp", &media.to_string()])
        .args(["-m", &calls.to_string(), "-nostdin", "-max_socket", "1024"])
        .args(["-trace_msg", "-message_file"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sipp");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "sipp did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, port, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_failed_disks_on_one_host_are_one_call_briefing_all_three() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut sipp, port, log) = sipp_many(dir.path(), "uas_answer.xml", 5);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"hpe\"\n{}",
        contact(
            "hpe-hotline",
            port,
            "30s",
            r#"{ wait = "500ms" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);

    let payload = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/storm/alertmanager_three_disks.json"),
    )
    .expect("payload");
    let (code, v) = post(&s, "alertmanager", payload.clone()).await;
    assert_eq!(code, 202, "{v:#}");
    let accepted = v["incidents"].as_array().expect("incidents").clone();
    assert_eq!(accepted.len(), 3, "{v:#}");
    let leader = accepted[0]["id"].as_str().expect("id").to_string();
    for a in &accepted[1..] {
        let action = a["action"].as_str().unwrap_or("");
        assert!(
            action.starts_with(&format!("grouped with incident {leader}")),
            "{action}"
        );
    }

    let done = settled(&s, &leader, Duration::from_secs(30)).await;
    assert_eq!(done["ladder_state"], "done", "{done:#}");
    assert_eq!(done["calls"].as_array().map(Vec::len), Some(1));
    // The briefing names every disk.
    let text = done["briefing_text"].as_str().expect("briefing text");
    assert!(text.contains("3 faults on this asset"), "{text}");
    let doc: Value = serde_json::from_str(&payload).expect("json");
    for alert in doc["alerts"].as_array().expect("alerts") {
        let summary = alert["annotations"]["summary"].as_str().expect("summary");
        let spoken = normalize(summary, Language::En);
        let spoken = spoken.trim_end_matches(['.', ';', ',', ' ']);
        assert!(text.contains(spoken), "{spoken:?} not in {text}");
    }
    // The group on every member's page; the members share the leader's outcome.
    let members = done["group"]["members"].as_array().expect("members");
    assert_eq!(members.len(), 3, "{done:#}");
    for a in &accepted[1..] {
        let id = a["id"].as_str().expect("id");
        let (_, m) = get(&s, &format!("/v1/incidents/{id}")).await;
        assert_eq!(m["group"]["leader"], leader.as_str(), "{m:#}");
        assert_eq!(m["ladder_state"], "done", "{m:#}");
        assert_eq!(
            m["calls"].as_array().map(Vec::len),
            Some(0),
            "no call of its own"
        );
        let page = reqwest::Client::new()
            .get(format!("{}/console/incidents/{id}", s.http))
            .header("authorization", format!("Bearer {API_TOKEN}"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains("grouped with incident"), "{page}");
    }

    // Exactly one INVITE reached the vendor.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = sipp.kill();
    let _ = sipp.wait();
    let calls = sipp_calls(&std::fs::read_to_string(&log).unwrap_or_default());
    assert_eq!(calls.len(), 1, "INVITEs at the vendor: {calls:?}");

    // Re-delivered after the call: the same three incidents, no new call.
    let (code, v) = post(&s, "alertmanager", payload).await;
    assert_eq!(code, 202);
    assert!(
        v["incidents"]
            .as_array()
            .expect("list")
            .iter()
            .all(|a| a["created"] == false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_120_fingerprint_webhook_rings_the_line_at_most_max_calls_and_another_vendor_still_gets_through()
 {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut storm_line, storm_port, log) = sipp_many(dir.path(), "uas_ring_busy.xml", 1000);
    let other = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    // A small RTP range: 6 even ports; each dialplan may hold half of them.
    let base = free_port(true);
    let config = serve_config(
        dir.path(),
        "[ladder]\nper_delivery = 200\nrtp_share_percent = 50\n",
    );
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "rtp_ports = \"40000-47998\"",
        &format!("rtp_ports = \"{base}-{}\"", base + 10),
    );
    std::fs::write(&config, text).expect("config");
    let storm_plan = format!(
        "vendor = \"Dell\"\n[[match]]\nvendor = \"Dell\"\n{}max_calls = 2\n",
        contact("dell-hotline", storm_port, "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/dell.toml"), storm_plan).expect("plan");
    let other_plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "hpe-hotline",
            other.port,
            "30s",
            r#"{ wait = "500ms" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), other_plan).expect("plan");
    let s = Server::start(&config);

    let storm: Vec<Value> = (0..120)
        .map(|n| {
            json!({"fingerprint": format!("storm-{n}"), "severity": "warning",
                   "asset": {"tag": format!("AT-{n:04}"), "vendor": "Dell"},
                   "fault": {"summary": format!("disk {n} failed")}})
        })
        .collect();
    let storm = Value::Array(storm).to_string();
    assert!(storm.len() < 16 * 1024, "{} bytes", storm.len());
    let real = json!({"fingerprint": "hpe-real", "severity": "critical",
        "asset": {"tag": "AT-9999", "vendor": "HPE"},
        "fault": {"summary": "RAID controller failed"}})
    .to_string();
    let (a, b) = tokio::join!(post(&s, "generic", storm), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        post(&s, "generic", real).await
    });
    assert_eq!(a.0, 202, "{:#}", a.1);
    assert_eq!(b.0, 202, "{:#}", b.1);
    let accepted = a.1["incidents"].as_array().expect("list");
    assert_eq!(accepted.len(), 120);
    // One ladder per host (no two share an asset), never dropped; the 202 says who waits.
    assert!(accepted.iter().all(|x| x["created"] == true));
    let real_id = b.1["incidents"][0]["id"].as_str().expect("id").to_string();

    // The other vendor's incident gets its call while the storm queues.
    let done = settled(&s, &real_id, Duration::from_secs(30)).await;
    assert_eq!(done["ladder_state"], "done", "{done:#}");
    assert_eq!(done["calls"][0]["result"], "answered", "{done:#}");
    // Let the storm run a while, then read what the storm line saw.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (_, metrics) = get(&s, "/metrics").await;
    let metrics = metrics.as_str().unwrap_or("").to_string();
    let _ = storm_line.kill();
    let _ = storm_line.wait();
    let calls = sipp_calls(&std::fs::read_to_string(&log).unwrap_or_default());
    let most = most_at_once(&calls);
    println!(
        "storm line: {} INVITEs in the window, at most {most} ringing at once",
        calls.len()
    );
    assert!(most <= 2, "max_calls = 2, saw {most} at once: {calls:?}");
    assert!(calls.len() >= 4, "the queue moves on: {calls:?}");
    // A queued call's wait is on its step and in /metrics.
    assert!(
        metrics.contains("hotline_queued{kind=\"call\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_queue_wait_seconds_count{kind=\"call\"}"),
        "{metrics}"
    );
    let mut waited = None;
    for x in accepted.iter().take(20) {
        let id = x["id"].as_str().expect("id");
        let (_, v) = get(&s, &format!("/v1/incidents/{id}")).await;
        let first = v["ladder"].as_array().and_then(|l| l.first()).cloned();
        if let Some(step) = first.filter(|s| s["queued_ms"].as_u64().is_some()) {
            waited = Some(step);
            break;
        }
    }
    let step = waited.expect("a storm step that waited for the line");
    let why = step["queue_reason"].as_str().unwrap_or("");
    assert!(why.contains("2 calls at once"), "{step:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_call_stops_only_when_every_member_has_resolved() {
    let dir = tempfile::tempdir().expect("tmp");
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("hpe-hotline", ring.port, "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let alert = |fp: &str, status: &str, disk: &str| {
        json!({"fingerprint": fp, "status": status, "severity": "critical",
               "asset": {"tag": "AT-004711", "vendor": "HPE"},
               "fault": {"summary": format!("physical disk {disk} failed")}})
    };
    let both = json!([
        alert("fp-a", "firing", "1I:1:3"),
        alert("fp-b", "firing", "1I:1:4")
    ]);
    let (code, v) = post(&s, "generic", both.to_string()).await;
    assert_eq!(code, 202, "{v:#}");
    let leader = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let member = v["incidents"][1]["id"].as_str().expect("id").to_string();
    assert!(
        v["incidents"][1]["action"]
            .as_str()
            .is_some_and(|a| a.starts_with("grouped with incident")),
        "{v:#}"
    );
    // The group's one call rings.
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{leader}")).await;
        if inc["calls"].as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        assert!(Instant::now() < end, "no call: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The leader's own alert resolves: the member still fires, the call rings on.
    let (_, v) = post(
        &s,
        "generic",
        alert("fp-a", "resolved", "1I:1:3").to_string(),
    )
    .await;
    let action = v["incidents"][0]["action"].as_str().unwrap_or("");
    assert!(action.contains("goes on for 1"), "{v:#}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, inc) = get(&s, &format!("/v1/incidents/{leader}")).await;
    assert_eq!(inc["ladder_state"], "running", "{inc:#}");
    assert!(
        inc["calls"][0]["result"].is_null(),
        "still ringing: {inc:#}"
    );
    // The last one resolves: the call is cancelled, both incidents say why.
    let (_, v) = post(
        &s,
        "generic",
        alert("fp-b", "resolved", "1I:1:4").to_string(),
    )
    .await;
    assert_eq!(
        v["incidents"][0]["action"],
        "resolved: the group's ladder stopped"
    );
    let done = settled(&s, &leader, Duration::from_secs(20)).await;
    assert_eq!(done["ladder_state"], "stopped", "{done:#}");
    assert_eq!(done["calls"][0]["result"], "cancelled", "{done:#}");
    let (_, m) = get(&s, &format!("/v1/incidents/{member}")).await;
    assert_eq!(m["ladder_state"], "stopped", "{m:#}");
    assert!(
        m["ladder_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("grouped with incident {leader}"))),
        "{m:#}"
    );
    assert_eq!(ring.wait(Duration::from_secs(10)), 0, "sipp saw the CANCEL");
}
