//! `hotline serve` end to end: webhooks in over HTTP, the ladder calling sipp lines over real
//! SIP, everything in the store and the API.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post_hook(s: &Server, format: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    post_to(&s.http, format, token, body).await
}

async fn post_to(http: &str, format: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut r = client()
        .post(format!("{http}/v1/hooks/{format}"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let resp = r.send().await.expect("post");
    let code = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn generic(fingerprint: &str, status: &str) -> String {
    json!({
        "fingerprint": fingerprint,
        "status": status,
        "severity": "critical",
        "asset": {"tag": "AT-004711", "serial": "CZJ93801XY", "vendor": "HPE",
                  "model": "ProLiant DL380 Gen10", "contract": "HPE-PC-2231-88812"},
        "fault": {"summary": "RAID logical drive degraded"},
        "labels": {"uri": "sip:+19005550100@evil.example", "phone": "+19005550100"}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ladder_busy_then_no_answer_then_answered() {
    let dir = tempfile::tempdir().expect("tmp");
    let busy = Sipp::start(dir.path(), "uas_busy.xml", "u1", &[]);
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let ok = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-d", "800"]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}{}{}",
        contact("hotline", busy.port, "30s", ""),
        contact("vip", ring.port, "2s", ""),
        contact(
            "account-manager",
            ok.port,
            "30s",
            r#"{ wait = "500ms" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);

    let (code, v) = post_hook(
        &s,
        "generic",
        Some(HOOK_TOKEN),
        &generic("fp-ladder", "firing"),
    )
    .await;
    assert_eq!(code, 202, "{v:#}");
    assert_eq!(v["incidents"][0]["dialplan"], "hpe");
    assert_eq!(v["incidents"][0]["created"], true);
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();

    let inc = settled(&s, &id, Duration::from_secs(30)).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let steps = inc["ladder"].as_array().expect("steps");
    let outcomes: Vec<_> = steps
        .iter()
        .map(|x| x["outcome"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(outcomes, ["busy", "no_answer", "answered"], "{inc:#}");
    // Each escalation happens at once: the next step starts right after the previous ends.
    for w in steps.windows(2) {
        let ended = chrono::DateTime::parse_from_rfc3339(w[0]["ended_at"].as_str().expect("end"))
            .expect("time");
        let next =
            chrono::DateTime::parse_from_rfc3339(w[1]["started_at"].as_str().expect("start"))
                .expect("time");
        let gap = (next - ended).num_milliseconds();
        assert!((0..500).contains(&gap), "{gap} ms between steps");
    }
    // The VIP line rang until its 2 s SLA, then was cancelled.
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 3);
    let vip = &calls[1];
    let cancel = vip["record"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "cancel_sent")
        .and_then(|e| e["offset_ms"].as_f64())
        .expect("cancel sent");
    assert!((1900.0..2300.0).contains(&cancel), "CANCEL at {cancel} ms");
    // The answered call: time to answer ~ the 800 ms ring delay.
    let tta = calls[2]["record"]["time_to_answer_ms"]
        .as_u64()
        .expect("tta");
    assert!((750..=900).contains(&tta), "time to answer {tta}");
    // The whitelist: every call went to a dialplan contact, never to the labels' numbers.
    for c in calls {
        let uri = c["record"]["uri"].as_str().expect("uri");
        assert!(
            uri.starts_with("sip:") && uri.contains("@127.0.0.1:"),
            "{uri}"
        );
        assert!(!uri.contains("900555"), "{uri}");
    }
    // A call's recording is served with Range.
    let call_id = calls[2]["call_id"].as_str().expect("call id");
    let resp = client()
        .get(format!("{}/v1/calls/{call_id}/recording", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("range", "bytes=0-43")
        .send()
        .await
        .expect("range");
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(resp.bytes().await.expect("bytes").len(), 44);
    let (_, m) = (
        0,
        client()
            .get(format!("{}/metrics", s.http))
            .send()
            .await
            .expect("m")
            .text()
            .await
            .expect("t"),
    );
    assert!(
        m.contains("hotline_calls_total{dialplan=\"hpe\",result=\"busy\",side=\"vendor\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("hotline_escalations_total{dialplan=\"hpe\"} 2"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_join_and_resolve_cancels_the_ringing_call() {
    let dir = tempfile::tempdir().expect("tmp");
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("hotline", ring.port, "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    // Ten deliveries of the same alert at once: one incident, one ladder.
    let body = generic("fp-dup", "firing");
    let posts = (0..10).map(|_| {
        let (http, body) = (s.http.clone(), body.clone());
        async move { post_to(&http, "generic", Some(HOOK_TOKEN), &body).await }
    });
    let replies = futures_join(posts).await;
    let created = replies
        .iter()
        .filter(|(c, v)| *c == 202 && v["incidents"][0]["created"] == true)
        .count();
    assert_eq!(created, 1, "{replies:#?}");
    let id = replies[0].1["incidents"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(
        replies
            .iter()
            .all(|(_, v)| v["incidents"][0]["id"] == id.as_str())
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, _) = post_hook(
        &s,
        "generic",
        Some(HOOK_TOKEN),
        &generic("fp-dup", "resolved"),
    )
    .await;
    assert_eq!(code, 202);
    // The resolve marks the ladder stopped at once; the call's record is final once the
    // CANCEL transaction is done.
    let end = Instant::now() + Duration::from_secs(10);
    let inc = loop {
        let inc = settled(&s, &id, Duration::from_secs(10)).await;
        if inc["calls"][0]["result"].is_string() {
            break inc;
        }
        assert!(
            Instant::now() < end,
            "the cancelled call never ended: {inc:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(inc["ladder_state"], "stopped", "{inc:#}");
    assert_eq!(inc["deliveries"].as_array().map(Vec::len), Some(10));
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1, "one ladder, one call");
    let kinds: Vec<_> = calls[0]["record"]["events"]
        .as_array()
        .expect("ev")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert!(kinds.contains(&"cancel_sent"), "{kinds:?}");
    assert_eq!(calls[0]["record"]["termination"]["result"], "cancelled");
    assert_eq!(
        ring.wait(Duration::from_secs(10)),
        0,
        "sipp saw CANCEL / 487 / ACK"
    );
}

async fn futures_join<F: std::future::Future<Output = (u16, Value)> + Send + 'static>(
    it: impl Iterator<Item = F>,
) -> Vec<(u16, Value)> {
    let handles: Vec<_> = it.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("join"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_reasons_and_unrouted_raises_a_ticket() {
    use axum::{Json, Router, routing::post};
    // A ticket system in the test.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Option<String>, Value)>();
    let app = Router::new().route(
        "/p0",
        post(move |h: axum::http::HeaderMap, Json(v): Json<Value>| {
            let tx = tx.clone();
            async move {
                let auth = h
                    .get("authorization")
                    .and_then(|x| x.to_str().ok())
                    .map(str::to_string);
                let _ = tx.send((auth, v));
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await });

    let dir = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[ladder]\nfallback_url = \"http://{addr}/p0\"\nfallback_token = \"ticket-secret\"\n"
    );
    let config = serve_config(dir.path(), &extra);
    let plan = format!(
        "vendor = \"Dell\"\n[[match]]\nvendor = \"Dell\"\n{}",
        contact("dell", 9, "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/dell.toml"), plan).expect("plan");
    let s = Server::start(&config);

    // No token, wrong token, a format without auth configured: 401 with a reason.
    let body = generic("fp-x", "firing");
    assert_eq!(post_hook(&s, "generic", None, &body).await.0, 401);
    let (c, v) = post_hook(&s, "generic", Some("wrong-token-0000000000"), &body).await;
    assert_eq!(c, 401);
    assert!(v["reason"].as_str().unwrap_or("").contains("match"), "{v}");
    assert_eq!(post_hook(&s, "zabbix", Some(HOOK_TOKEN), "{}").await.0, 401);
    assert_eq!(
        post_hook(&s, "nonsense", Some(HOOK_TOKEN), "{}").await.0,
        404
    );
    // Malformed, a destination field, too large: 400 / 400 / 413 with reasons.
    let (c, v) = post_hook(&s, "generic", Some(HOOK_TOKEN), "{\"fingerprint\": 1").await;
    assert_eq!(c, 400, "{v}");
    let (c, v) = post_hook(
        &s,
        "generic",
        Some(HOOK_TOKEN),
        r#"{"fingerprint":"a","uri":"sip:+1900@x","fault":{"summary":"s"}}"#,
    )
    .await;
    assert_eq!(c, 400);
    assert!(v["reason"].as_str().unwrap_or("").contains("uri"), "{v}");
    let huge = format!("{{\"fingerprint\":\"{}\"}}", "x".repeat(2 << 20));
    assert_eq!(
        post_hook(&s, "generic", Some(HOOK_TOKEN), &huge).await.0,
        413
    );
    // The API wants its token.
    let r = client()
        .get(format!("{}/v1/incidents", s.http))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);

    // The shipped Alertmanager payload: routes nowhere here (HPE) -> unrouted -> P0 ticket.
    let am = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/alertmanager.json"
    ))
    .expect("fixture");
    let (c, v) = post_hook(&s, "alertmanager", Some(HOOK_TOKEN), &am).await;
    assert_eq!(c, 202, "{v:#}");
    assert!(v["incidents"][0]["dialplan"].is_null());
    let (auth, ticket) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("ticket in time")
        .expect("ticket");
    assert_eq!(auth.as_deref(), Some("Bearer ticket-secret"));
    assert_eq!(ticket["priority"], "P0");
    assert_eq!(ticket["incident"]["asset"]["serial"], "CZJ93801XY");
    let id = v["incidents"][0]["id"].as_str().expect("id");
    let inc = settled(&s, id, Duration::from_secs(10)).await;
    assert_eq!(inc["ladder_state"], "exhausted");
    assert_eq!(inc["tickets"][0]["status_code"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_marks_and_resumes_an_interrupted_ladder() {
    let dir = tempfile::tempdir().expect("tmp");
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let config = serve_config(dir.path(), "");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("hotline", ring.port, "30s", "")
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let (_, v) = post_hook(
        &s,
        "generic",
        Some(HOOK_TOKEN),
        &generic("fp-crash", "firing"),
    )
    .await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // Until the first call rings (its row is stored before the INVITE leaves).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{id}")).await;
        if inc["calls"].as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no call: {inc:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(s); // kill -9 while the line rings
    let s = Server::start(&config);
    // The restarted server marks the cut call and places a new one (a loaded box may take
    // seconds to get there).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let inc = loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{id}")).await;
        let n = inc["calls"].as_array().map_or(0, |c| c.len());
        if n >= 2 || std::time::Instant::now() > deadline {
            break inc;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(inc["ladder_state"], "running", "resumed: {inc:#}");
    let calls = inc["calls"].as_array().expect("calls");
    assert!(
        calls[0]["interrupted"] == true,
        "the cut call is marked: {inc:#}"
    );
    assert!(calls.len() >= 2, "a new call was placed: {inc:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_phone_is_bridged_into_the_vendor_call() {
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let phone = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let extra = format!(
        "[ladder]\nmax_call_duration = \"7s\"\n\n[[operators]]\nid = \"alice\"\nname = \"Alice (on call)\"\nuri = \"sip:alice@127.0.0.1:{}\"\n",
        phone.port
    );
    let config = serve_config(dir.path(), &extra);
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("hotline", vendor.port, "30s", r#"{ wait = "1s" }"#)
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let (_, v) = post_hook(
        &s,
        "generic",
        Some(HOOK_TOKEN),
        &generic("fp-phone", "firing"),
    )
    .await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // The vendor call is up: find it, bridge Alice's phone in.
    let call_id = loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{id}")).await;
        if let Some(c) = inc["calls"][0]["call_id"].as_str() {
            break c.to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let post = |body: &'static str| {
        client()
            .post(format!("{}/v1/calls/{call_id}/phone", s.http))
            .header("authorization", format!("Bearer {API_TOKEN}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Only configured operators, by id: never a number.
    let r = post(r#"{"operator": "mallory"}"#).await.expect("post");
    assert_eq!(r.status().as_u16(), 404);
    let r = post(r#"{"operator": "alice", "uri": "sip:+1900@evil"}"#)
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 400);
    let r = post(r#"{"operator": "alice"}"#).await.expect("post");
    assert_eq!(r.status().as_u16(), 202);
    let phone_call: Value = serde_json::from_str(&r.text().await.expect("t")).expect("json");
    let phone_call = phone_call["phone_call_id"]
        .as_str()
        .expect("id")
        .to_string();
    // The vendor call ends at its maximum duration; the phone leg follows.
    let inc = settled(&s, &id, Duration::from_secs(20)).await;
    assert_eq!(
        phone.wait(Duration::from_secs(10)),
        0,
        "Alice's phone was called and hung up"
    );
    let vendor_call = inc["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .find(|c| c["call_id"] == call_id.as_str())
        .expect("vendor call")
        .clone();
    let kinds: Vec<_> = vendor_call["record"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(kinds.contains(&"operator_joined".to_string()), "{kinds:?}");
    // The operator's voice (sipp's pcap) went to the vendor: it is on the left channel.
    let wav = vendor_call["record"]["recording"].as_str().expect("wav");
    let r = hound::WavReader::open(wav).expect("recording");
    let left: Vec<i16> = r
        .into_samples::<i16>()
        .step_by(2)
        .map(|x| x.expect("sample"))
        .collect();
    assert!(
        rms(&left[left.len() / 2..]) > 300.0,
        "operator audio sent to the vendor"
    );
    // And the operator's leg was recorded and stored too.
    let (code, pc) = get(&s, &format!("/v1/calls/{phone_call}")).await;
    assert_eq!(code, 200, "{pc:#}");
    assert_eq!(pc["record"]["termination"]["result"], "answered");
}

/// Issue 19: the P0 ticket is never abandoned. The ticket system refuses (503) the first
/// round; hotline restarts; the retry loop (the store is its queue) sends it again until it
/// is accepted, for as long as the incident fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_p0_ticket_is_retried_across_a_restart_until_accepted() {
    use axum::{Router, http::StatusCode, routing::post};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    let up = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU32::new(0));
    let (u, n) = (up.clone(), seen.clone());
    let app = Router::new().route(
        "/p0",
        post(move || {
            let (u, n) = (u.clone(), n.clone());
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                if u.load(Ordering::SeqCst) {
                    StatusCode::CREATED
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await });
    let dir = tempfile::tempdir().expect("tmp");
    let extra = format!("[ladder]\nfallback_url = \"http://{addr}/p0\"\nticket_retry = \"1s\"\n");
    let config = serve_config(dir.path(), &extra);
    let s = Server::start(&config);
    // Routes nowhere: exhausted at once, ticket refused four times.
    let (c, v) = post_hook(&s, "generic", Some(HOOK_TOKEN), &generic("fp-p0", "firing")).await;
    assert_eq!(c, 202, "{v}");
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let end = Instant::now() + Duration::from_secs(15);
    while seen.load(Ordering::SeqCst) < 4 {
        assert!(Instant::now() < end, "no first round");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.terminate();
    up.store(true, Ordering::SeqCst);
    let s = Server::start(&config);
    let end = Instant::now() + Duration::from_secs(30);
    let inc = loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{id}")).await;
        let accepted = inc["tickets"]
            .as_array()
            .is_some_and(|t| t.iter().any(|a| a["status_code"] == 201));
        if accepted {
            break inc;
        }
        assert!(Instant::now() < end, "ticket never accepted: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let attempts = inc["tickets"].as_array().map_or(0, Vec::len);
    assert!(
        attempts >= 5,
        "refused round, then the accepted retry: {attempts}"
    );
    s.terminate();
}
