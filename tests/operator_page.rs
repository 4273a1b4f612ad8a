//! The operator's page (issue 17) against a live call: `hotline serve` calls `hotline
//! sim-vendor`'s realistic line (sip:hold@…: an IVR prompt, hold music, then a person who
//! answers the probe), briefs with the default template, and:
//!
//! - the page's stream is read without a browser: its `context` (incident, severity, vendor,
//!   contact, the number dialled and its provenance, asset, contract, briefing as spoken, SLA),
//!   `state`s through menu → on hold → a person → briefing, and `ended` with the outcome;
//! - headless Chromium (tests/browser/operator.mjs, fake media) at 360 px and 1280 px: context
//!   before joining, live phases, both level meters moving, the connection indicator, a
//!   handover link joined by a second page, a replay of the briefing, mute, DTMF, ownership,
//!   a confirmed hang-up, and the used link explaining the ended call. Screenshots go to
//!   target/operator-page/ (kept, not committed).

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

/// The simulated vendor, stopped however the test ends (it holds the test's stdout).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

/// Reads `path`'s event stream until `stop` says enough (or `within` runs out).
async fn read_events(
    url: &str,
    within: Duration,
    stop: impl Fn(&[Sse]) -> bool,
) -> (u16, Vec<Sse>) {
    let mut resp = reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("events");
    let code = resp.status().as_u16();
    let end = Instant::now() + within;
    let (mut events, mut buf) = (Vec::new(), String::new());
    while code == 200 && !stop(&events) {
        let left = end.saturating_duration_since(Instant::now());
        let chunk = match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            let mut e = Sse {
                event: String::new(),
                data: Value::Null,
            };
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    e.event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    e.data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                }
            }
            if !e.event.is_empty() {
                events.push(e);
            }
        }
    }
    (code, events)
}

/// The phases the newest state says the call went through.
fn phases(events: &[Sse]) -> Vec<String> {
    let last = events.iter().rev().find(|e| e.event == "state");
    last.and_then(|e| e.data["history"].as_array())
        .map(|h| {
            h.iter()
                .filter_map(|p| p["phase"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn api_post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let code = r.status().as_u16();
    (
        code,
        serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or(Value::Null),
    )
}

/// The incident's first call once the bridge has it (answered).
async fn live_call(s: &Server, incident: &str) -> String {
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_page_shows_the_call_and_acts_on_it() {
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
        .args(["--ring", "500ms", "--hold", "9s", "--hangup-after", "400s"])
        .env("RUST_LOG", "hotline=info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sim-vendor");
    let mut lines = BufReader::new(vendor.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        if line.expect("line").contains("simulated vendor line ready") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let _vendor = Killed(vendor);

    let config = serve_config(dir.path(), "[bridge]\njoin_ttl = \"10m\"\n");
    let plan = format!(
        r#"vendor = "HPE"
[[match]]
vendor = "HPE"

[[contacts]]
id = "hpe-hotline"
name = "HPE hardware support"
uri = "sip:hold@127.0.0.1:{port}"
source = "the warranty card"
verified_on = "2026-09-14"
ring_timeout = "30s"
answer_within = "120s"
menu = [{{ wait = "prompt" }}, {{ wait = "human", timeout = "150s" }}, {{ play = "briefing" }}, {{ wait = "120s" }}, {{ hangup = true }}]
"#
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let body = json!({
        "fingerprint": "fp-operator", "status": "firing", "severity": "critical",
        "asset": {"tag": "AT-004711", "serial": "CZJ93801XY", "vendor": "HPE",
                  "model": "ProLiant DL380 Gen10", "site": "fra1", "rack": "R12", "unit": "18",
                  "contract": "HPE-PC-2231-88812"},
        "fault": {"summary": "RAID logical drive 1 degraded on db-prod-07",
                  "impact": "payments database without redundancy",
                  "request": "dispatch an engineer with a replacement disk"}
    });
    let incident = post_incident(&s, &body.to_string()).await;
    let call_id = live_call(&s, &incident).await;

    // The page's stream, read without a browser (a link of its own, never used).
    let (code, m) = api_post(&s, &format!("/v1/calls/{call_id}/join"), json!({})).await;
    assert_eq!(code, 201, "{m}");
    let watch_link = format!("{}{}", s.http, m["path"].as_str().expect("path"));
    let watcher = tokio::spawn(async move {
        read_events(
            &format!("{watch_link}/events"),
            Duration::from_secs(300),
            |ev| ev.iter().any(|e| e.event == "ended"),
        )
        .await
    });
    let (code, _) = read_events(
        &format!("{}/join/0123/events", s.http),
        Duration::from_secs(2),
        |_| true,
    )
    .await;
    assert_eq!(code, 404, "an unknown link has no stream");

    // The browser's link.
    let (code, m) = api_post(&s, &format!("/v1/calls/{call_id}/join"), json!({})).await;
    assert_eq!(code, 201, "{m}");
    let join = format!("{}{}", s.http, m["path"].as_str().expect("path"));
    let shots = root.join("target/operator-page");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("shots dir");
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new("node")
            .current_dir(root.join("tests/browser"))
            .arg("operator.mjs")
            .arg(&join)
            .arg(&shots)
            .env("CHROMIUM", &chromium)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser finishes")
    .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let b: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    eprintln!("browser: {b:#}");
    assert!(
        b["error"].is_null(),
        "browser: {b:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b["errors"], json!([]), "no script errors");

    // Context before joining.
    let before = &b["before_join"];
    assert!(
        before["title"]
            .as_str()
            .unwrap_or("")
            .contains("RAID logical drive 1")
    );
    assert_eq!(before["severity"], "critical");
    assert_eq!(before["who"], "HPE · HPE hardware support");
    let facts = before["facts"].as_str().unwrap_or("");
    for want in [
        "sip:hold@127.0.0.1",
        "from the warranty card, verified 2026-09-14",
        "HPE-PC-2231-88812",
        "AT-004711",
        "CZJ93801XY",
        "ProLiant DL380 Gen10",
        "rack R12",
    ] {
        assert!(facts.contains(want), "{want} not in {facts}");
    }
    assert!(
        before["briefing_lines"].as_u64().unwrap_or(0) >= 5,
        "{before}"
    );
    assert_eq!(b["overflow_x"], 0, "nothing wider than a 360 px phone");
    // Live phases seen by the page before joining.
    let seen: Vec<&str> = b["phases_before_join"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    let at = |p: &str| seen.iter().position(|x| *x == p);
    assert!(
        at("menu") < at("on_hold") && at("on_hold") < at("person"),
        "menu -> on hold -> person: {seen:?}"
    );
    assert!(
        b["clocks"]["sla"].as_str().unwrap_or("").starts_with("met"),
        "{b}"
    );
    assert_eq!(b["clocks"]["sla_name"], "Person within 2:00");
    // Joined: both meters, the connection, the bridge list.
    assert!(b["meters"]["mic_heard"].as_u64().unwrap_or(0) > 5, "{b}");
    assert!(b["meters"]["heard"].as_u64().unwrap_or(0) > 5, "{b}");
    assert!(
        b["conn_text"].as_str().unwrap_or("").contains("round trip"),
        "{b}"
    );
    assert!(
        b["ops"]
            .as_str()
            .unwrap_or("")
            .contains("Ada (on call) (you)"),
        "{b}"
    );
    let desk = b["desk_ops"].as_str().unwrap_or("");
    assert!(
        desk.contains("Ada (on call)") && desk.contains("Grace (day shift) (you)"),
        "{desk}"
    );
    assert_eq!(b["highlight"]["now"], 1, "the line being said: {b}");
    assert_eq!(b["confirm_shown"], true);
    assert_eq!(b["ended"]["result"], "answered", "{b}");
    assert!(b["status"].as_str().unwrap_or("").contains("ended"));
    assert_eq!(b["used_link"]["title"], "The call has ended");
    assert!(
        b["used_link"]["advice"]
            .as_str()
            .unwrap_or("")
            .contains("Outcome: answered"),
        "{b}"
    );
    for name in [
        "phone-360-before-join",
        "phone-360-joined",
        "desktop-1280-joined",
        "phone-360-ended",
        "phone-360-link-refused",
        "desktop-1280-link-refused",
    ] {
        assert!(shots.join(format!("{name}.png")).exists(), "{name}.png");
    }

    // The stream read without a browser: context, the phases, the end.
    let (code, events) = watcher.await.expect("watcher");
    assert_eq!(code, 200);
    let ctx = &events.first().expect("events").data;
    assert_eq!(events[0].event, "context");
    assert_eq!(ctx["incident"]["severity"], "critical");
    assert_eq!(ctx["vendor"], "HPE");
    assert_eq!(ctx["contact"]["source"], "the warranty card");
    assert_eq!(ctx["contact"]["verified_on"], "2026-09-14");
    assert_eq!(ctx["asset"]["serial"], "CZJ93801XY");
    assert_eq!(ctx["contract"], "HPE-PC-2231-88812");
    assert_eq!(ctx["sla"]["basis"], "human");
    assert!(
        ctx["briefing"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Thank you")
    );
    let p = phases(&events);
    eprintln!("stream phases: {p:?}");
    let at = |x: &str| p.iter().position(|y| y == x);
    assert!(
        at("menu") < at("on_hold") && at("on_hold") < at("person"),
        "{p:?}"
    );
    assert!(
        at("person") < at("briefing") && at("briefing") < at("ended"),
        "{p:?}"
    );
    let ended = &events.last().expect("ended").data;
    assert_eq!(ended["result"], "answered");
    assert!(
        ended["reason"].as_str().unwrap_or("").contains("hung up"),
        "{ended}"
    );
    let text = serde_json::to_string(&events.iter().map(|e| &e.data).collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(
        !text.contains(join.rsplit('/').next().unwrap_or("-")),
        "no token in the stream"
    );

    // Ownership from the page is on the incident.
    let (_, inc) = get(&s, &format!("/v1/incidents/{incident}")).await;
    assert!(inc.to_string().contains("HPE-5003141592"), "{inc:#}");
    s.terminate();
}
