//! Three `hotline serve` replicas on one PostgreSQL database (docs/replicas.md), on 127.0.0.1
//! against a sipp vendor line: ten concurrent duplicate deliveries spread across the replicas
//! open one incident and one ladder; `kill -9` of the replica holding the ringing call hands
//! the ladder to another within the lease + 2 s (the dead attempt marked interrupted, the
//! contact called again once, per `after_restart = "redial"`); the audit chain holds.

mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::serve::*;
use support::*;

fn firing(fingerprint: &str) -> String {
    json!({
        "fingerprint": fingerprint,
        "status": "firing",
        "severity": "critical",
        "asset": {"tag": "AT-004711", "vendor": "HPE"},
        "fault": {"summary": "RAID logical drive degraded"}
    })
    .to_string()
}

/// The replica whose `/readyz` says it holds a lease.
async fn holder(replicas: &[Server]) -> Option<usize> {
    for (i, r) in replicas.iter().enumerate() {
        let (_, v) = get(r, "/readyz").await;
        if v.as_str().unwrap_or("").contains("leases: 1 held") {
            return Some(i);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_one_ladder_and_a_takeover_after_kill_9() {
    let url = support::postgres::fresh_database();
    let dir = tempfile::tempdir().expect("tmp");
    // The vendor line rings and never answers (up to 30 s a call).
    let vendor = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let mut replicas = Vec::new();
    for i in 0..3 {
        let d = dir.path().join(format!("r{i}"));
        let config = serve_config(&d, "[ladder]\nafter_restart = \"redial\"\n");
        let text = std::fs::read_to_string(&config).expect("config");
        let text = text.replace(
            "path = \"data/hotline.db\"",
            &format!("path = \"data/hotline.db\"\nurl = \"{url}\""),
        );
        std::fs::write(&config, text).expect("config");
        let plan = format!(
            "vendor = \"HPE\"\n[[match]]\nvendor = \"HPE\"\n{}",
            contact("support", vendor.port, "30s", "")
        );
        std::fs::write(d.join("dialplans/hpe.toml"), plan).expect("plan");
        replicas.push(Server::start(&config));
    }

    // Ten deliveries of one alert at once, spread over the three replicas.
    let posts: Vec<_> = (0..10)
        .map(|i| {
            let http = replicas[i % 3].http.clone();
            tokio::spawn(async move {
                let resp = reqwest::Client::new()
                    .post(format!("{http}/v1/hooks/generic"))
                    .header("authorization", format!("Bearer {HOOK_TOKEN}"))
                    .header("content-type", "application/json")
                    .body(firing("fp-replicas"))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status().as_u16(), 202);
                let v: Value =
                    serde_json::from_str(&resp.text().await.expect("body")).expect("json");
                v["incidents"][0].clone()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for p in posts {
        answers.push(p.await.expect("task"));
    }
    let id = answers[0]["id"].as_str().expect("id").to_string();
    assert!(
        answers.iter().all(|a| a["id"] == id.as_str()),
        "{answers:#?}"
    );
    assert_eq!(answers.iter().filter(|a| a["created"] == true).count(), 1);

    // One ladder: one replica holds the lease and rings the contact once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (held, inc) = loop {
        let (_, inc) = get(&replicas[0], &format!("/v1/incidents/{id}")).await;
        if let Some(h) = holder(&replicas).await
            && inc["ladder"].as_array().is_some_and(|l| !l.is_empty())
        {
            break (h, inc);
        }
        assert!(Instant::now() < deadline, "no ladder started: {inc:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, inc2) = get(&replicas[0], &format!("/v1/incidents/{id}")).await;
    assert_eq!(
        inc2["deliveries"].as_array().map(Vec::len),
        Some(10),
        "{inc2:#}"
    );
    assert_eq!(inc2["ladder"].as_array().map(Vec::len), Some(1), "{inc:#}");
    for i in (0..3).filter(|i| *i != held) {
        assert!(holder(&replicas[i..=i]).await.is_none(), "one holder only");
    }

    // kill -9 of the replica holding the ringing call.
    let killed = replicas.remove(held);
    drop(killed); // SIGKILL
    let t0 = Instant::now();
    // Taken over: the dead attempt marked interrupted by another replica, within the lease
    // (5 s) + 2 s.
    loop {
        let (_, v) = get(&replicas[0], &format!("/v1/incidents/{id}")).await;
        if v["ladder"][0]["interrupted"] == true {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5 + 2),
            "not taken over within the lease + 2 s: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = t0.elapsed();
    // The ladder goes on there: the contact called again (the new call's set-up takes a
    // moment more).
    let took = loop {
        let (_, v) = get(&replicas[0], &format!("/v1/incidents/{id}")).await;
        if v["ladder"].as_array().is_some_and(|l| l.len() >= 2) {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5 + 5),
            "no new attempt: {v:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "taken over {taken:?} after kill -9, new attempt after {:?}",
        t0.elapsed()
    );
    let steps = took["ladder"].as_array().expect("steps");
    assert_eq!(steps[0]["interrupted"], true, "{took:#}");
    assert_eq!(steps[0]["outcome"], "failed");
    assert_eq!(steps[1]["contact"], "support");
    assert_eq!(steps[1]["attempt"], 2, "redialled once: {took:#}");
    assert_eq!(steps.len(), 2, "{took:#}");
    assert!(
        holder(&replicas).await.is_some(),
        "another replica holds it"
    );

    // One history: the chain links entry to entry.
    let store = hotline::store::Store::connect(&url).await.expect("store");
    let chain = store.chain().await.expect("chain");
    let mut prev = hotline::store::GENESIS.to_string();
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, e.expected_hash());
        prev = e.hash.clone();
    }
    drop(replicas);
    drop(vendor);
}
