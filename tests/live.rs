//! Live call state end to end: while serve calls a sipp line (ringing 3 s, then a menu with
//! the briefing), the API, the incident's event stream and the console show each phase as it
//! happens, with the stamps the final record keeps.

mod support;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const AUDITOR: &str = "auditor-token-0123456789abcdef";

fn hex_sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_as(s: &Server, token: &str, path: &str) -> (u16, String) {
    let resp = client()
        .get(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("get");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

async fn get(s: &Server, path: &str) -> Value {
    let (_, text) = get_as(s, API_TOKEN, path).await;
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// One Server-Sent Event.
#[derive(Clone, Debug, PartialEq)]
struct Sse {
    id: Option<u64>,
    event: String,
    data: Value,
}

/// Reads a stream until `stop` says so about the events so far (or `within` passes).
/// Returns the events and the raw text.
async fn read_stream(
    http: &str,
    incident: &str,
    last_id: Option<u64>,
    within: Duration,
    stop: impl Fn(&[Sse]) -> bool,
) -> (Vec<Sse>, String) {
    let mut req = client()
        .get(format!("{http}/v1/incidents/{incident}/events"))
        .header("authorization", format!("Bearer {AUDITOR}"));
    if let Some(n) = last_id {
        req = req.header("last-event-id", n.to_string());
    }
    let mut resp = req.send().await.expect("events");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap_or(""),
        "text/event-stream"
    );
    let end = Instant::now() + within;
    let (mut raw, mut events, mut buf) = (String::new(), Vec::new(), String::new());
    while !stop(&events) {
        let left = end.saturating_duration_since(Instant::now());
        let chunk = match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        let text = String::from_utf8_lossy(&chunk).to_string();
        raw.push_str(&text);
        buf.push_str(&text);
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            let mut e = Sse {
                id: None,
                event: "message".into(),
                data: Value::Null,
            };
            let mut any = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    e.id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    e.event = v.trim().to_string();
                    any = true;
                } else if let Some(v) = line.strip_prefix("data:") {
                    e.data = serde_json::from_str(v.trim()).unwrap_or(Value::Null);
                }
            }
            if any {
                events.push(e);
            }
        }
    }
    (events, raw)
}

/// What one poll of the API saw of the live call.
#[derive(Clone, Debug)]
struct Seen {
    phase: String,
    since: Option<chrono::DateTime<chrono::Utc>>,
    stages: Value,
}

fn ts(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Every stage stamp given in `part` is the one in `whole`.
fn stamps_agree(part: &Value, whole: &Value, what: &str) {
    let part = part.as_object().expect("stages");
    for (k, v) in part {
        if !v.is_null() {
            assert_eq!(
                ts(v),
                ts(&whole[k]),
                "{what}: stage {k}: {part:?} vs {whole}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_phase_in_order_in_the_api_the_stream_and_the_console() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-d", "3000"]);
    let config = serve_config(
        dir.path(),
        &format!(
            "[[http.tokens]]\nname = \"audrey\"\nrole = \"auditor\"\nsha256 = \"{}\"\n\
             [[http.tokens]]\nname = \"am\"\nrole = \"webhook\"\nsha256 = \"{}\"\n",
            hex_sha256(AUDITOR),
            hex_sha256(HOOK_TOKEN)
        ),
    );
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n\
         [briefing]\nrepeats = 0\ntemplate = \"Asset {{tag}} failed. The page must see this briefing while it plays, so it lasts a few seconds.\"\n{}",
        contact(
            "vip",
            sipp.port,
            "30s",
            r#"{ wait = "2s" }, { play = "briefing" }, { wait = "5s" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);

    let body = json!({
        "fingerprint": "fp-live", "status": "firing", "severity": "critical",
        "asset": {"tag": "AT-4711", "vendor": "HPE"},
        "fault": {"summary": "RAID degraded"}
    });

    // Headless Chromium follows the incident page meanwhile (it reloads on the stream). It
    // starts and signs in first, so the call cannot be half over before it looks.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shot = root.join("target/live-console-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let mut browser = tokio::process::Command::new("node")
        .current_dir(root.join("tests/browser"))
        .arg("live.mjs")
        .arg(&s.http)
        .arg(AUDITOR)
        .arg(&shot)
        .env(
            "CHROMIUM",
            std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node (tests/browser: npm ci; Debian's chromium)");
    let mut out = tokio::io::BufReader::new(browser.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), out.next_line())
        .await
        .expect("the browser signs in within 60 s")
        .expect("browser stdout");
    assert_eq!(ready.as_deref(), Some("ready"), "browser: {ready:?}");

    let id = post_incident(&s, &body.to_string()).await;
    let mut stdin = browser.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{id}\n").as_bytes())
        .await
        .expect("the incident id to the browser");
    drop(stdin);
    let browser = tokio::spawn(async move {
        let mut last = String::new();
        while let Ok(Some(l)) = out.next_line().await {
            last = l;
        }
        (browser.wait().await, last)
    });

    // Webhook tokens may not read the stream; auditors may.
    let (code, _) = get_as(&s, HOOK_TOKEN, &format!("/v1/incidents/{id}/events")).await;
    assert_eq!(code, 403);

    let stream = {
        let (http, id) = (s.http.clone(), id.clone());
        tokio::spawn(async move {
            read_stream(&http, &id, None, Duration::from_secs(40), |ev| {
                ev.iter().any(|e| e.event == "ladder")
            })
            .await
        })
    };

    // Poll the API and the console while the ladder runs.
    let mut seen: Vec<Seen> = Vec::new();
    let mut list_phases: Vec<String> = Vec::new();
    let mut page_phases: Vec<String> = Vec::new();
    let mut call_verdicts: Vec<String> = Vec::new();
    let mut call_id = String::new();
    let mut join_token: Option<String> = None;
    let end = Instant::now() + Duration::from_secs(40);
    loop {
        let inc = get(&s, &format!("/v1/incidents/{id}")).await;
        if let Some(c) = inc["live"]["call_id"].as_str() {
            call_id = c.to_string();
            assert_eq!(inc["phase"], inc["live"]["phase"]);
            let call = get(&s, &format!("/v1/calls/{call_id}")).await;
            let phase = call["phase"].as_str().unwrap_or("").to_string();
            if phase != "ended" {
                assert_eq!(call["record"]["phase"], call["phase"], "{call:#}");
                // The timeline so far is there too.
                assert!(!call["events"].as_array().expect("events").is_empty());
            }
            if seen.last().is_none_or(|l| l.phase != phase) {
                seen.push(Seen {
                    phase: phase.clone(),
                    since: ts(&call["phase_since"]),
                    stages: call["record"]["stages"].clone(),
                });
            }
            // Mint a join link once answered: it must never reach the stream.
            if join_token.is_none() && matches!(phase.as_str(), "menu" | "briefing") {
                let r = client()
                    .post(format!("{}/v1/calls/{call_id}/join", s.http))
                    .header("authorization", format!("Bearer {API_TOKEN}"))
                    .send()
                    .await
                    .expect("mint");
                if r.status().as_u16() == 201 {
                    let v: Value =
                        serde_json::from_str(&r.text().await.expect("body")).expect("json");
                    join_token = v["token"].as_str().map(str::to_string);
                }
            }
            let (_, call_page) = get_as(&s, AUDITOR, &format!("/console/calls/{call_id}")).await;
            if let Some(rest) = call_page.split("No verdict yet: ").nth(1) {
                let words: String = rest.chars().take_while(|c| *c != '<').collect();
                if call_verdicts.last() != Some(&words) {
                    call_verdicts.push(words);
                }
            }
            let (_, list) = get_as(&s, AUDITOR, "/console/incidents").await;
            let (_, page) = get_as(&s, AUDITOR, &format!("/console/incidents/{id}")).await;

            for (html, into) in [(&list, &mut list_phases), (&page, &mut page_phases)] {
                if let Some(p) = html.split("data-phase='").nth(1) {
                    let p = p.split('\'').next().unwrap_or("").to_string();
                    if into.last() != Some(&p) {
                        into.push(p);
                    }
                    // No verdict while the call runs.
                    assert!(!html.contains("SLA missed"), "{html}");
                }
            }
            if list.contains("data-phase='ringing'") {
                assert!(list.contains("ringing vip ("), "{list}");
            }
        }
        let state = inc["ladder_state"].as_str().unwrap_or("");
        if !matches!(state, "running" | "pending" | "") {
            assert_eq!(state, "done", "{inc:#}");
            break;
        }
        assert!(Instant::now() < end, "ladder still {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (events, raw) = stream.await.expect("stream task");

    let fin = get(&s, &format!("/v1/calls/{call_id}")).await;
    assert_eq!(fin["phase"], "ended");
    let stages = &fin["record"]["stages"];
    eprintln!(
        "api phases: {:?}",
        seen.iter().map(|x| &x.phase).collect::<Vec<_>>()
    );
    eprintln!("console list: {list_phases:?}; page: {page_phases:?}");

    // The stream: each phase in order, each stamp the final record's.
    let phases: Vec<&Value> = events
        .iter()
        .filter(|e| e.event == "phase")
        .map(|e| &e.data)
        .collect();
    let names: Vec<&str> = phases
        .iter()
        .map(|p| p["phase"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["dialing", "ringing", "menu", "briefing", "menu", "ended"],
        "{events:#?}"
    );
    let final_ats: Vec<&str> = fin["record"]["events"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["at"].as_str())
        .collect();
    for p in &phases {
        assert_eq!(p["call_id"], fin["call_id"]);
        assert_eq!(p["contact"], "vip");
        let since = p["since"].as_str().expect("since");
        assert!(
            final_ats.contains(&since),
            "{since} not on the final timeline"
        );
        stamps_agree(&p["stages"], stages, "stream");
    }
    assert_eq!(phases[1]["since"], stages["ringing"]);
    assert_eq!(phases[2]["since"], stages["answered"]);
    assert_eq!(phases[5]["since"], stages["ended"]);
    assert_eq!(phases[5]["sla"]["met"], true);
    // Numbered 1, 2, ... ; a step before the call, its end and the ladder's after.
    let ids: Vec<u64> = events.iter().filter_map(|e| e.id).collect();
    assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>());
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event.as_str(), e.data["state"].as_str().unwrap_or("")))
        .filter(|(e, _)| *e != "phase")
        .collect();
    assert_eq!(
        kinds,
        [("step", "started"), ("step", "ended"), ("ladder", "done")]
    );
    assert_eq!(events[0].data["call_id"], fin["call_id"]);
    // A join link is a write capability: never in the stream.
    let token = join_token.expect("a join link was minted during the call");
    assert!(!raw.contains(&token), "join token in the event stream");
    assert!(!raw.contains("/join/"));

    // The API saw the phases in the same order, with the same stamps.
    let api: Vec<&str> = seen.iter().map(|x| x.phase.as_str()).collect();
    let mut want = names.iter();
    for p in &api {
        assert!(
            want.any(|n| n == p),
            "API phases {api:?} out of order ({names:?})"
        );
    }
    for must in ["ringing", "menu", "briefing"] {
        assert!(api.contains(&must), "API never showed {must}: {api:?}");
    }
    for x in &seen {
        let p = phases
            .iter()
            .find(|p| p["phase"] == x.phase.as_str() && ts(&p["since"]) == x.since)
            .unwrap_or_else(|| panic!("API phase {x:?} not in the stream"));
        stamps_agree(&x.stages, stages, "api");
        stamps_agree(&p["stages"], &x.stages, "stream vs api");
    }

    // The console showed the phase, then the verdict once decided.
    for must in ["ringing", "briefing"] {
        assert!(
            list_phases.iter().any(|p| p == must),
            "list: {list_phases:?}"
        );
        assert!(
            page_phases.iter().any(|p| p == must),
            "page: {page_phases:?}"
        );
    }
    eprintln!("call page: {call_verdicts:?}");
    assert!(
        call_verdicts
            .iter()
            .any(|v| v.starts_with("ringing vip (0:0")),
        "{call_verdicts:?}"
    );
    let (_, list) = get_as(&s, AUDITOR, "/console/incidents").await;
    assert!(
        list.contains("SLA met") && !list.contains("data-phase"),
        "{list}"
    );
    let (status, last) = tokio::time::timeout(Duration::from_secs(60), browser)
        .await
        .expect("the browser finishes")
        .expect("join");
    let status = status.expect("node exits");
    assert!(status.success(), "browser: {last}");
    let b: Value = serde_json::from_str(&last).expect("json");
    eprintln!("browser: {b}");
    let shown: Vec<&str> = b["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    // The page moved on by itself, in the stream's order.
    assert!(shown.len() >= 2, "the page never changed phase: {b}");
    let mut want = names.iter();
    // `starting` is the page's word for a ladder before its first call: no stream event.
    for p in shown.iter().skip_while(|p| **p == "starting") {
        assert!(
            want.any(|n| n == p),
            "browser phases {shown:?} out of order"
        );
    }
    assert!(shot.exists(), "screenshot at {}", shot.display());

    // Resuming: after event 2, exactly what followed it; an unknown id gets a reset.
    let n = events.len();
    let (again, _) = read_stream(&s.http, &id, Some(2), Duration::from_secs(5), |ev| {
        ev.len() >= n - 2
    })
    .await;
    assert_eq!(again, events[2..].to_vec());
    let (reset, _) = read_stream(&s.http, &id, Some(999), Duration::from_secs(5), |ev| {
        ev.len() > n
    })
    .await;
    assert_eq!(reset[0].event, "reset");
    assert_eq!(reset[1..].to_vec(), events);
    let by_kind: BTreeMap<&str, usize> = events.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e.event.as_str()).or_default() += 1;
        m
    });
    eprintln!("events: {by_kind:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_putting_us_on_hold_is_a_phase() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_reinvite_hold.xml", "u1", &[]);
    let config = serve_config(
        dir.path(),
        &format!(
            "[[http.tokens]]\nname = \"audrey\"\nrole = \"auditor\"\nsha256 = \"{}\"\n",
            hex_sha256(AUDITOR)
        ),
    );
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "desk",
            sipp.port,
            "30s",
            r#"{ wait = "3s" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let body = json!({
        "fingerprint": "fp-hold", "status": "firing", "severity": "critical",
        "asset": {"tag": "AT-4712", "vendor": "HPE"}, "fault": {"summary": "fan"}
    });
    let resp = client()
        .post(format!("{}/v1/hooks/generic", s.http))
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("hook");
    let v: Value = serde_json::from_str(&resp.text().await.expect("body")).expect("json");
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let (events, _) = read_stream(&s.http, &id, None, Duration::from_secs(30), |ev| {
        ev.iter().any(|e| e.event == "ladder")
    })
    .await;
    let phases: Vec<&Value> = events
        .iter()
        .filter(|e| e.event == "phase")
        .map(|e| &e.data)
        .collect();
    let names: Vec<&str> = phases.iter().filter_map(|p| p["phase"].as_str()).collect();
    let hold = names
        .iter()
        .position(|p| *p == "on_hold")
        .unwrap_or_else(|| panic!("no on_hold in {names:?}"));
    assert_eq!(names[hold + 1], "menu", "resumed: {names:?}");
    assert_eq!(names.last(), Some(&"ended"));
    // Each hold edge is stamped with the re-INVITE that made it.
    let call_id = phases[0]["call_id"].as_str().expect("call id");
    let fin = get(&s, &format!("/v1/calls/{call_id}")).await;
    let reinvites: Vec<&Value> = fin["record"]["events"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "reinvite_received")
        .map(|e| &e["at"])
        .collect();
    assert_eq!(
        reinvites,
        [&phases[hold]["since"], &phases[hold + 1]["since"]]
    );
}
