//! Trunk health while serving (issue 10): OPTIONS pings per trunk, the state in `/readyz`
//! (JSON per trunk; ready while one trunk is up) and `/metrics`, and a trunk the pings found
//! down tried last by the ladder. Trunk `a` is a closed UDP port, trunk `b` a sipp answering
//! OPTIONS, trunk `c` (not pinged) a sipp answering the call.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

async fn readyz(s: &Server) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}/readyz", s.http))
        .header("accept", "application/json")
        .send()
        .await
        .expect("readyz");
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    (code, serde_json::from_str(&text).expect("json"))
}

/// Polls `/readyz` until `pred` holds (10 s at most).
async fn readyz_until(s: &Server, what: &str, pred: impl Fn(&Value) -> bool) -> (u16, Value) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, v) = readyz(s).await;
        if pred(&v) {
            return (code, v);
        }
        assert!(Instant::now() < end, "{what}: {v:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_show_each_trunk_and_a_down_trunk_is_tried_last() {
    let dir = tempfile::tempdir().expect("tmp");
    let b = Sipp::start(dir.path(), "uas_options.xml", "u1", &["-m", "1000"]);
    let c = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let dead = free_port(false);
    let config = serve_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = format!(
        "{text}
[[trunks]]
name = \"a\"
proxy = \"sip:127.0.0.1:{dead}\"
options_interval = \"1s\"

[[trunks]]
name = \"b\"
proxy = \"sip:127.0.0.1:{b}\"
options_interval = \"1s\"

[[trunks]]
name = \"c\"
proxy = \"sip:127.0.0.1:{c}\"
options_ping = false
",
        b = b.port,
        c = c.port
    );
    std::fs::write(&config, text).expect("config");
    let plan = r#"vendor = "HPE"
trunks = ["a", "c"]
[[match]]
vendor = "HPE"

[[contacts]]
id = "support"
name = "support line"
uri = "+4930123456"
source = "test"
verified_on = "2026-11-01"
ring_timeout = "30s"
answer_within = "30s"
menu = [{ wait = "300ms" }, { hangup = true }]
"#;
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);

    // The first pings: a down (ICMP port unreachable), b up; ready (one trunk is up).
    let (code, v) = readyz_until(&s, "a down and b up", |v| {
        v["trunks"]["a"]["up"] == false && v["trunks"]["b"]["up"] == true
    })
    .await;
    assert_eq!(code, 200, "{v:#}");
    assert_eq!(v["ready"], true);
    assert_eq!(v["trunks"]["b"]["last_code"], 200);
    let rtt = v["trunks"]["b"]["rtt_ms"].as_f64().expect("rtt");
    assert!(rtt > 0.0 && rtt < 500.0, "rtt {rtt} ms");
    let why = v["trunks"]["a"]["reason"].as_str().unwrap_or_default();
    assert!(why.contains("unreachable"), "{why}");
    assert_eq!(v["trunks"]["c"]["pinged"], false);
    assert_eq!(v["trunks"]["c"]["up"], Value::Null);
    let (_, m) = get(&s, "/metrics").await;
    let m = m.as_str().unwrap_or_default().to_string();
    assert!(m.contains("hotline_trunk_up{trunk=\"a\"} 0"), "{m}");
    assert!(m.contains("hotline_trunk_up{trunk=\"b\"} 1"), "{m}");
    assert!(
        m.contains("hotline_trunk_ping_seconds{trunk=\"b\"} "),
        "{m}"
    );

    // The plan prefers a, then c: a is down, so the call goes to c first, no failover.
    let body = json!({"fingerprint": "fp-health", "status": "firing", "severity": "critical",
        "asset": {"vendor": "HPE"}, "fault": {"summary": "PSU failed"}})
    .to_string();
    let id = post_incident(&s, &body).await;
    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1, "{inc:#}");
    assert_eq!(calls[0]["record"]["trunk"], "c", "{inc:#}");
    assert_eq!(calls[0]["record"]["termination"]["result"], "answered");
    assert!(calls[0]["record"]["failover"].is_null());

    // b stops answering: every pinged trunk is down, c unknown; still ready through c...
    drop(b);
    let (code, v) = readyz_until(&s, "b down", |v| v["trunks"]["b"]["up"] == false).await;
    assert_eq!(v["trunks"]["c"]["up"], true, "c carried a call: {v:#}");
    assert_eq!(code, 200, "{v:#}");
    drop(c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trunk_down_is_not_ready() {
    let dir = tempfile::tempdir().expect("tmp");
    let dead = free_port(false);
    let config = serve_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = format!(
        "{text}
[[trunks]]
name = \"only\"
proxy = \"sip:127.0.0.1:{dead}\"
options_interval = \"1s\"
"
    );
    std::fs::write(&config, text).expect("config");
    let s = Server::start(&config);
    let (code, v) = readyz_until(&s, "only down", |v| v["trunks"]["only"]["up"] == false).await;
    assert_eq!(code, 503, "{v:#}");
    assert_eq!(v["ready"], false);
    let checks = v["checks"].to_string();
    assert!(checks.contains("every trunk is down"), "{checks}");
    // The plain-text form says the same.
    let text = reqwest::get(format!("{}/readyz", s.http))
        .await
        .expect("readyz")
        .text()
        .await
        .expect("text");
    assert!(text.starts_with("not ready\n"), "{text}");
    assert!(text.contains("trunk only: down"), "{text}");
}

/// Without a proxy (direct SIP URIs: each call goes to the vendor's own host) there is no
/// trunk to watch: an unreachable vendor fails its call but never makes hotline not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_vendor_is_not_a_dead_trunk() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("gone", free_port(false), "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let body = json!({"fingerprint": "fp-gone", "status": "firing", "severity": "critical",
        "asset": {"vendor": "HPE"}, "fault": {"summary": "PSU failed"}})
    .to_string();
    let id = post_incident(&s, &body).await;
    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    let reason = inc["calls"][0]["record"]["termination"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(reason.starts_with("trunk unreachable"), "{inc:#}");
    let (code, v) = readyz(&s).await;
    assert_eq!(code, 200, "{v:#}");
    assert_eq!(v["trunks"], json!({}), "{v:#}");
}
