//! Webhook accepted -> INVITE on the wire (issue 15 part 1), measured as a new user would
//! see it: `hotline serve` (release build) on a temporary folder, a one-contact dialplan
//! whose line (a UDP socket here, answering 486 Busy Here at once) records when each INVITE
//! arrives, and Alertmanager deliveries (tests/data/alertmanager.json, one firing alert each,
//! every one a new fingerprint and asset).
//!
//! Prints, from one run on one folder:
//! - the disk's own fsync (append 4 KiB + fdatasync, as SQLite's WAL commit does), p50/p99,
//!   measured before and after the sequential part;
//! - 300 sequential deliveries: webhook -> INVITE (the POST leaving the client to the INVITE
//!   datagram arriving) and the 202, p50/p99, and the ratios to the targets
//!   (p50 <= 3 x fsync p50 + 1 ms, p99 <= 2 x fsync p99; a ratio <= 1 meets it);
//! - the storm: 1,000 distinct alerts from 10 concurrent clients: throughput, 202 p50/p99.
//!
//! `cargo bench --bench intake`. Knobs: HOTLINE_BENCH_INTAKE_N (sequential, 300),
//! HOTLINE_BENCH_STORM_N (storm, 1000), HOTLINE_BENCH_DIR (the folder to run in; default the
//! system's temporary folder: check that it is on the disk you mean, not a tmpfs).

#[path = "../tests/support/serve.rs"]
#[allow(dead_code)]
mod serve;

use serde_json::Value;
use serve::{HOOK_TOKEN, Server, serve_config};
use std::collections::HashMap;
use std::io::Write;
use std::net::UdpSocket;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When each INVITE (by Call-ID) first arrived at the vendor's line.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

fn env_n(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A SIP line that answers every INVITE with 486 at once and notes its arrival.
fn busy_line(arrivals: Arrivals) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind the line");
    let port = sock.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return;
            };
            let at = Instant::now();
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let Some(method) = msg.split_whitespace().next() else {
                continue;
            };
            if method.starts_with("SIP/") || method == "ACK" {
                continue;
            }
            let (code, reason) = if method == "INVITE" {
                (486, "Busy Here")
            } else {
                (200, "OK")
            };
            let mut reply = format!("SIP/2.0 {code} {reason}\r\n");
            let mut call_id = String::new();
            for line in msg.split("\r\n").skip(1) {
                if line.is_empty() {
                    break;
                }
                let name = line.split(':').next().unwrap_or("").trim().to_lowercase();
                match name.as_str() {
                    "via" | "v" | "from" | "f" | "cseq" => reply.push_str(&format!("{line}\r\n")),
                    "call-id" | "i" => {
                        call_id = line.split_once(':').map_or("", |x| x.1).trim().to_string();
                        reply.push_str(&format!("{line}\r\n"));
                    }
                    "to" | "t" if line.contains("tag=") => reply.push_str(&format!("{line}\r\n")),
                    "to" | "t" => reply.push_str(&format!("{line};tag=busy\r\n")),
                    _ => {}
                }
            }
            reply.push_str("Content-Length: 0\r\n\r\n");
            if method == "INVITE" {
                arrivals
                    .lock()
                    .expect("arrivals")
                    .entry(call_id)
                    .or_insert(at);
            }
            let _ = sock.send_to(reply.as_bytes(), from);
        }
    });
    port
}

/// The disk's own commit cost in `dir`: append 4 KiB, fdatasync; `n` times.
fn fsyncs(dir: &Path, n: usize) -> Vec<Duration> {
    let path = dir.join("fsync.probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    let block = vec![0x5au8; 4096];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&block).expect("write");
        f.sync_data().expect("fdatasync");
        out.push(t.elapsed());
    }
    let _ = std::fs::remove_file(path);
    out
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One Alertmanager delivery with a single firing alert, number `n` of run `tag`.
fn alert(template: &Value, tag: &str, n: usize) -> String {
    let mut v = template.clone();
    let mut a = v["alerts"][0].clone();
    let host = format!("bench-{tag}-{n}.example.net");
    a["fingerprint"] = Value::String(format!("{tag}{n:08x}"));
    a["labels"]["instance"] = Value::String(format!("{host}:9100"));
    a["labels"]["asset_tag"] = Value::String(format!("AT-{tag}-{n}"));
    a["labels"]["serial_number"] = Value::String(format!("SN{tag}{n}"));
    v["alerts"] = Value::Array(vec![a]);
    v["commonLabels"]["instance"] = Value::String(format!("{host}:9100"));
    v["commonLabels"]["asset_tag"] = Value::String(format!("AT-{tag}-{n}"));
    v["groupLabels"]["instance"] = Value::String(format!("{host}:9100"));
    v.to_string()
}

/// Posts one delivery; the 202's latency and the incident's id.
async fn post(client: &reqwest::Client, url: &str, body: String) -> (Instant, Duration, String) {
    let t0 = Instant::now();
    let resp = client
        .post(url)
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let took = t0.elapsed();
    assert_eq!(status, 202, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let id = v["incidents"][0]["id"].as_str().unwrap_or("").to_string();
    (t0, took, id)
}

/// The Call-ID of the first step of incident `id` (read after the run, off the clock).
async fn first_call(s: &Server, id: &str) -> Option<String> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = serve::get(s, &format!("/v1/incidents/{id}")).await;
        if let Some(c) = v["ladder"][0]["call_id"].as_str() {
            return Some(c.to_string());
        }
        if Instant::now() > end {
            eprintln!("incident {id}: no call stored: {v}");
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn main() {
    let seq_n = env_n("HOTLINE_BENCH_INTAKE_N", 300);
    let storm_n = env_n("HOTLINE_BENCH_STORM_N", 1000);
    let base = std::env::var("HOTLINE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = tempfile::Builder::new()
        .prefix("hotline-intake-bench")
        .tempdir_in(&base)
        .expect("bench folder");
    // The server logs as an operator runs it (info), not the tests' debug.
    // SAFETY: no other thread exists yet (the runtime starts below).
    unsafe { std::env::set_var("HOTLINE_TEST_LOG", "hotline=info") };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(dir.path(), seq_n, storm_n));
}

async fn run(dir: &Path, seq_n: usize, storm_n: usize) {
    let arrivals: Arrivals = Arc::default();
    let port = busy_line(arrivals.clone());
    let cfg = serve_config(dir, "");
    let plan = format!(
        "vendor = \"HPE\"\nmax_calls = 50\n[[match]]\nvendor = \"hpe\"\n{}retries = 0\n",
        serve::contact("busy", port, "30s", "{ hangup = true }")
    );
    std::fs::write(dir.join("dialplans/hpe.toml"), plan).expect("plan");
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/alertmanager.json"),
        )
        .expect("fixture"),
    )
    .expect("fixture json");
    let s = Server::start(&cfg);
    let url = format!("{}/v1/hooks/alertmanager", s.http);
    let client = reqwest::Client::new();
    println!(
        "intake bench: hotline serve on {} ({} sequential, storm {storm_n} from 10 clients)",
        dir.display(),
        seq_n
    );

    let mut disk = fsyncs(dir, 200);
    // Warm up (connection, first synthesis, prepared statements): not counted.
    for n in 0..5 {
        post(&client, &url, alert(&template, "w", n)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut sent = Vec::with_capacity(seq_n);
    for n in 0..seq_n {
        let before = arrivals.lock().expect("arrivals").len();
        let (t0, took, id) = post(&client, &url, alert(&template, "s", n)).await;
        sent.push((t0, took, id));
        // Sequential as the issue measured it: the next alert after this one's INVITE.
        let end = Instant::now() + Duration::from_secs(5);
        while arrivals.lock().expect("arrivals").len() <= before && Instant::now() < end {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    disk.extend(fsyncs(dir, 200));
    let mut to_invite = Vec::new();
    let mut accepted = Vec::new();
    for (t0, took, id) in &sent {
        accepted.push(*took);
        let Some(call) = first_call(&s, id).await else {
            continue;
        };
        if let Some(at) = arrivals.lock().expect("arrivals").get(&call) {
            to_invite.push(at.saturating_duration_since(*t0));
        }
    }
    let (f50, f99) = (pct(&mut disk, 0.50), pct(&mut disk, 0.99));
    let (i50, i99) = (pct(&mut to_invite, 0.50), pct(&mut to_invite, 0.99));
    let (a50, a99) = (pct(&mut accepted, 0.50), pct(&mut accepted, 0.99));
    let (t50, t99) = (3.0 * ms(f50) + 1.0, 2.0 * ms(f99));
    println!(
        "disk fsync (4 KiB append + fdatasync, {} samples): p50 {:.2} ms, p99 {:.2} ms",
        disk.len(),
        ms(f50),
        ms(f99)
    );
    println!(
        "webhook -> INVITE ({} of {seq_n}): p50 {:.2} ms, p99 {:.2} ms",
        to_invite.len(),
        ms(i50),
        ms(i99)
    );
    println!(
        "  target p50 <= 3 x fsync p50 + 1 ms = {t50:.2} ms: ratio {:.2}; \
         p99 <= 2 x fsync p99 = {t99:.2} ms: ratio {:.2}",
        ms(i50) / t50,
        ms(i99) / t99
    );
    println!("202 accepted: p50 {:.2} ms, p99 {:.2} ms", ms(a50), ms(a99));

    // The storm: distinct alerts, 10 clients each posting its share one after another.
    let clients = 10;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (url, template) = (url.clone(), template.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut took = Vec::new();
            for n in (c..storm_n).step_by(clients) {
                took.push(post(&client, &url, alert(&template, "x", n)).await.1);
            }
            took
        }));
    }
    let mut storm = Vec::new();
    for task in tasks {
        storm.extend(task.await.expect("client"));
    }
    let wall = t.elapsed();
    println!(
        "storm: {} alerts from {clients} clients in {:.0} ms: {:.0}/s; 202 p50 {:.2} ms, p99 {:.2} ms",
        storm.len(),
        ms(wall),
        storm.len() as f64 / wall.as_secs_f64(),
        ms(pct(&mut storm, 0.50)),
        ms(pct(&mut storm, 0.99))
    );
    s.terminate();
}
