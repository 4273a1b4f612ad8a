//! Restarts end to end, on 127.0.0.1 against sipp vendor lines: `kill -9` mid-call (the cut
//! call sealed, the orphaned call hung up at the vendor with a BYE, the contact redialled),
//! SIGTERM mid-ladder (drained, then resumed where it was), and calls made outside a ladder
//! (operator phone legs, `hotline dial` next to `serve`) keeping `hotline verify` clean.

mod support;

use serde_json::{Value, json};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

async fn post_hook(s: &Server, body: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/hooks/generic", s.http))
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 202);
    serde_json::from_str(&resp.text().await.expect("body")).expect("json")
}

async fn get(s: &Server, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .send()
        .await
        .expect("get");
    serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null)
}

/// Polls the incident until `done` says so.
async fn until(s: &Server, id: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let end = Instant::now() + within;
    loop {
        let v = get(s, &format!("/v1/incidents/{id}")).await;
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < end, "not reached in time: {v:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn settled(v: &Value) -> bool {
    !matches!(
        v["ladder_state"].as_str().unwrap_or(""),
        "running" | "pending" | ""
    )
}

fn firing(fingerprint: &str) -> String {
    json!({
        "fingerprint": fingerprint,
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-004711", "vendor": "HPE", "contract": "HPE-PC-2231-88812"},
        "fault": {"summary": "RAID logical drive degraded"}
    })
    .to_string()
}

/// A chat webhook in the test: collects every notify text.
async fn notify_sink() -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::{Json, Router, routing::post};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let app = Router::new().route(
        "/chat",
        post(move |Json(v): Json<Value>| {
            let seen = s2.clone();
            async move {
                let text = v["text"].as_str().unwrap_or_default().to_string();
                seen.lock().expect("lock").push(text);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await });
    (format!("http://{addr}/chat"), seen)
}

/// Every sidecar under the test's recordings folder.
fn sidecars(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("recordings")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out
}

/// `hotline verify`: exit code and stdout.
fn verify(config: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["verify", "--config"])
        .arg(config)
        .output()
        .expect("run hotline verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn event<'a>(call: &'a Value, kind: &str) -> Option<&'a Value> {
    call["record"]["events"]
        .as_array()?
        .iter()
        .find(|e| e["kind"] == kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_call_then_restart_hangs_up_the_vendor_redials_and_seals() {
    kill_9_mid_call("udp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_call_over_tcp_the_bye_takes_a_new_connection() {
    kill_9_mid_call("tcp").await;
}

async fn kill_9_mid_call(transport: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    // One vendor line for both calls: the cut one (answered, then waits for a BYE) and the
    // redial. sipp exits 0 only if each got its BYE and answered it.
    let sipp_transport = if transport == "tcp" { "t1" } else { "u1" };
    let vendor = Sipp::start(dir.path(), "uas_answer.xml", sipp_transport, &["-m", "2"]);
    let (chat, said) = notify_sink().await;
    let config = serve_config(
        dir.path(),
        &format!("[ladder]\nafter_restart = \"redial\"\nnotify_url = \"{chat}\"\n"),
    );
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace(
            "transport = \"udp\"",
            &format!("transport = \"{transport}\""),
        ),
    )
    .expect("config");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "hotline",
            vendor.port,
            "30s",
            r#"{ wait = "6s" }, { hangup = true }"#
        )
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    // A fixed SIP address across the restart, like a configured `[sip] bind`: sipp (like
    // many peers) answers a dialog's requests where the dialog began.
    let sip = format!("127.0.0.1:{}", free_port(false));
    let s = Server::start_on(&config, &sip);
    let v = post_hook(&s, &firing("fp-kill")).await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // Answered (the sidecar says so), then 3 s into the call: SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(10);
    let cut = loop {
        assert!(Instant::now() < deadline, "never answered");
        if let Some(p) = sidecars(dir.path()).pop()
            && let Ok(t) = std::fs::read_to_string(&p)
            && let Ok(v) = serde_json::from_str::<Value>(&t)
            && !v["stages"]["answered"].is_null()
        {
            break v["call_id"].as_str().expect("call id").to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(s); // SIGKILL: no BYE, no sealing
    let restarted = chrono::Utc::now();
    let s = Server::start_on(&config, &sip);

    let inc = until(&s, &id, Duration::from_secs(30), settled).await;
    assert_eq!(inc["ladder_state"], "done", "the redial took it: {inc:#}");
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2, "{inc:#}");
    let first = calls
        .iter()
        .find(|c| c["call_id"] == cut.as_str())
        .expect("the cut call");
    assert_eq!(first["interrupted"], true);
    if transport == "tcp" {
        // sipp (t1) drops a call whose TCP connection broke, so it cannot answer the BYE; a
        // trunk keeps the dialog. What this shows: the BYE reached the vendor's port on a new
        // connection, within 5 s of the restart, with the cut call's dialog identifiers.
        let log = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("_errors.log"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default();
        let bye = log
            .split("received '")
            .find(|m| m.starts_with("BYE ") && m.contains(&format!("Call-ID: {cut}")))
            .unwrap_or_else(|| panic!("no BYE for {cut} at the vendor: {log}"));
        assert!(
            bye.contains("SIP/2.0/TCP") && bye.contains("CSeq: 2 BYE"),
            "{bye}"
        );
        let stamp = log[..log.find(bye).expect("in log")]
            .rsplit('\n')
            .next()
            .and_then(|l| l.split('\t').nth(2))
            .and_then(|t| t.split(':').next())
            .and_then(|t| t.parse::<f64>().ok())
            .expect("sipp's timestamp");
        let after = stamp * 1000.0 - restarted.timestamp_millis() as f64;
        assert!(
            (0.0..5000.0).contains(&after),
            "BYE {after} ms after the restart"
        );
        return;
    }
    // The interruption and the BYE the restart sent, on the cut call's timeline.
    assert!(event(first, "interrupted").is_some(), "{first:#}");
    assert!(event(first, "bye_sent").is_some(), "{first:#}");
    // The vendor's 200 to it came back within 5 s of the restart: it had the BYE by then.
    let answered = event(first, "bye_response").expect("the vendor answered the BYE");
    assert_eq!(answered["code"], 200);
    let at =
        chrono::DateTime::parse_from_rfc3339(answered["at"].as_str().expect("at")).expect("time");
    let after = (at.with_timezone(&chrono::Utc) - restarted).num_milliseconds();
    assert!(
        (0..5000).contains(&after),
        "BYE answered {after} ms after the restart"
    );
    let reason = first["record"]["termination"]["reason"]
        .as_str()
        .unwrap_or("");
    assert!(
        reason.contains("BYE after the restart answered"),
        "{reason}"
    );
    // The redial: the same contact, attempt 2, answered and completed.
    let steps = inc["ladder"].as_array().expect("steps");
    let summary: Vec<_> = steps
        .iter()
        .map(|s| {
            format!(
                "{}#{} {} {}",
                s["contact"].as_str().unwrap_or(""),
                s["attempt"],
                s["outcome"].as_str().unwrap_or("-"),
                s["interrupted"]
            )
        })
        .collect();
    assert_eq!(
        summary,
        ["hotline#1 failed true", "hotline#2 answered false"],
        "{inc:#}"
    );
    assert_eq!(
        vendor.wait(Duration::from_secs(15)),
        0,
        "the vendor got a BYE for both calls"
    );
    let texts = said.lock().expect("lock").clone();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("hotline restarted") && t.contains("calling hotline again")),
        "{texts:#?}"
    );
    s.terminate();

    // Every call of the store is sealed, the cut one included.
    let (code, out) = verify(&config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 calls sealed of 2 in the store"), "{out}");
    // Tampering with the recovered call's WAV is named.
    let wav = first["record"]["recording"].as_str().expect("wav");
    let wav = if std::path::Path::new(wav).is_absolute() {
        std::path::PathBuf::from(wav)
    } else {
        dir.path().join(wav)
    };
    let mut bytes = std::fs::read(&wav).expect("wav");
    let n = bytes.len() / 2;
    bytes[n] ^= 0x40;
    std::fs::write(&wav, bytes).expect("tamper");
    let (code, out) = verify(&config);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL call {cut}: recording")) && out.contains("was changed"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_ladder_then_restart_continues_to_the_answering_contact() {
    let dir = tempfile::tempdir().expect("tmp");
    let busy = Sipp::start(dir.path(), "uas_busy.xml", "u1", &[]);
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let ok = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let config = serve_config(
        dir.path(),
        "[ladder]\ndrain = \"1s\"\nafter_restart = \"next\"\n",
    );
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}{}{}",
        contact("hotline", busy.port, "30s", ""),
        contact("vip", ring.port, "20s", ""),
        contact(
            "account-manager",
            ok.port,
            "30s",
            r#"{ wait = "500ms" }, { hangup = true }"#
        ),
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let v = post_hook(&s, &firing("fp-term")).await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // Mid-ladder: the first contact was busy, the second rings.
    until(&s, &id, Duration::from_secs(10), |v| {
        v["ladder"].as_array().is_some_and(|l| l.len() == 2)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    s.terminate(); // SIGTERM: drain 1 s, then the ringing call is cancelled
    let took = t.elapsed();
    assert!(took < Duration::from_secs(6), "graceful stop took {took:?}");
    assert_eq!(
        ring.wait(Duration::from_secs(5)),
        0,
        "the ringing line got its CANCEL"
    );

    let s = Server::start(&config);
    let inc = until(&s, &id, Duration::from_secs(30), settled).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let steps: Vec<_> = inc["ladder"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["contact"].as_str().unwrap_or(""),
                s["outcome"].as_str().unwrap_or("-"),
                s["interrupted"]
            )
        })
        .collect();
    // Continued where it was: the busy hotline is not called again, vip (cut) passed over.
    assert_eq!(
        steps,
        [
            "hotline busy false",
            "vip cancelled true",
            "account-manager answered false"
        ],
        "{inc:#}"
    );
    let vip = &inc["calls"][1]["record"];
    assert!(
        vip["termination"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("drain time over"),
        "{vip:#}"
    );
    assert_eq!(ok.wait(Duration::from_secs(10)), 0);
    s.terminate();
    let (code, out) = verify(&config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 calls sealed of 3 in the store"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_phone_legs_and_cli_dials_keep_verify_clean() {
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let phone = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let drill = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let extra = format!(
        "[ladder]\nmax_call_duration = \"5s\"\n\n[[operators]]\nid = \"alice\"\nname = \"Alice\"\nuri = \"sip:alice@127.0.0.1:{}\"\n",
        phone.port
    );
    let config = serve_config(dir.path(), &extra);
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact("hotline", vendor.port, "30s", r#"{ wait = "1s" }"#)
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    // A drill line for `hotline dial`, in its own dialplan.
    let drill_plan = format!(
        "vendor = \"Drill\"\n{}",
        contact(
            "drill",
            drill.port,
            "30s",
            r#"{ wait = "500ms" }, { hangup = true }"#
        )
    );
    std::fs::write(dir.path().join("dialplans/drill.toml"), drill_plan).expect("plan");
    let s = Server::start(&config);
    let v = post_hook(&s, &firing("fp-phone")).await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let call_id = until(&s, &id, Duration::from_secs(10), |v| {
        v["calls"][0]["call_id"].is_string()
    })
    .await["calls"][0]["call_id"]
        .as_str()
        .expect("id")
        .to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/calls/{call_id}/phone", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("content-type", "application/json")
        .body(r#"{"operator": "alice"}"#)
        .send()
        .await
        .expect("phone");
    assert_eq!(r.status().as_u16(), 202);
    // `hotline dial` next to the running server: its own SIP port.
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(dir.path())
        .args(["dial", "--config"])
        .arg(&config)
        .args(["drill", "--sip", "127.0.0.1:0"])
        .output()
        .expect("dial");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec: Value = serde_json::from_slice(&out.stdout).expect("record");
    assert!(
        rec["recording"].as_str().unwrap_or("").contains("/cli/"),
        "{rec:#}"
    );
    until(&s, &id, Duration::from_secs(20), settled).await;
    assert_eq!(phone.wait(Duration::from_secs(10)), 0);
    // The phone leg's end is stored and sealed a moment after the vendor call's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.terminate();
    let (code, out) = verify(&config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 calls sealed of 2 in the store"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_answered_call_hangs_up_at_the_drain_time_then_redials() {
    let dir = tempfile::tempdir().expect("tmp");
    let vendor = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-m", "2"]);
    let config = serve_config(dir.path(), "[ladder]\ndrain = \"1s\"\n");
    let plan = format!(
        "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
        contact(
            "hotline",
            vendor.port,
            "30s",
            r#"{ wait = "5s" }, { hangup = true }"#
        )
    );
    std::fs::write(dir.path().join("dialplans/hpe.toml"), plan).expect("plan");
    let s = Server::start(&config);
    let v = post_hook(&s, &firing("fp-drain")).await;
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sidecars(dir.path()).iter().any(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .is_some_and(|v| !v["stages"]["answered"].is_null())
    }) {
        assert!(Instant::now() < deadline, "never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = Instant::now();
    s.terminate(); // the call had ~5 s to go: cut at the 1 s drain time
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        t.elapsed()
    );

    let s = Server::start(&config);
    let inc = until(&s, &id, Duration::from_secs(30), settled).await;
    assert_eq!(inc["ladder_state"], "done", "{inc:#}");
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2, "{inc:#}");
    let bye = event(&calls[0], "bye_sent").expect("the cut call's BYE");
    assert_eq!(bye["reason"], "hotline restarting: drain time over");
    assert_eq!(
        event(&calls[0], "bye_response").map(|e| e["code"].clone()),
        Some(json!(200))
    );
    let steps: Vec<_> = inc["ladder"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| format!("#{} {}", s["attempt"], s["interrupted"]))
        .collect();
    assert_eq!(steps, ["#1 true", "#2 false"], "redialled: {inc:#}");
    assert_eq!(vendor.wait(Duration::from_secs(15)), 0);
    s.terminate();
    let (code, out) = verify(&config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 calls sealed of 2 in the store"), "{out}");
}
