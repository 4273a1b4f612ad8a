//! Running hotline day to day, end to end with the real binary: one `serve` per store, reload
//! on SIGHUP and through the API.

mod support;

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post(s: &Server, path: &str, token: &str, body: &str) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", s.http))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn incident(fingerprint: &str, vendor: &str) -> String {
    json!({
        "fingerprint": fingerprint,
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-1", "vendor": vendor, "contract": "C-12345"},
        "fault": {"summary": "disk failed"}
    })
    .to_string()
}

fn plan(vendor: &str, id: &str, port: u16, menu: &str) -> String {
    format!(
        "vendor = \"{vendor}\"\n[[match]]\nvendor = \"{vendor}\"\n{}",
        contact(id, port, "30s", menu)
    )
}

/// Waits until the server's log has one more line containing `needle` than `before`.
fn wait_log(config: &std::path::Path, needle: &str, before: usize) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let log = std::fs::read_to_string(config.with_file_name("serve.err")).unwrap_or_default();
        if log.matches(needle).count() > before {
            return log;
        }
        assert!(Instant::now() < end, "no \"{needle}\" in the log:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_count(config: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(config.with_file_name("serve.err"))
        .unwrap_or_default()
        .matches(needle)
        .count()
}

fn hup(s: &Server) {
    let pid = s.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_serve_on_the_same_store_is_refused_without_touching_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    std::fs::write(
        dir.path().join("dialplans/hpe.toml"),
        plan("HPE", "hpe", 9, ""),
    )
    .expect("plan");
    let mut first = Server::start(&config);
    // A call the first one is recording: its sidecar has not ended yet.
    let live = dir.path().join("recordings/live-call.json");
    let sidecar = r#"{"call_id":"live-call","stages":{"invite_sent":"2026-12-02T00:00:00Z"}}"#;
    std::fs::write(&live, sidecar).expect("sidecar");

    let started = Instant::now();
    let second = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("second serve");
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "refused: {err}");
    assert!(started.elapsed() < Duration::from_secs(10), "at once");
    assert!(second.stdout.is_empty(), "never said it was serving");
    let pid = first.child.id();
    assert!(
        err.contains(&format!("pid {pid}")) && err.contains("hotline.db.lock"),
        "names the holder and the path: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(&live).expect("sidecar"),
        sidecar,
        "no crash recovery on the first one's live call"
    );
    assert!(
        first.child.try_wait().expect("wait").is_none(),
        "the first one still runs"
    );
    let (code, _) = get(&first, "/readyz").await;
    assert_eq!(code, 200);

    // Once the first is gone (even by kill -9), the store is free again.
    drop(first);
    let again = Server::start(&config);
    let (code, _) = get(&again, "/readyz").await;
    assert_eq!(code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_only_a_valid_config_and_never_a_running_ladder() {
    let dir = tempfile::tempdir().expect("tmp");
    // The HPE line rings without answer for the whole test.
    let ring = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let busy = Sipp::start(dir.path(), "uas_busy.xml", "u1", &[]);
    let op_token = "operator-token-0123456789";
    let op_sha = hex_sha256(op_token);
    let config = serve_config(
        dir.path(),
        &format!("[[http.tokens]]\nname = \"olga\"\nrole = \"operator\"\nsha256 = \"{op_sha}\"\n"),
    );
    let plans = dir.path().join("dialplans");
    std::fs::write(plans.join("hpe.toml"), plan("HPE", "hpe", ring.port, "")).expect("plan");
    let mut s = Server::start(&config);

    // A ladder under way: its call rings.
    let (code, v) = post(
        &s,
        "/v1/hooks/generic",
        HOOK_TOKEN,
        &incident("fp-hpe", "HPE"),
    )
    .await;
    assert_eq!(code, 202, "{v}");
    let hpe_id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // Dell routes nowhere yet.
    let (_, v) = post(
        &s,
        "/v1/hooks/generic",
        HOOK_TOKEN,
        &incident("fp-dell-1", "Dell"),
    )
    .await;
    assert_eq!(v["incidents"][0]["dialplan"], Value::Null, "{v}");

    // A bad file: SIGHUP keeps the old config and the process.
    let bad = plan(
        "Dell",
        "dell",
        busy.port,
        "{ dtmf = \"{contract_digit}#\" }",
    );
    std::fs::write(plans.join("dell.toml"), &bad).expect("plan");
    let before = log_count(&config, "reload refused");
    hup(&s);
    let log = wait_log(&config, "reload refused", before);
    let line = bad[..bad.find("{contract_digit}").expect("typo")]
        .matches('\n')
        .count()
        + 1;
    let at = format!("dell.toml:{line}:");
    assert!(
        log.contains(&at) && log.contains("{contract_digit}"),
        "{log}"
    );
    assert!(s.child.try_wait().expect("wait").is_none(), "alive");
    let (code, _) = get(&s, "/readyz").await;
    assert_eq!(code, 200, "still serving");
    let (_, v) = post(
        &s,
        "/v1/hooks/generic",
        HOOK_TOKEN,
        &incident("fp-dell-2", "Dell"),
    )
    .await;
    assert_eq!(
        v["incidents"][0]["dialplan"],
        Value::Null,
        "old config kept: {v}"
    );

    // The API says why, with the file and line; only admins may reload.
    let (code, v) = post(&s, "/v1/admin/reload", API_TOKEN, "").await;
    assert_eq!(code, 422, "{v}");
    let errors = v["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains(&at))),
        "{v}"
    );
    let (code, v) = post(&s, "/v1/admin/reload", op_token, "").await;
    assert_eq!(code, 403, "operators cannot reload: {v}");

    // A good file, and the HPE dialplan gone: the new one routes, the running ladder goes on.
    std::fs::write(plans.join("dell.toml"), plan("Dell", "dell", busy.port, "")).expect("plan");
    std::fs::remove_file(plans.join("hpe.toml")).expect("rm");
    let before = log_count(&config, "reloaded:");
    hup(&s);
    let log = wait_log(&config, "reloaded:", before);
    assert!(
        log.contains("dialplan dell added") && log.contains("dialplan hpe removed"),
        "logs what changed: {log}"
    );
    let (code, v) = post(
        &s,
        "/v1/hooks/generic",
        HOOK_TOKEN,
        &incident("fp-dell-3", "Dell"),
    )
    .await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["incidents"][0]["dialplan"], "dell", "{v}");
    let dell_id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, inc) = get(&s, &format!("/v1/incidents/{dell_id}")).await;
        let calls = inc["calls"].as_array().cloned().unwrap_or_default();
        if calls.iter().any(|c| c["result"] == "busy") {
            break;
        }
        assert!(
            Instant::now() < end,
            "the new dialplan's line was called: {inc:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, inc) = get(&s, &format!("/v1/incidents/{hpe_id}")).await;
    assert_eq!(
        inc["ladder_state"], "running",
        "the HPE ladder was not disturbed: {inc:#}"
    );
    let calls = inc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1, "{inc:#}");
    assert!(calls[0]["result"].is_null(), "still ringing: {inc:#}");

    // An admin reload with nothing changed says so.
    let (code, v) = post(&s, "/v1/admin/reload", API_TOKEN, "").await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["result"]["changes"], json!([]), "{v}");
    drop(ring);
}

fn hex_sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[test]
fn serve_refuses_an_empty_sip_password_naming_every_missing_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(
        dir.path(),
        "[ladder]\nfallback_url = \"https://tickets.example.net/p0\"\n\
         fallback_token = \"${HOTLINE_TEST_UNSET_TICKET}\"\n",
    );
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\n[sip.auth]\nusername = \"ops\"\npassword = \"${HOTLINE_TEST_UNSET_SIP}\"",
    );
    std::fs::write(&config, &text).expect("config");
    std::fs::write(
        dir.path().join("dialplans/hpe.toml"),
        plan("HPE", "hpe", 9, ""),
    )
    .expect("plan");
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"])
        .output()
        .expect("serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "never serving");
    let line = |needle: &str| {
        text[..text.find(needle).expect(needle)]
            .matches('\n')
            .count()
            + 1
    };
    for (var, key) in [
        ("HOTLINE_TEST_UNSET_SIP", "sip.auth.password"),
        ("HOTLINE_TEST_UNSET_TICKET", "ladder.fallback_token"),
    ] {
        let at = format!("hotline.toml:{}:", line(var));
        assert!(
            err.contains(&at)
                && err.contains(&format!("{key}: environment variable {var} is not set")),
            "{var}: {err}"
        );
    }
    assert!(!dir.path().join("data").exists(), "no store opened");
}

/// Issue 19, self-watch: /readyz reports the recordings folder (writable, free space) and
/// turns 503 when hotline could no longer write a recording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_watches_the_recordings_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    let s = Server::start(&config);
    let r = reqwest::get(format!("{}/readyz", s.http))
        .await
        .expect("readyz");
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap_or_default();
    assert!(body.contains("recordings: writable"), "{body}");
    // The folder is gone and a file sits in its place (root ignores permissions, so a
    // read-only folder would not show it).
    let rec = dir.path().join("recordings");
    std::fs::remove_dir_all(&rec).expect("rm");
    std::fs::write(&rec, b"not a folder").expect("file");
    let r = reqwest::get(format!("{}/readyz", s.http))
        .await
        .expect("readyz");
    assert_eq!(r.status().as_u16(), 503);
    let body = r.text().await.unwrap_or_default();
    assert!(body.contains("recordings: not writable"), "{body}");
    s.terminate();
}

/// Issue 19, backup: `hotline backup` copies the live store with SQLite's online backup API
/// while `serve` runs and writes the chain head; a config pointed at the copy verifies
/// against that head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_live_store_verifies_against_its_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    let s = Server::start(&config);
    let body = json!({
        "fingerprint": "fp-backup", "status": "firing",
        "asset": {"tag": "AT-9", "vendor": "Nobody"}, "fault": {"summary": "disk failed"}
    });
    let (code, v) = post(&s, "/v1/hooks/generic", HOOK_TOKEN, &body.to_string()).await;
    assert_eq!(code, 202, "{v}");
    let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
    // Notes are chain entries: the chain has a head to anchor.
    let r = client()
        .post(format!("{}/console/incidents/{id}/notes", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("notes=backup+drill")
        .send()
        .await
        .expect("notes");
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{}",
        r.status()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["backup", "--config"])
        .arg(&config)
        .arg(dir.path().join("bk"))
        .output()
        .expect("backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head: Value = serde_json::from_slice(&out.stdout).expect("json");
    let hash = head["chain_head"]
        .as_str()
        .expect("a chain head")
        .to_string();
    assert!(head["chain_entries"].as_i64().unwrap_or(0) >= 1, "{head}");
    // A second backup into the same folder is refused (never overwrite a backup).
    let again = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["backup", "--config"])
        .arg(&config)
        .arg(dir.path().join("bk"))
        .output()
        .expect("backup");
    assert_eq!(again.status.code(), Some(2));
    s.terminate();
    // Restore drill: a config whose store is the copy verifies against the head.
    let text = std::fs::read_to_string(&config).expect("config");
    let restored = dir.path().join("restored.toml");
    std::fs::write(
        &restored,
        text.replace("path = \"data/hotline.db\"", "path = \"bk/hotline.db\""),
    )
    .expect("write");
    let v = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["verify", "--config"])
        .arg(&restored)
        .args(["--head", &hash])
        .stdout(Stdio::piped())
        .output()
        .expect("verify");
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

/// Issue 19, self-watch: the heartbeat reaches a dead-man's switch while hotline is ready,
/// and stops when it is not (the recordings folder gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_beats_while_ready_and_stops_when_not() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let beats = Arc::new(AtomicU32::new(0));
    let b = beats.clone();
    let app = axum::Router::new().route(
        "/ping",
        axum::routing::get(move || {
            let b = b.clone();
            async move {
                b.fetch_add(1, Ordering::SeqCst);
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
    let config = serve_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "[http]\n",
        &format!("[http]\nheartbeat_url = \"http://{addr}/ping\"\nheartbeat_every = \"300ms\"\n"),
    );
    std::fs::write(&config, text).expect("config");
    let s = Server::start(&config);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let alive = beats.load(Ordering::SeqCst);
    assert!(alive >= 3, "{alive} beats in 1.5 s");
    let rec = dir.path().join("recordings");
    std::fs::remove_dir_all(&rec).expect("rm");
    std::fs::write(&rec, b"not a folder").expect("file");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_fault = beats.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        beats.load(Ordering::SeqCst),
        at_fault,
        "no heartbeat while not ready"
    );
    s.terminate();
}
