//! Incidents: idempotent upsert (and its race), resolve, routing, listing.

use super::super::{IncidentFilter, IncidentId, LadderState, Route, StoreError};
use super::incident;
use super::place::{Place, both};
use crate::incident::{Severity, Status};

async fn redelivery_joins_the_firing_incident(place: Place) {
    let store = place.open().await;
    let first = store
        .upsert_firing(&incident("alertmanager", "fp1"), 812)
        .await
        .expect("first");
    assert!(first.created);
    let mut again = incident("alertmanager", "fp1");
    again.severity = Severity::Warning;
    let second = store.upsert_firing(&again, 640).await.expect("second");
    assert!(!second.created);
    assert_eq!(second.id, first.id);

    let view = store
        .incident(&first.id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(view.row.status, Status::Firing);
    assert_eq!(view.row.ladder_state, LadderState::Pending);
    assert_eq!(view.row.route, None);
    // The latest delivery's view is kept, under the store's id.
    assert_eq!(view.row.severity, Severity::Warning);
    assert_eq!(view.row.incident.id, first.id.as_str());
    assert_eq!(view.row.incident.fault.summary, "disk failed on fp1");
    let sizes: Vec<_> = view
        .deliveries
        .iter()
        .map(|d| (d.seq, d.raw_size, d.created))
        .collect();
    assert_eq!(sizes, [(1, 812, true), (2, 640, false)]);
}

/// Ten deliveries of one alert at once, over two connections to one file (as two processes
/// would be): exactly one incident, ten deliveries.
async fn concurrent_deliveries_open_one_incident(place: Place) {
    let a = place.open().await;
    let b = place.open().await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .upsert_firing(&incident("alertmanager", "same"), 100 + i)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task").expect("upsert"));
    }
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert!(results.iter().all(|r| r.id == results[0].id));

    let all = a
        .list_incidents(IncidentFilter::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 1);
    let view = b
        .incident(&results[0].id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(view.deliveries.len(), 10);
    let seqs: Vec<u32> = view.deliveries.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    assert_eq!(view.deliveries.iter().filter(|d| d.created).count(), 1);
}

async fn resolve_stops_the_ladder_and_frees_the_fingerprint(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("grafana", "fp"), 10)
        .await
        .expect("upsert");
    store
        .set_routing(&up.id, Some("acme"))
        .await
        .expect("route");
    store
        .set_ladder_state(&up.id, LadderState::Running, None)
        .await
        .expect("running");

    let resolved = store.resolve("fp", "alert cleared").await.expect("resolve");
    assert_eq!(resolved.as_ref(), Some(&up.id));
    let row = store
        .incident(&up.id)
        .await
        .expect("read")
        .expect("found")
        .row;
    assert_eq!(row.status, Status::Resolved);
    assert_eq!(row.incident.status, Status::Resolved);
    assert_eq!(row.ladder_state, LadderState::Stopped);
    assert_eq!(row.ladder_reason.as_deref(), Some("alert cleared"));
    assert_eq!(row.resolution_reason.as_deref(), Some("alert cleared"));
    assert!(row.resolved_at.is_some());
    assert_eq!(row.dialplan.as_deref(), Some("acme"));
    assert_eq!(row.route, Some(Route::Routed));

    // Nothing fires under that fingerprint now.
    assert_eq!(store.resolve("fp", "again").await.expect("resolve"), None);
    // The next firing is a new incident.
    let next = store
        .upsert_firing(&incident("grafana", "fp"), 10)
        .await
        .expect("upsert");
    assert!(next.created);
    assert!(next.id > up.id);
}

async fn resolve_keeps_a_finished_ladder(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("zabbix", "fp"), 10)
        .await
        .expect("upsert");
    store
        .set_ladder_state(&up.id, LadderState::Done, Some("answered by support"))
        .await
        .expect("done");
    store.resolve("fp", "fixed").await.expect("resolve");
    let row = store
        .incident(&up.id)
        .await
        .expect("read")
        .expect("found")
        .row;
    assert_eq!(row.ladder_state, LadderState::Done);
    assert_eq!(row.ladder_reason.as_deref(), Some("answered by support"));
}

async fn unknown_incidents_are_errors_or_none(place: Place) {
    let store = place.open().await;
    let id: IncidentId = "inc_0000000000000000".parse().expect("id");
    assert!(matches!(
        store.set_routing(&id, None).await,
        Err(StoreError::NoIncident(_))
    ));
    assert!(matches!(
        store
            .set_ladder_state(&id, LadderState::Running, None)
            .await,
        Err(StoreError::NoIncident(_))
    ));
    assert!(store.incident(&id).await.expect("read").is_none());
}

async fn routing_unrouted(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("generic", "fp"), 1)
        .await
        .expect("upsert");
    store.set_routing(&up.id, None).await.expect("route");
    let row = store
        .incident(&up.id)
        .await
        .expect("read")
        .expect("found")
        .row;
    assert_eq!(row.route, Some(Route::Unrouted));
    assert_eq!(row.dialplan, None);
}

async fn lists_with_filters_and_cursor(place: Place) {
    let store = place.open().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let source = if i % 2 == 0 { "alertmanager" } else { "zabbix" };
        let up = store
            .upsert_firing(&incident(source, &format!("fp{i}")), 1)
            .await
            .expect("upsert");
        ids.push(up.id);
    }
    for i in [1, 2] {
        store
            .resolve(&format!("fp{i}"), "ok")
            .await
            .expect("resolve");
    }
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();

    // Pages of three walk every incident once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_incidents(IncidentFilter {
                limit: 3,
                before: before.clone(),
                ..IncidentFilter::default()
            })
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        before = page.last().map(|r| r.id.clone());
        seen.extend(page.into_iter().map(|r| r.id));
    }
    assert_eq!(seen, newest_first);

    let firing = store
        .list_incidents(IncidentFilter {
            status: Some(Status::Firing),
            ..IncidentFilter::default()
        })
        .await
        .expect("firing");
    assert_eq!(firing.len(), 5);
    assert!(firing.iter().all(|r| r.status == Status::Firing));

    let zabbix_resolved = store
        .list_incidents(IncidentFilter {
            status: Some(Status::Resolved),
            source: Some("zabbix".into()),
            ..IncidentFilter::default()
        })
        .await
        .expect("filtered");
    let got: Vec<_> = zabbix_resolved.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, [ids[1].clone()]);

    let older = store
        .list_incidents(IncidentFilter {
            source: Some("alertmanager".into()),
            before: Some(ids[4].clone()),
            ..IncidentFilter::default()
        })
        .await
        .expect("older");
    let got: Vec<_> = older.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, [ids[2].clone(), ids[0].clone()]);
}

both!(
    redelivery_joins_the_firing_incident,
    concurrent_deliveries_open_one_incident,
    resolve_stops_the_ladder_and_frees_the_fingerprint,
    resolve_keeps_a_finished_ladder,
    unknown_incidents_are_errors_or_none,
    routing_unrouted,
    lists_with_filters_and_cursor,
);
