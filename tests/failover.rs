//! Trunk failover end to end (issue 10): `hotline serve` calls a contact whose dialplan
//! prefers trunk `a` then `b`. Trunk `a` is dead (a closed UDP port, a closed TCP port, or a
//! sipp answering 503); the call must be on trunk `b` (sipp answering) within 1 s of the
//! fault, measured on the two call records' clocks.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::serve::*;
use support::*;

/// Where trunk `a` points.
enum DeadTrunk {
    /// Nothing listens on this port (ICMP port unreachable / TCP refused).
    Closed(u16),
    /// A sipp that answers 503 (kept alive for the test).
    Overloaded(Sipp),
}

fn config(
    dir: &std::path::Path,
    transport: &str,
    strategy: &str,
    a: u16,
    b: u16,
) -> std::path::PathBuf {
    // No OPTIONS pings: trunk a must be found dead by the call itself (tests/trunk_health.rs
    // has the pings).
    let config = serve_config(dir, "");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "transport = \"udp\"",
        &format!("transport = \"{transport}\""),
    );
    let text = format!(
        "{text}
[[trunks]]
name = \"a\"
proxy = \"sip:127.0.0.1:{a}\"
options_ping = false

[[trunks]]
name = \"b\"
proxy = \"sip:127.0.0.1:{b}\"
options_ping = false
"
    );
    std::fs::write(&config, text).expect("config");
    let plan = format!(
        r#"vendor = "HPE"
strategy = "{strategy}"
trunks = ["a", "b"]
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
menu = [{{ wait = "300ms" }}, {{ hangup = true }}]
"#
    );
    std::fs::write(dir.join("dialplans/hpe.toml"), plan).expect("plan");
    config
}

fn incident(fingerprint: &str) -> String {
    json!({
        "fingerprint": fingerprint,
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-004711", "vendor": "HPE"},
        "fault": {"summary": "RAID logical drive degraded"}
    })
    .to_string()
}

fn utc(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("time: {v}")))
        .expect("rfc3339")
}

/// Runs one incident with trunk `a` dead as `dead`; returns the two call records (a's, b's)
/// and how long after a's fault b's INVITE left, in ms.
async fn fail_over(
    transport: &str,
    sipp_transport: &str,
    strategy: &str,
    dead: DeadTrunk,
) -> (Value, Value, i64) {
    let dir = tempfile::tempdir().expect("tmp");
    let b = Sipp::start(dir.path(), "uas_answer.xml", sipp_transport, &[]);
    let a_port = match &dead {
        DeadTrunk::Closed(p) => *p,
        DeadTrunk::Overloaded(s) => s.port,
    };
    let config = config(dir.path(), transport, strategy, a_port, b.port);
    let s = Server::start(&config);
    let id = post_incident(&s, &incident("fp-failover")).await;
    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2, "one call per trunk: {inc:#}");
    let on = |t: &str| {
        calls
            .iter()
            .map(|c| c["record"].clone())
            .find(|r| r["trunk"] == t)
            .unwrap_or_else(|| panic!("no call on trunk {t}: {inc:#}"))
    };
    let (first, second) = (on("a"), on("b"));
    assert_eq!(second["termination"]["result"], "answered", "{second:#}");
    assert_eq!(second["failover"]["from_trunk"], "a", "{second:#}");
    assert_eq!(second["failover"]["from_call"], first["call_id"]);
    assert_eq!(second["contact"], first["contact"], "the same contact");
    // The fault as a's record has it, and b's INVITE.
    let fault = utc(&first["stages"]["ended"]);
    assert_eq!(utc(&second["failover"]["fault_at"]), fault);
    let gap = (utc(&second["stages"]["invite_sent"]) - fault).num_milliseconds();
    // The failed step names its trunk and the failover; the ladder saw one attempt.
    let steps = inc["ladder"].as_array().expect("steps");
    let reason = steps[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("trunk a; failover to trunk b"), "{reason}");
    let code = tokio::task::spawn_blocking(move || b.wait(Duration::from_secs(15)))
        .await
        .expect("join");
    assert_eq!(code, 0, "sipp on trunk b took the whole call");
    if let DeadTrunk::Overloaded(a) = dead {
        let code = tokio::task::spawn_blocking(move || a.wait(Duration::from_secs(5)))
            .await
            .expect("join");
        assert_eq!(code, 0, "sipp on trunk a got the ACK of its 503");
    }
    // The failover is counted, and trunk a is known down.
    let (_, metrics) = get(&s, "/metrics").await;
    let text = metrics.as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("hotline_trunk_failovers_total{from=\"a\",to=\"b\"} 1"),
        "{text}"
    );
    (first, second, gap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_udp_port_fails_over_to_the_next_trunk_within_a_second() {
    let (first, _, gap) = fail_over(
        "udp",
        "u1",
        "sequential",
        DeadTrunk::Closed(free_port(false)),
    )
    .await;
    let reason = first["termination"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("trunk unreachable"), "{reason}");
    println!("udp: trunk b's INVITE {gap} ms after trunk a's fault");
    assert!((0..1000).contains(&gap), "{gap} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_tcp_port_fails_over_to_the_next_trunk_within_a_second() {
    let (first, _, gap) = fail_over(
        "tcp",
        "t1",
        "sequential",
        DeadTrunk::Closed(free_port(false)),
    )
    .await;
    let reason = first["termination"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("trunk unreachable"), "{reason}");
    println!("tcp: trunk b's INVITE {gap} ms after trunk a's fault");
    assert!((0..1000).contains(&gap), "{gap} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_answering_503_fails_over_to_the_next_trunk_within_a_second() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = Sipp::start(dir.path(), "uas_503.xml", "u1", &[]);
    let (first, _, gap) = fail_over("udp", "u1", "sequential", DeadTrunk::Overloaded(a)).await;
    assert_eq!(first["termination"]["code"], 503, "{first:#}");
    println!("503: trunk b's INVITE {gap} ms after trunk a's fault");
    assert!((0..1000).contains(&gap), "{gap} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlap_strategy_fails_over_too() {
    let (first, _, gap) =
        fail_over("udp", "u1", "overlap", DeadTrunk::Closed(free_port(false))).await;
    let reason = first["termination"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("trunk unreachable"), "{reason}");
    println!("overlap: trunk b's INVITE {gap} ms after trunk a's fault");
    assert!((0..1000).contains(&gap), "{gap} ms");
}
