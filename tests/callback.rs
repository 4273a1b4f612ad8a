//! Vendor callbacks end to end (issue 11), one `hotline serve` for the whole story on
//! 127.0.0.1: two incidents (ACME, Globex) whose ladders a sipp vendor answers, then sipp
//! UACs call the callback line:
//! - from a stranger's address (127.0.0.2) and to a wrong number: 403 / 404, counted, nothing
//!   set up, no outbound INVITE (the operators' sipps see none);
//! - from ACME's contact `l1`: matched by the caller's number, the operators (`desk` answers
//!   after 2 s, `mobile` never does) rung at once, `desk` bridged and `mobile` cancelled,
//!   recorded on two channels, stored inbound on the incident, sealed; the incident's
//!   response clock reads `met`;
//! - a CANCEL before hotline answers: 487, recorded as cancelled;
//! - the vendor hanging up while the operators ring: both operator legs cancelled;
//! - an unknown caller keying Globex's case number (stored with `POST .../case`): matched by
//!   case number; nobody answers within `ring_for`, so the vendor leaves a message, attached
//!   to that incident, and hotline hangs up at `message_max`;
//! - an unknown caller keying nothing: unmatched, still recorded, rings the on-call.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;
use tokio::net::UdpSocket;

const LINE: &str = "+15550100200";

/// A sipp UAC calling the callback line at `sip` from `caller`; returns its exit code.
fn uac(dir: &Path, scenario: &str, caller: &str, sip: u16, talk_ms: u64) -> i32 {
    let sf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let (port, media) = (free_port(false), free_port(true));
    let status = Command::new("sipp")
        .current_dir(dir)
        .arg(format!("127.0.0.1:{sip}"))
        .arg("-sf")
        .arg(&sf)
        .args(["-s", LINE, "-set", "caller", caller])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1"])
        .args(["-mi", "127.0.0.1", "-mp", &media.to_string()])
        .args(["-d", &talk_ms.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "90", "-timeout_error"])
        .args(["-trace_err"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run sipp");
    status.code().unwrap_or(-1)
}

async fn uac_async(dir: &Path, scenario: &str, caller: &str, sip: u16, talk_ms: u64) -> i32 {
    let (dir, scenario, caller) = (dir.to_path_buf(), scenario.to_string(), caller.to_string());
    tokio::task::spawn_blocking(move || uac(&dir, &scenario, &caller, sip, talk_ms))
        .await
        .expect("uac")
}

/// Sends one INVITE from `from_ip` to the callback line (user `to`); the first response line.
async fn raw_invite(from_ip: &str, sip: u16, to: &str, n: u32) -> String {
    let s = UdpSocket::bind((from_ip, 0)).await.expect("bind");
    let me = s.local_addr().expect("addr");
    let msg = format!(
        "INVITE sip:{to}@127.0.0.1:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKscan{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:l1@{me}>;tag=s{n}\r\nTo: <sip:{to}@127.0.0.1:{sip}>\r\n\
         Call-ID: scan-{n}@{me}\r\nCSeq: 1 INVITE\r\nContact: <sip:l1@{me}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    s.send_to(msg.as_bytes(), ("127.0.0.1", sip))
        .await
        .expect("send");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), s.recv(&mut buf))
        .await
        .expect("a response within 3 s")
        .expect("recv");
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn metrics(s: &Server) -> String {
    reqwest::get(format!("{}/metrics", s.http))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn kinds(call: &Value) -> Vec<String> {
    call["record"]["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["kind"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The incident's calls to the callback line that have ended, oldest first.
fn inbound_calls(inc: &Value) -> Vec<Value> {
    inc["calls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["record"]["direction"] == "inbound" && !c["result"].is_null())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Polls the incident until it has `n` ended inbound calls.
async fn wait_inbound(s: &Server, id: &str, n: usize) -> Value {
    let end = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, v) = get(s, &format!("/v1/incidents/{id}")).await;
        if inbound_calls(&v).len() >= n {
            return v;
        }
        assert!(Instant::now() < end, "no {n} inbound calls: {v:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Operator calls of the incident that started after `since` (RFC 3339 text compares).
fn operator_calls<'a>(inc: &'a Value, since: &str) -> Vec<&'a Value> {
    inc["calls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| {
                    c["contact"].as_str().unwrap_or("").starts_with("operator-")
                        && c["started_at"].as_str().unwrap_or("") > since
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn post(s: &Server, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn incident(fp: &str, vendor: &str) -> String {
    serde_json::json!({
        "fingerprint": fp, "status": "firing", "severity": "critical",
        "asset": {"tag": format!("AT-{fp}"), "vendor": vendor},
        "fault": {"summary": "disk failed"}
    })
    .to_string()
}

/// Every call whose operator legs the test follows ends; waits for them to be stored.
async fn settle_operators(s: &Server, id: &str, since: &str, n: usize) -> Value {
    let end = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, v) = get(s, &format!("/v1/incidents/{id}")).await;
        let ops = operator_calls(&v, since);
        if ops.len() >= n && ops.iter().all(|c| !c["result"].is_null()) {
            return v;
        }
        assert!(Instant::now() < end, "operator legs not over: {v:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_line_end_to_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let sub = |name: &str| {
        let p = dir.path().join(name);
        std::fs::create_dir_all(&p).expect("mkdir");
        p
    };
    let long = ["-m", "10", "-timeout", "600"];
    let vendor = Sipp::start(&sub("vendor"), "uas_answer.xml", "u1", &long);
    let mut desk_args = long.to_vec();
    desk_args.extend(["-d", "2000"]);
    let desk = Sipp::start(&sub("desk"), "uas_answer.xml", "u1", &desk_args);
    let mobile = Sipp::start(&sub("mobile"), "uas_noanswer.xml", "u1", &long);
    let extra = format!(
        "[callback]\nnumber = \"{LINE}\"\nallow_from = [\"127.0.0.1\"]\n\
         ring_operators = [\"desk\", \"mobile\"]\nring_for = \"6s\"\ndigits_within = \"3s\"\n\
         message_max = \"3s\"\n\n\
         [[operators]]\nid = \"desk\"\nname = \"Desk\"\nuri = \"sip:desk@127.0.0.1:{}\"\n\n\
         [[operators]]\nid = \"mobile\"\nname = \"Mobile\"\nuri = \"sip:mobile@127.0.0.1:{}\"\n",
        desk.port, mobile.port
    );
    let config = serve_config(dir.path(), &extra);
    let menu = r#"{ wait = "1s" }, { hangup = true }"#;
    for (file, vendor_name, contact_id) in [("acme", "ACME", "l1"), ("globex", "Globex", "g1")] {
        let plan = format!(
            "vendor = \"{vendor_name}\"\n[[match]]\nvendor = \"{vendor_name}\"\n{}",
            contact(contact_id, vendor.port, "30s", menu)
        );
        std::fs::write(dir.path().join(format!("dialplans/{file}.toml")), plan).expect("plan");
    }
    let sip = free_port(false);
    let s = Server::start_on(&config, &format!("127.0.0.1:{sip}"));

    // Refused before anything exists: a stranger's address, a wrong number.
    assert_eq!(
        raw_invite("127.0.0.2", sip, LINE, 1).await,
        "SIP/2.0 403 Forbidden"
    );
    assert_eq!(
        raw_invite("127.0.0.1", sip, "+15550000000", 2).await,
        "SIP/2.0 404 Not Found"
    );

    // Two incidents, each ladder answered by the vendor.
    let acme = post_incident(&s, &incident("cb-acme", "ACME")).await;
    let globex = post_incident(&s, &incident("cb-globex", "Globex")).await;
    for id in [&acme, &globex] {
        let inc = settled(&s, id, Duration::from_secs(60)).await;
        assert_eq!(inc["ladder_state"], "done", "{inc:#}");
        assert_eq!(inc["response"]["verdict"], "waiting", "{inc:#}");
    }

    // ACME's contact calls back: matched, desk answers and is bridged, mobile stops ringing.
    let t0 = chrono::Utc::now().to_rfc3339();
    assert_eq!(
        uac_async(dir.path(), "uac_callback.xml", "l1", sip, 12_000).await,
        0
    );
    let inc = wait_inbound(&s, &acme, 1).await;
    let call = &inbound_calls(&inc)[0];
    let k = kinds(call);
    println!("matched callback: {k:?}");
    let offset = |kind: &str| {
        call["record"]["events"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["kind"] == kind))
            .and_then(|e| e["offset_ms"].as_f64())
    };
    println!(
        "answered at {:?} ms, operators rung at {:?} ms, operator joined at {:?} ms",
        offset("answered_local"),
        offset("operators_rung"),
        offset("operator_joined")
    );
    for want in [
        "offer_received",
        "ringing_sent",
        "answered_local",
        "callback_matched",
        "operators_rung",
        "operator_joined",
        "bye_received",
    ] {
        assert!(k.iter().any(|x| x == want), "{want} missing: {k:?}");
    }
    let matched = call["record"]["events"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["kind"] == "callback_matched"))
        .expect("matched");
    assert_eq!(matched["by"], "caller is contact l1");
    assert_eq!(call["result"], "answered");
    let wav = call["record"]["recording"].as_str().expect("wav");
    let bytes =
        std::fs::read(dir.path().join(wav)).unwrap_or_else(|_| std::fs::read(wav).expect("wav"));
    assert_eq!(
        u16::from_le_bytes([bytes[22], bytes[23]]),
        2,
        "two channels"
    );
    assert!(bytes.len() > 8000 * 2 * 2 * 5, "at least 5 s recorded");
    let inc = settle_operators(&s, &acme, &t0, 2).await;
    let ops = operator_calls(&inc, &t0);
    let of = |who: &str| {
        ops.iter()
            .find(|c| c["contact"] == format!("operator-{who}"))
            .unwrap_or_else(|| panic!("{who}'s leg: {inc:#}"))
    };
    assert_eq!(of("desk")["result"], "answered", "{inc:#}");
    assert_eq!(of("mobile")["result"], "cancelled", "{inc:#}");
    let r = &inc["response"];
    println!("response clock: {r}");
    assert_eq!(r["verdict"], "met", "{inc:#}");
    assert!(r["after_s"].as_f64().expect("after") > 0.0);
    assert!(r["note"].as_str().unwrap_or("").starts_with("callback "));

    // A CANCEL before hotline answers.
    assert_eq!(
        uac_async(dir.path(), "uac_cancel.xml", "l1", sip, 0).await,
        0
    );
    let inc = wait_inbound(&s, &acme, 2).await;
    let cancelled = &inbound_calls(&inc)[1];
    assert_eq!(cancelled["result"], "cancelled", "{cancelled:#}");
    assert!(kinds(cancelled).iter().any(|k| k == "cancel_received"));

    // The vendor hangs up while the operators ring: desk (ringing 2 s) and mobile cancelled.
    let t1 = chrono::Utc::now().to_rfc3339();
    assert_eq!(
        uac_async(dir.path(), "uac_callback.xml", "l1", sip, 4_500).await,
        0
    );
    let inc = wait_inbound(&s, &acme, 3).await;
    let early = &inbound_calls(&inc)[2];
    let k = kinds(early);
    assert!(k.iter().any(|x| x == "operators_rung"), "{k:?}");
    let inc = settle_operators(&s, &acme, &t1, 2).await;
    for c in operator_calls(&inc, &t1) {
        assert_eq!(c["result"], "cancelled", "{c:#}");
    }

    // Globex's case number, keyed by an unknown caller; nobody answers: a message.
    let (code, v) = post(
        &s,
        &format!("/v1/incidents/{globex}/case"),
        serde_json::json!({ "case_number": "CS-1234" }),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    // From here nobody answers: the desk phone is gone (its leg fails at once).
    drop(desk);
    let code = uac_async(dir.path(), "uac_callback_dtmf.xml", "stranger", sip, 30_000).await;
    println!("dtmf caller exit {code} (hotline hangs up at message_max)");
    let inc = wait_inbound(&s, &globex, 1).await;
    let dtmf = &inbound_calls(&inc)[0];
    let k = kinds(dtmf);
    println!("case-number callback: {k:?}");
    for want in [
        "case_number_asked",
        "case_number_keyed",
        "callback_matched",
        "operators_no_answer",
        "message_started",
    ] {
        assert!(k.iter().any(|x| x == want), "{want} missing: {k:?}");
    }
    let by = dtmf["record"]["events"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["kind"] == "callback_matched"))
        .expect("matched");
    assert_eq!(by["by"], "case number CS-1234 keyed in");
    assert_eq!(dtmf["reason"], "message complete", "{dtmf:#}");

    // An unknown caller keying nothing: unmatched, still answered and recorded.
    assert_eq!(
        uac_async(dir.path(), "uac_callback.xml", "stranger", sip, 10_000).await,
        0
    );
    // Stored, sealed and counted just after the caller's BYE.
    let unmatched = "hotline_callbacks_total{matched_by=\"unmatched\",result=\"answered\"}";
    let end = Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = metrics(&s).await;
        if metric(&m, unmatched) == 1 || Instant::now() > end {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "{}",
        m.lines()
            .filter(|l| l.contains("inbound") || l.contains("callback") || l.contains("response"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        metric(&m, "hotline_inbound_refused_total{why=\"not_from_trunk\"}"),
        1
    );
    assert_eq!(
        metric(&m, "hotline_inbound_refused_total{why=\"wrong_number\"}"),
        1
    );
    assert_eq!(
        metric(
            &m,
            "hotline_callbacks_total{matched_by=\"unmatched\",result=\"answered\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "hotline_callbacks_total{matched_by=\"contact\",result=\"cancelled\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "hotline_response_verdicts_total{dialplan=\"acme\",verdict=\"met\"}"
        ),
        1
    );
    drop(vendor);
    drop(mobile);
}

/// sipvicious (PyPI) in a venv under the target's tmp folder, installed once.
fn sipvicious(tool: &str) -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sipvicious-venv");
    let bin = venv.join("bin").join(tool);
    if !bin.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        let installed = Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "-q", "sipvicious"])
            .status();
        assert!(
            bin.exists(),
            "sipvicious unavailable: python3 -m venv ({made:?}) + pip install sipvicious ({installed:?})"
        );
    }
    bin
}

/// A scan of the listener (svmap with OPTIONS and INVITE, svwar over 100 extensions with
/// INVITE, and an INVITE flood from a stranger's address) sets nothing up: every INVITE is
/// refused and counted, no outbound INVITE (the on-call phone never rings), no live call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sipvicious_scan_sets_up_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let oncall = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-timeout", "600"]);
    let extra = format!(
        "[callback]\nnumber = \"{LINE}\"\nallow_from = [\"127.0.0.1\"]\n\
         ring_operators = [\"oncall\"]\n\n\
         [[operators]]\nid = \"oncall\"\nname = \"On call\"\nuri = \"sip:oncall@127.0.0.1:{}\"\n",
        oncall.port
    );
    let config = serve_config(dir.path(), &extra);
    let sip = free_port(false);
    let s = Server::start_on(&config, &format!("127.0.0.1:{sip}"));
    let port = sip.to_string();
    let cwd = dir.path().to_path_buf();
    let run = move |tool: &str, args: &[&str]| {
        let out = Command::new(sipvicious(tool))
            .current_dir(&cwd)
            .args(args)
            .output()
            .expect("run sipvicious");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let (svmap, svwar) = tokio::task::spawn_blocking(move || {
        let a = run("sipvicious_svmap", &["127.0.0.1", "-p", &port]);
        let b = run(
            "sipvicious_svmap",
            &["127.0.0.1", "-p", &port, "-m", "INVITE"],
        );
        let c = run(
            "sipvicious_svwar",
            &[
                "127.0.0.1",
                "-p",
                &port,
                "-m",
                "INVITE",
                "-e",
                "100-199",
                "--force",
            ],
        );
        (format!("{a}\n{b}"), c)
    })
    .await
    .expect("scan");
    println!("svmap:\n{svmap}\nsvwar:\n{svwar}");
    for n in 0..50 {
        assert_eq!(
            raw_invite("127.0.0.2", sip, LINE, 1000 + n).await,
            "SIP/2.0 403 Forbidden"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let m = metrics(&s).await;
    let refused: u64 = m
        .lines()
        .filter(|l| l.starts_with("hotline_inbound_refused_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    println!("refused INVITEs: {refused}");
    assert!(refused >= 50 + 100, "{m}");
    assert_eq!(
        metric(&m, "hotline_inbound_refused_total{why=\"not_from_trunk\"}"),
        50
    );
    assert!(
        !m.contains("hotline_callbacks_total{"),
        "no callback taken: {m}"
    );
    assert_eq!(metric(&m, "hotline_calls_active"), 0, "{m}");
    // The on-call phone's sipp is still waiting for its first INVITE.
    assert_eq!(
        oncall.wait(Duration::from_millis(200)),
        -2,
        "no outbound INVITE"
    );
}
