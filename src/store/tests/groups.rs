//! Groups: durable across a reopen; members are not resumed on their own; queue waits on steps.

use super::super::{LadderState, NewStep};
use super::incident;
use super::place::{Place, both};
use chrono::Utc;

async fn a_group_survives_a_reopen_and_only_its_leader_resumes(place: Place) {
    let (leader, member) = {
        let store = place.open().await;
        let a = store
            .upsert_firing(&incident("alertmanager", "disk-3"), 1)
            .await
            .expect("a");
        let b = store
            .upsert_firing(&incident("alertmanager", "disk-4"), 1)
            .await
            .expect("b");
        for id in [&a.id, &b.id] {
            store.set_routing(id, Some("hpe")).await.expect("route");
        }
        let key = "sip:hpe@x asset=at-004711";
        store.join_group(&a.id, &a.id, key).await.expect("lead");
        store.join_group(&b.id, &a.id, key).await.expect("join");
        // Joining twice changes nothing.
        store
            .join_group(&b.id, &b.id, "other")
            .await
            .expect("again");
        store
            .set_ladder_state(&a.id, LadderState::Running, None)
            .await
            .expect("running");
        store
            .set_ladder_state(&b.id, LadderState::Grouped, Some("grouped with a"))
            .await
            .expect("grouped");
        let seq = store
            .append_step(
                &a.id,
                NewStep {
                    contact: "hpe".into(),
                    attempt: 1,
                    started_at: Utc::now(),
                    call_id: None,
                },
            )
            .await
            .expect("step");
        store
            .note_queue_wait(
                &a.id,
                seq,
                1500,
                "the line sip:hpe@x has its 1 call at once",
            )
            .await
            .expect("wait");
        (a.id, b.id)
    };
    let store = place.open().await;
    let found = store.interrupted_on_start().await.expect("marks");
    let resumed: Vec<_> = found.incidents.iter().map(|i| i.id.clone()).collect();
    assert_eq!(
        resumed,
        vec![leader.clone()],
        "the member rides on its leader"
    );
    for id in [&leader, &member] {
        let v = store.incident(id).await.expect("view").expect("some");
        let g = v.group.expect("grouped");
        assert_eq!(g.leader, leader);
        assert_eq!(g.key, "sip:hpe@x asset=at-004711");
        let ids: Vec<_> = g.members.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, vec![leader.clone(), member.clone()]);
        assert_eq!(g.members[1].summary, "disk failed on disk-4");
    }
    let v = store.incident(&leader).await.expect("view").expect("some");
    assert_eq!(v.ladder[0].queued_ms, Some(1500));
    assert!(
        v.ladder[0]
            .queue_reason
            .as_deref()
            .is_some_and(|r| r.contains("1 call"))
    );
    let m = store.incident(&member).await.expect("view").expect("some");
    assert_eq!(m.row.ladder_state, LadderState::Grouped);
}

async fn a_resolved_leader_resumes_while_a_member_still_fires(place: Place) {
    let leader = {
        let store = place.open().await;
        let a = store
            .upsert_firing(&incident("alertmanager", "disk-3"), 1)
            .await
            .expect("a");
        let b = store
            .upsert_firing(&incident("alertmanager", "disk-4"), 1)
            .await
            .expect("b");
        store.join_group(&a.id, &a.id, "k").await.expect("lead");
        store.join_group(&b.id, &a.id, "k").await.expect("join");
        store.resolve("disk-3", "resolved").await.expect("resolve");
        // The service keeps the leader's ladder running for the member.
        store
            .set_ladder_state(&a.id, LadderState::Running, Some("group goes on"))
            .await
            .expect("running");
        a.id
    };
    let store = place.open().await;
    let found = store.interrupted_on_start().await.expect("marks");
    let resumed: Vec<_> = found.incidents.iter().map(|i| i.id.clone()).collect();
    assert_eq!(resumed, vec![leader]);
}

both!(
    a_group_survives_a_reopen_and_only_its_leader_resumes,
    a_resolved_leader_resumes_while_a_member_still_fires,
);
