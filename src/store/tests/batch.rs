//! Group commit and the webhook-to-INVITE transactions: a write is answered only once its
//! batch committed; a failed job in a batch leaves only itself out; an alert's routing and
//! group go in with it; a call's step, row, ladder state and briefing text go in together.

use super::super::conn::args;
use super::super::{LadderState, NewStep, Route, Routing, StepStart, StoreError};
use super::place::{Place, both};
use super::{answered_call, incident};
use chrono::Utc;
use std::sync::{Arc, Mutex};

/// A second connection on the same file, as another process would read it: it sees only
/// what was committed.
fn reader(place: &Place) -> rusqlite::Connection {
    let Place::Sqlite(dir) = place else {
        unreachable!("SQLite only")
    };
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(dir.path().join("hotline.db"), flags).expect("reader")
}

/// Many writers at once (so batches form): the moment each write is answered, another
/// connection already sees it. A batch that answered before its commit would fail this.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_write_is_committed_when_answered() {
    let place = Place::sqlite();
    let store = place.open().await;
    let other = Arc::new(Mutex::new(reader(&place)));
    let mut tasks = Vec::new();
    for n in 0..200 {
        let (store, other) = (store.clone(), other.clone());
        tasks.push(tokio::spawn(async move {
            let routing = Routing {
                dialplan: Some("acme".into()),
                leads: Some(format!("line asset={n}")),
            };
            let up = store
                .take_firing(&incident("alertmanager", &format!("fp{n}")), 10, routing)
                .await
                .expect("take");
            let seen: (i64, i64, i64) = other
                .lock()
                .expect("reader")
                .query_row(
                    "SELECT (SELECT COUNT(*) FROM incidents WHERE id = ?1 AND dialplan = 'acme'),
                            (SELECT COUNT(*) FROM deliveries WHERE incident_id = ?1),
                            (SELECT COUNT(*) FROM incident_groups WHERE member_id = ?1)",
                    [up.id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .expect("read");
            assert_eq!(seen, (1, 1, 1), "incident {} answered before commit", up.id);
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
}

/// Jobs that fail in the middle of a batch: their writes are rolled back, the others'
/// stay and are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_job_leaves_only_itself_out_of_its_batch() {
    let place = Place::sqlite();
    let store = place.open().await;
    let victim = store
        .upsert_firing(&incident("alertmanager", "victim"), 1)
        .await
        .expect("victim");
    let mut tasks = Vec::new();
    for n in 0..100 {
        let (store, id) = (store.clone(), victim.id.clone());
        tasks.push(tokio::spawn(async move {
            if n % 2 == 0 {
                let fp = format!("ok{n}");
                store
                    .upsert_firing(&incident("alertmanager", &fp), 1)
                    .await
                    .map(drop)
            } else {
                // Writes, then fails: nothing of it may stay.
                store
                    .worker
                    .call(move |db| {
                        db.conn.execute(
                            "UPDATE incidents SET briefing_text = 'half' WHERE id = ?1",
                            args![id.as_str()],
                        )?;
                        Err::<(), _>(StoreError::NoRow)
                    })
                    .await
            }
        }));
    }
    for (n, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        assert_eq!(r.is_ok(), n % 2 == 0, "job {n}: {r:?}");
    }
    let v = store
        .incident(&victim.id)
        .await
        .expect("read")
        .expect("victim");
    assert_eq!(v.row.briefing_text, None);
    let n: i64 = reader(&place)
        .query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 51);
}

async fn a_new_alert_is_stored_with_its_routing_and_group(place: Place) {
    let store = place.open().await;
    let routing = Routing {
        dialplan: Some("acme".into()),
        leads: Some("sip:line asset=at-1".into()),
    };
    let i = incident("alertmanager", "fp");
    let up = store.take_firing(&i, 5, routing).await.expect("take");
    assert!(up.created);
    let v = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!(v.row.dialplan.as_deref(), Some("acme"));
    assert_eq!(v.row.route, Some(Route::Routed));
    assert_eq!(v.deliveries.len(), 1);
    let g = v.group.expect("its own group");
    assert_eq!(
        (g.leader, g.key.as_str()),
        (up.id.clone(), "sip:line asset=at-1")
    );
    // A re-delivery joins and changes neither.
    let again = store
        .take_firing(&i, 6, Routing::default())
        .await
        .expect("again");
    assert!(!again.created);
    let v = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!(v.row.route, Some(Route::Routed));
    assert_eq!(v.deliveries.len(), 2);
    // Unrouted, no group.
    let other = incident("alertmanager", "other");
    let up = store
        .take_firing(&other, 5, Routing::default())
        .await
        .expect("take");
    let v = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!((v.row.dialplan, v.row.route), (None, Some(Route::Unrouted)));
    assert!(v.group.is_none());
}

async fn a_call_is_stored_with_its_step_state_and_briefing(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("alertmanager", "fp"), 1)
        .await
        .expect("upsert");
    let (rec, _) = answered_call("c-1");
    let step = NewStep {
        contact: "support".into(),
        attempt: 1,
        started_at: Utc::now(),
        call_id: Some("c-1".into()),
    };
    let with = StepStart {
        running: true,
        briefing_text: Some("disk failed".into()),
        queued: Some((1500, "the line is busy".into())),
    };
    let seq = store
        .start_call(&up.id, step.clone(), &rec, with)
        .await
        .expect("start");
    assert_eq!(seq, 1);
    let v = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!(v.row.ladder_state, LadderState::Running);
    assert_eq!(v.row.briefing_text.as_deref(), Some("disk failed"));
    assert_eq!(v.ladder.len(), 1);
    assert_eq!(v.ladder[0].call_id.as_deref(), Some("c-1"));
    assert_eq!(v.ladder[0].queued_ms, Some(1500));
    assert_eq!(
        v.ladder[0].queue_reason.as_deref(),
        Some("the line is busy")
    );
    assert_eq!(v.calls.len(), 1);
    assert_eq!(v.calls[0].call_id, "c-1");
    // The next call writes only its step and row: state and briefing stay.
    let (rec, _) = answered_call("c-2");
    let step = NewStep {
        call_id: Some("c-2".into()),
        ..step
    };
    let seq = store
        .start_call(&up.id, step, &rec, StepStart::default())
        .await
        .expect("start");
    assert_eq!(seq, 2);
    let v = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!(v.row.briefing_text.as_deref(), Some("disk failed"));
    assert_eq!(v.ladder[1].queued_ms, None);
    assert_eq!(v.calls.len(), 2);
    // Nothing for an incident that does not exist: no step, no call row.
    let ghost = "inc_0000000000000000".parse().expect("id");
    let (rec, _) = answered_call("c-3");
    let step = NewStep {
        contact: "support".into(),
        attempt: 1,
        started_at: Utc::now(),
        call_id: Some("c-3".into()),
    };
    let r = store
        .start_call(&ghost, step, &rec, StepStart::default())
        .await;
    assert!(r.is_err());
    assert!(store.call("c-3").await.expect("read").is_none());
}

both!(
    a_new_alert_is_stored_with_its_routing_and_group,
    a_call_is_stored_with_its_step_state_and_briefing
);
