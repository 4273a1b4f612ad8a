//! Several replicas on one database: leases with fences, takeover of an expired lease,
//! start-up recovery that leaves live replicas' work alone, one audit chain.

use super::super::conn::Backend;
use super::super::{GENESIS, LadderState, NewStep, Store, StoreError};
use super::place::{Place, both};
use super::{answered_call, incident};
use chrono::Utc;
use std::time::Duration;

fn step(contact: &str, call_id: Option<&str>) -> NewStep {
    NewStep {
        contact: contact.into(),
        attempt: 1,
        started_at: Utc::now(),
        call_id: call_id.map(str::to_string),
    }
}

/// An incident whose ladder runs, with a call dialling under `store`'s lease.
async fn running(
    store: &Store,
    fingerprint: &str,
    call: &str,
    ttl: Duration,
) -> super::super::IncidentId {
    let up = store
        .upsert_firing(&incident("alertmanager", fingerprint), 1)
        .await
        .expect("upsert");
    store
        .set_routing(&up.id, Some("acme"))
        .await
        .expect("route");
    assert!(store.claim(&up.id, ttl).await.expect("claim").is_some());
    store
        .set_ladder_state(&up.id, LadderState::Running, None)
        .await
        .expect("running");
    store
        .append_step(&up.id, step("support", Some(call)))
        .await
        .expect("step");
    let (rec, _) = answered_call(call);
    store.save_call(&rec, Some(&up.id)).await.expect("call");
    up.id
}

async fn an_expired_lease_is_taken_over_and_the_old_owner_fenced(place: Place) {
    let a = place.open().await;
    let b = place.open().await;
    assert_ne!(a.replica(), b.replica());
    let id = running(&a, "disk", "c1", Duration::from_millis(300)).await;
    // Held: nobody else claims it, and nothing is to be taken over yet.
    assert_eq!(
        b.claim(&id, Duration::from_secs(5)).await.expect("claim"),
        None
    );
    assert!(
        b.take_over(Duration::from_secs(5))
            .await
            .expect("none")
            .is_none()
    );
    let view = a.incident(&id).await.expect("read").expect("found");
    assert_eq!(view.ladder[0].seq, 1);

    tokio::time::sleep(Duration::from_millis(450)).await;
    let t = b
        .take_over(Duration::from_secs(5))
        .await
        .expect("take over")
        .expect("one expired");
    assert_eq!(t.incident.id, id);
    assert_eq!(t.incident.open_steps, vec![1]);
    assert_eq!(t.previous_owner, a.replica());
    assert_eq!(t.fence, 2);
    assert_eq!(t.calls, vec!["c1".to_string()]);
    assert_eq!(b.leases_held(), 1);

    // The old owner's heartbeat learns it lost the lease, and its writes are refused.
    assert_eq!(
        a.renew_leases(Duration::from_secs(5)).await.expect("renew"),
        vec![id.clone()]
    );
    assert!(a.lease_lost(&id));
    let end = super::super::StepEnd {
        outcome: None,
        reason: "late".into(),
        ended_at: Utc::now(),
        call_id: None,
    };
    assert!(matches!(
        a.finish_step(&id, 1, end).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        a.set_ladder_state(&id, LadderState::Done, None).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        a.append_step(&id, step("backup", Some("c2"))).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(
        a.renew_leases(Duration::from_secs(5))
            .await
            .expect("renew")
            .is_empty()
    );
    assert_eq!(a.leases_held(), 0);

    // The new owner goes on.
    b.set_ladder_state(&id, LadderState::Running, None)
        .await
        .expect("resumed");
    assert_eq!(
        b.append_step(&id, step("backup", Some("c2")))
            .await
            .expect("step"),
        2
    );
    let view = b.incident(&id).await.expect("read").expect("found");
    let first = &view.ladder[0];
    assert!(first.interrupted);
    assert!(first.reason.as_deref().unwrap_or("").contains(a.replica()));
    assert!(
        view.calls
            .iter()
            .any(|c| c.call_id == "c1" && c.interrupted)
    );
    assert!(
        b.take_over(Duration::from_secs(5))
            .await
            .expect("none")
            .is_none()
    );
    assert!(
        b.renew_leases(Duration::from_secs(5))
            .await
            .expect("renew")
            .is_empty()
    );
    b.release(&id).await.expect("release");
    assert_eq!(b.leases_held(), 0);
}

/// A replica that starts finds another's ladder mid-call: on PostgreSQL it leaves a live
/// lease's work alone and takes an expired one; SQLite (one serve per file) takes all.
async fn start_up_recovery_takes_only_expired_leases(place: Place) {
    let a = place.open().await;
    let live = running(&a, "live", "c-live", Duration::from_secs(30)).await;
    let dead = running(&a, "dead", "c-dead", Duration::from_millis(200)).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let c = place.open().await;
    let found = c.interrupted_on_start().await.expect("recover");
    let ids: Vec<_> = found.incidents.iter().map(|i| i.id.clone()).collect();
    let calls: Vec<_> = found.calls.iter().map(|c| c.call_id.as_str()).collect();
    match c.backend() {
        Backend::Postgres => {
            assert_eq!(ids, vec![dead.clone()]);
            assert_eq!(calls, vec!["c-dead"]);
            let view = c.incident(&live).await.expect("read").expect("found");
            assert_eq!(view.row.ladder_state, LadderState::Running);
            assert!(view.ladder[0].outcome.is_none());
            // The live owner keeps writing; the dead one's ladder is the new replica's.
            a.set_ladder_state(&live, LadderState::Done, None)
                .await
                .expect("live owner writes");
            assert_eq!(c.leases_held(), 1);
        }
        Backend::Sqlite => {
            assert_eq!(ids.len(), 2);
            assert_eq!(calls.len(), 2);
            assert_eq!(c.leases_held(), 2);
        }
    }
}

/// Two replicas appending at once: one chain, no gaps, each entry on the one before.
async fn concurrent_appends_keep_one_chain(place: Place) {
    let a = place.open().await;
    let b = place.open().await;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { s.append_chain("call", &format!("c{i}"), "{}").await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("append");
    }
    let chain = a.chain().await.expect("chain");
    assert_eq!(chain.len(), 30);
    let mut prev = GENESIS.to_string();
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, e.expected_hash());
        prev = e.hash.clone();
    }
}

both!(
    an_expired_lease_is_taken_over_and_the_old_owner_fenced,
    start_up_recovery_takes_only_expired_leases,
    concurrent_appends_keep_one_chain,
);
