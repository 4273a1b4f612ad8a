//! The operator bridge end to end: `hotline serve` calls a sipp vendor that echoes its RTP
//! (`uas_echo.xml -rtp_echo`); headless Chromium (Debian's, npm playwright-core) opens the
//! join link, talks (its fake microphone beeps), hears the vendor (the echo of its beep,
//! through hotline twice), uses the controls and hangs up. The recording's left channel
//! holds the operator, the right the vendor; tokens are single use and die with the call.
//! Prints the round trip (mouth to ear) and the browser's jitter buffer.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

async fn api(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let c = reqwest::Client::new();
    let mut r = match method {
        "POST" => c.post(format!("{}{path}", s.http)),
        _ => c.get(format!("{}{path}", s.http)),
    }
    .header("authorization", format!("Bearer {API_TOKEN}"));
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = r.send().await.expect("request");
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn plain(url: &str, body: Option<&str>) -> u16 {
    let c = reqwest::Client::new();
    let r = match body {
        Some(b) => c
            .post(url)
            .header("content-type", "application/json")
            .body(b.to_string()),
        None => c.get(url),
    };
    r.send().await.expect("request").status().as_u16()
}

/// Waits for the incident's first call to be answered; returns its call id and view.
async fn answered_call(s: &Server, incident: &str) -> (String, Value) {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, inc) = api(s, "GET", &format!("/v1/incidents/{incident}"), None).await;
        if let Some(id) = inc["calls"][0]["call_id"].as_str() {
            let (_, call) = api(s, "GET", &format!("/v1/calls/{id}"), None).await;
            if call["bridge"]["live"] == true {
                return (id.to_string(), call);
            }
        }
        assert!(Instant::now() < end, "no answered call: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn browser_ready(root: &Path) -> String {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: the README's test command installs Debian's chromium"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "run `npm ci --prefix tests/browser` (the README's test command does)"
    );
    chromium
}

const AUDITOR: &str = "auditor-token-bridge-0123456789";

fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// Security finding 1: a join link is a write capability. An auditor tries every route to
/// one (the API's call and incident views, the console page, minting through the API and
/// the console) and the log is searched for the tokens.
async fn an_auditor_gets_no_link(
    s: &Server,
    dir: &Path,
    call_id: &str,
    incident: &str,
    tokens: &[&str],
) {
    let c = reqwest::Client::new();
    let bearer = format!("Bearer {AUDITOR}");
    let mut seen = String::new();
    for path in [
        format!("/v1/calls/{call_id}"),
        format!("/v1/incidents/{incident}"),
        format!("/console/calls/{call_id}"),
        format!("/console/incidents/{incident}"),
    ] {
        let r = c
            .get(format!("{}{path}", s.http))
            .header("authorization", &bearer)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 200, "auditors read {path}");
        seen.push_str(&r.text().await.unwrap_or_default());
    }
    assert!(
        !seen.contains("/join/"),
        "an auditor's pages and API hold no join link"
    );
    for (path, ctype, body) in [
        (
            format!("/v1/calls/{call_id}/join"),
            "application/json",
            "{}",
        ),
        (
            format!("/console/calls/{call_id}/join"),
            "application/x-www-form-urlencoded",
            "mode=talk",
        ),
    ] {
        let r = c
            .post(format!("{}{path}", s.http))
            .header("authorization", &bearer)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 403, "an auditor cannot mint at {path}");
    }
    // The admin's console page offers the buttons (and still no token).
    let r = c
        .get(format!("{}/console/calls/{call_id}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .send()
        .await
        .expect("request");
    let page = r.text().await.unwrap_or_default();
    assert!(page.contains("Join and talk") && !page.contains("/join/"));
    let log = std::fs::read_to_string(dir.join("serve.err")).unwrap_or_default();
    for t in tokens {
        let t = t.trim_start_matches("/join/");
        assert!(!log.contains(t), "the log holds a join token");
    }
    assert!(
        log.contains(&format!("/console/calls/{call_id}")),
        "the live call is announced with its console page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_joins_from_the_browser_talks_hears_and_hangs_up() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = browser_ready(root);
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let config = serve_config(
        dir.path(),
        &format!(
            "[bridge]\njoin_ttl = \"10m\"\n[[http.tokens]]\nname = \"audrey\"\nrole = \"auditor\"\nsha256 = \"{}\"\n",
            hex_sha256(AUDITOR)
        ),
    );
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "support",
            vendor.port,
            "30s",
            r#"{ wait = "25s" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let (code, v) = api(&s, "POST", "/v1/dialplans/hpe/dial", Some(json!({}))).await;
    assert_eq!(code, 202, "{v:#}");
    let incident = v["id"].as_str().expect("id").to_string();
    let (call_id, call) = answered_call(&s, &incident).await;
    assert_eq!(
        call["bridge"]["open_links"], 0,
        "no link exists until a writer asks"
    );
    // A writer mints the links; the tokens go to that writer only.
    let (code, m) = api(&s, "POST", &format!("/v1/calls/{call_id}/join"), None).await;
    assert_eq!(code, 201, "{m}");
    let join = m["path"].as_str().expect("join link").to_string();
    let (code, m) = api(
        &s,
        "POST",
        &format!("/v1/calls/{call_id}/join"),
        Some(json!({"listen_only": true})),
    )
    .await;
    assert_eq!((code, m["listen_only"].as_bool()), (201, Some(true)), "{m}");
    let listen = m["path"].as_str().expect("listen link").to_string();
    an_auditor_gets_no_link(&s, dir.path(), &call_id, &incident, &[&join, &listen]).await;

    // Wrong tokens are refused; the page does not use the token.
    assert_eq!(plain(&format!("{}/join/0123", s.http), None).await, 404);
    assert_eq!(plain(&format!("{}{join}", s.http), None).await, 200);
    assert_eq!(
        plain(
            &format!("{}/join/0123/offer", s.http),
            Some(r#"{"sdp":"x"}"#)
        )
        .await,
        404
    );
    let started = Instant::now();
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(root.join("tests/browser"))
        .arg("join.mjs")
        .arg(format!("{}{join}", s.http))
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the browser finishes within 60 s")
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}")).expect("json");
    eprintln!("browser: {b:#}");
    eprintln!("browser part took {:?}", started.elapsed());
    assert_eq!(b["listen_only"], false);
    assert_eq!(b["reuse_status"], 409, "a used link is refused");
    assert!(
        b["heard"].as_u64().unwrap_or(0) > 5,
        "the page hears the vendor: {b}"
    );
    let trips: Vec<f64> = b["round_trip_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    assert!(!trips.is_empty(), "the beep came back: {b}");
    eprintln!(
        "LATENCY round trip browser -> hotline -> vendor echo -> hotline -> browser: {trips:?} ms; \
         browser jitter buffer {} ms",
        b["jitter_buffer_ms"]
    );
    // A generous sanity bound only (figures are reported, not asserted tightly).
    assert!(trips.iter().all(|t| *t < 900.0), "{trips:?}");
    let tl: Vec<&str> = b["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    for k in [
        "answered",
        "join_link_minted",
        "operator_joined",
        "operator_muted",
        "ownership",
        "dtmf_sent",
    ] {
        assert!(tl.contains(&k), "{k} missing from {tl:?}");
    }

    // The hang-up ended the call: its links are refused now.
    let end = Instant::now() + Duration::from_secs(10);
    let rec = loop {
        let (_, c) = api(&s, "GET", &format!("/v1/calls/{call_id}"), None).await;
        if c["record"]["termination"].is_object() && c["bridge"].is_null() {
            break c;
        }
        assert!(Instant::now() < end, "call not ended: {c:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        plain(&format!("{}{listen}/offer", s.http), Some(r#"{"sdp":"x"}"#)).await,
        410,
        "a link of an ended call is refused"
    );
    assert!(
        rec["record"]["termination"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("hung up"),
        "{rec:#}"
    );
    let log = std::fs::read_to_string(dir.path().join("serve.err")).unwrap_or_default();
    if let Some(l) = log.lines().find(|l| l.contains("bridge closed")) {
        eprintln!("LATENCY hotline queues: {l}");
    }
    // Ownership is on the incident.
    let (_, inc) = api(&s, "GET", &format!("/v1/incidents/{incident}"), None).await;
    let text = inc.to_string();
    assert!(
        text.contains("HPE-5003141592") && text.contains("Grace Vendor"),
        "{inc:#}"
    );

    // The incident's event stream told the story live: joined, talking, ownership; and never
    // a link (a write capability), though auditors may read the stream.
    let mut resp = reqwest::Client::new()
        .get(format!("{}/v1/incidents/{incident}/events", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .send()
        .await
        .expect("events");
    assert_eq!(resp.status().as_u16(), 200);
    let mut stream = String::new();
    let until = Instant::now() + Duration::from_secs(5);
    while !stream.contains("\"phase\":\"ended\"") {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(c))) => stream.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    for want in [
        "\"action\":\"joined\"",
        "\"phase\":\"talking\"",
        "HPE-5003141592",
    ] {
        assert!(stream.contains(want), "{want} not in the stream:\n{stream}");
    }
    let at = |t: &str| stream.find(t).unwrap_or(usize::MAX);
    assert!(at("\"action\":\"joined\"") < at("\"phase\":\"talking\""));
    for link in [&join, &listen] {
        let token = link.trim_start_matches("/join/");
        assert!(!stream.contains(token), "a join token in the event stream");
    }

    // The recording: left = what went to the vendor (the operator's beep), right = the
    // vendor (its echo). Without the operator the left channel would be silence.
    let wav = rec["record"]["recording"].as_str().expect("recording");
    let wav = if Path::new(wav).is_absolute() {
        Path::new(wav).to_path_buf()
    } else {
        dir.path().join(wav)
    };
    let mut r = hound::WavReader::open(&wav).expect("wav");
    let all: Vec<i16> = r.samples::<i16>().map(|x| x.expect("sample")).collect();
    let left: Vec<i16> = all.iter().step_by(2).copied().collect();
    let right: Vec<i16> = all.iter().skip(1).step_by(2).copied().collect();
    let peak = |s: &[i16]| s.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
    eprintln!(
        "recording: left rms {:.0} peak {}, right rms {:.0} peak {}",
        rms(&left),
        peak(&left),
        rms(&right),
        peak(&right)
    );
    assert!(peak(&left) > 3000, "the operator is on the left channel");
    assert!(
        peak(&right) > 3000,
        "the vendor's echo is on the right channel"
    );
    drop(vendor);
    s.terminate();
}
