//! Security review findings 6 and 7 against the real `hotline serve` on 127.0.0.1:
//! unauthenticated traffic cannot grow /metrics or the access log without bound, and
//! slow-header clients on an fd-limited server cannot keep webhooks from being answered.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::serve::*;

fn hook_body() -> String {
    serde_json::json!({
        "fingerprint": "fp-hard",
        "status": "firing",
        "asset": {"tag": "AT-1", "vendor": "Nobody"},
        "fault": {"summary": "disk failed"}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_traffic_grows_neither_metrics_nor_the_access_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    let s = Server::start(&config);
    let c = reqwest::Client::new();
    let n = 1500;
    for i in 0..n {
        // Unknown formats (one label value each before) and requests without a token.
        let _ = c
            .post(format!("{}/v1/hooks/x{i:05}", s.http))
            .body("{}")
            .send()
            .await
            .expect("hook");
        let _ = c
            .get(format!("{}/v1/incidents?junk={i}", s.http))
            .send()
            .await
            .expect("api");
    }
    let metrics = c
        .get(format!("{}/metrics", s.http))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.len() < 8_000,
        "/metrics grew to {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains("format=\"unknown\",code=\"404\"} 1500"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("hotline_http_refused_total {n}")));
    s.terminate();
    let db = rusqlite::Connection::open(dir.path().join("data/hotline.db")).expect("db");
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))
        .expect("count");
    assert!(
        rows <= 25,
        "{rows} access-log rows for {n} refused requests (sampled per minute)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_cannot_starve_webhooks_on_an_fd_limited_server() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    // The limits under test, in [http] (serve_config's table is the last [http] in the file).
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "[http]\n",
        "[http]\nmax_connections = 64\nheader_timeout = \"1s\"\n",
    );
    std::fs::write(&config, text).expect("config");
    let s = Server::start(&config);
    let pid = s.child.id().to_string();
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=256:256"])
        .status()
        .expect("prlimit (util-linux)");
    assert!(limited.success());
    let addr = s.http.trim_start_matches("http://").to_string();
    // 400 sockets that send a header byte now and then and never finish.
    let mut trickle: Vec<TcpStream> = Vec::new();
    for _ in 0..400 {
        if let Ok(mut t) = TcpStream::connect(&addr) {
            let _ = t.write_all(b"POST /v1/hooks/generic HTTP/1.1\r\nHost: x\r\n");
            trickle.push(t);
        }
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let keep = std::thread::spawn(move || {
        for _ in 0..24 {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            for t in trickle.iter_mut() {
                let _ = t.write_all(b"X-Slow: 1\r\n");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let started = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/hooks/generic", s.http))
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .header("content-type", "application/json")
        .body(hook_body())
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("the webhook is answered despite the slow clients");
    let took = started.elapsed();
    assert_eq!(r.status().as_u16(), 202);
    eprintln!("webhook answered after {took:?} behind 400 slow-header sockets");
    // The slow sockets keep trickling for 12 s: only the header timeout frees the slots.
    assert!(took < Duration::from_secs(6), "{took:?}");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    keep.join().expect("trickle");
    // Still alive and serving.
    let h = reqwest::get(format!("{}/healthz", s.http))
        .await
        .expect("healthz");
    assert!(h.status().is_success());
    s.terminate();
}

/// Issue 19: `/metrics` can sit behind its own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_behind_a_token_when_configured() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "[http]\n",
        "[http]\nmetrics_token = \"metrics-token-0123456789\"\n",
    );
    std::fs::write(&config, text).expect("config");
    let s = Server::start(&config);
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/metrics", s.http))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .get(format!("{}/metrics", s.http))
        .bearer_auth("metrics-token-0123456789")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("hotline_calls_active")
    );
    s.terminate();
}

/// Security review (low): signed webhooks were replayable. In Grafana's timestamp mode the
/// sender signs `"<seconds>:<body>"`; an old timestamp and a second delivery of the same
/// signature are refused, so a captured "firing" cannot re-open a resolved incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_cannot_be_replayed() {
    const SECRET: &str = "grafana-hmac-secret-0123456789";
    let dir = tempfile::tempdir().expect("tmp");
    let config = serve_config(
        dir.path(),
        &format!(
            "[intake.auth.grafana]\nhmac_secret = \"{SECRET}\"\n\
             timestamp_header = \"X-Grafana-Alerting-Signature-Timestamp\"\n"
        ),
    );
    let s = Server::start(&config);
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/grafana.json"
    ))
    .expect("fixture");
    let send = |ts: i64| {
        let mut signed = format!("{ts}:").into_bytes();
        signed.extend_from_slice(body.as_bytes());
        let sig = hotline::incident::sign_hmac(&signed, SECRET.as_bytes());
        reqwest::Client::new()
            .post(format!("{}/v1/hooks/grafana", s.http))
            .header("content-type", "application/json")
            .header("x-grafana-alerting-signature", sig)
            .header("x-grafana-alerting-signature-timestamp", ts.to_string())
            .body(body.clone())
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let r = send(now).await.expect("post");
    assert_eq!(
        r.status().as_u16(),
        202,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let r = send(now).await.expect("post");
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("already received")
    );
    let r = send(now - 3600).await.expect("post");
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap_or_default().contains("5 minutes"));
    s.terminate();
}
