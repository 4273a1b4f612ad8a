//! Group commit (issue 15 part 1): concurrent webhooks share one fsync, and nothing is
//! acknowledged before it is durable. `hotline serve` takes a storm of distinct alerts from
//! several clients and is killed with SIGKILL in the middle of it: every delivery that got
//! its 202 is in the store at the next open, incident and delivery row both.

mod support;

use hotline::store::{IncidentId, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::serve::*;

/// Clients posting at once, and the 202s to wait for before the kill.
const CLIENTS: usize = 8;
const BEFORE_KILL: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_storm_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().expect("tmp");
    // No dialplan: every incident is unrouted (no calls); intake is what is under test.
    let cfg = serve_config(dir.path(), "");
    let mut s = Server::start(&cfg);
    let url = format!("{}/v1/hooks/generic", s.http);
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = serde_json::json!({
                    "fingerprint": format!("storm-{c}-{n}"),
                    "severity": "critical",
                    "fault": {"summary": format!("disk {n} failed")},
                });
                let resp = http
                    .post(&url)
                    .header("authorization", format!("Bearer {HOOK_TOKEN}"))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                // Killed mid-request: no answer, so nothing was promised.
                let Ok(resp) = resp else { break };
                if resp.status().as_u16() != 202 {
                    break;
                }
                let Ok(text) = resp.text().await else { break };
                let v: serde_json::Value = serde_json::from_str(&text).expect("json");
                let id = v["incidents"][0]["id"].as_str().expect("id").to_string();
                acked.lock().expect("acked").push(id);
            }
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("acked").len() < BEFORE_KILL {
        assert!(
            std::time::Instant::now() < deadline,
            "the storm is too slow"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL while the clients still post: some batch is mid-way.
    s.child.kill().expect("kill -9");
    s.child.wait().expect("reaped");
    // What was acknowledged by the moment it died (a reply read after the kill was sent
    // before it).
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    let acked = acked.lock().expect("acked").clone();
    assert!(acked.len() >= BEFORE_KILL);

    let store = Store::open(dir.path().join("data/hotline.db"))
        .await
        .expect("reopen the store");
    let mut missing = Vec::new();
    for id in &acked {
        let id: IncidentId = id.parse().expect("incident id");
        match store.incident(&id).await.expect("read") {
            Some(v) if !v.deliveries.is_empty() => {}
            _ => missing.push(id.to_string()),
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged deliveries lost: {missing:?}",
        missing.len(),
        acked.len()
    );
}
