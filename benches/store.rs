//! Store throughput bench: durable writes per second on a temporary file (each one a
//! transaction fsynced before it returns, so the disk's fsync rate is the ceiling).
//! Prints new incidents, re-deliveries, call saves and incident reads per second, one task
//! after another and then from 16 concurrent tasks.
//!
//! `cargo bench --bench store`. Knob: HOTLINE_BENCH_STORE_N (writes per figure, 500).

use hotline::call::{CallRecord, Clock, EventKind, Outcome, Termination};
use hotline::incident::Incident;
use hotline::store::Store;
use std::time::{Duration, Instant};

fn incident(fingerprint: &str) -> Incident {
    Incident {
        source: "alertmanager".into(),
        fingerprint: fingerprint.into(),
        ..Incident::default()
    }
}

fn record(call_id: &str) -> CallRecord {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut r = CallRecord::new(
        call_id,
        "acme",
        "support",
        "sip:support@127.0.0.1",
        ms(30_000),
        "bench.wav",
        Clock::now(),
    );
    r.push(
        t0,
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(
        t0 + ms(100),
        EventKind::Provisional {
            code: 180,
            reason: "Ringing".into(),
        },
    );
    r.push(t0 + ms(2000), EventKind::Answered { code: 200 });
    r.push(t0 + ms(9000), EventKind::ByeReceived);
    r.push(
        t0 + ms(9001),
        EventKind::Ended {
            result: Outcome::Answered,
        },
    );
    r.terminate(Termination::new(Outcome::Answered, "remote hung up"));
    r
}

fn report(what: &str, n: usize, took: Duration) {
    println!(
        "{what:<36} {n:>6} in {:>8.1} ms  {:>8.0}/s  {:>7.2} ms each",
        took.as_secs_f64() * 1e3,
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e3 / n as f64
    );
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("HOTLINE_BENCH_STORE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("bench.db"))
        .await
        .expect("open");
    println!("store bench: {n} writes per figure, WAL + synchronous=FULL, one task");

    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let up = store
            .upsert_firing(&incident(&format!("fp{i}")), 1000)
            .await
            .expect("upsert");
        ids.push(up.id);
    }
    report("upsert_firing, new incident", n, t.elapsed());

    let t = Instant::now();
    for i in 0..n {
        store
            .upsert_firing(&incident(&format!("fp{}", i % 10)), 1000)
            .await
            .expect("upsert");
    }
    report("upsert_firing, re-delivery", n, t.elapsed());

    let t = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        store
            .save_call(&record(&format!("call{i}")), Some(id))
            .await
            .expect("save");
    }
    report("save_call, 5 events", n, t.elapsed());

    let t = Instant::now();
    for id in &ids {
        store.incident(id).await.expect("read");
    }
    report("incident (read with calls)", n, t.elapsed());

    let t = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|k| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in (k..n).step_by(16) {
                    store
                        .upsert_firing(&incident(&format!("c{i}")), 1000)
                        .await
                        .expect("upsert");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    report("upsert_firing, new, 16 tasks", n, t.elapsed());
}
