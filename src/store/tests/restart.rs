//! Restart: a second open of the same file sees everything and marks what was cut short.

use super::super::{LadderState, NewStep};
use super::place::{Place, both};
use super::{answered_call, end_call, incident};
use crate::call::Outcome;
use chrono::Utc;

async fn reopen_sees_data_and_marks_interrupted_work(place: Place) {
    // First run: one ladder running with a live call; another incident whose call ended.
    let (running_id, quiet_id) = {
        let store = place.open().await;
        let running = store
            .upsert_firing(&incident("alertmanager", "disk"), 1)
            .await
            .expect("upsert");
        store
            .set_routing(&running.id, Some("acme"))
            .await
            .expect("route");
        store
            .set_ladder_state(&running.id, LadderState::Running, None)
            .await
            .expect("running");
        store
            .append_step(
                &running.id,
                NewStep {
                    contact: "support".into(),
                    attempt: 1,
                    started_at: Utc::now(),
                    call_id: Some("live".into()),
                },
            )
            .await
            .expect("step");
        let (live, _) = answered_call("live");
        store
            .save_call(&live, Some(&running.id))
            .await
            .expect("live");

        let quiet = store
            .upsert_firing(&incident("alertmanager", "psu"), 1)
            .await
            .expect("upsert");
        let (mut ended, t0) = answered_call("ended");
        end_call(&mut ended, t0);
        store
            .save_call(&ended, Some(&quiet.id))
            .await
            .expect("ended");
        // No clean shutdown: the handle is dropped as a crash would leave it.
        (running.id, quiet.id)
    };

    let store = place.open().await;
    let found = store.interrupted_on_start().await.expect("interrupted");
    assert_eq!(found.incidents.len(), 1);
    assert_eq!(found.incidents[0].id, running_id);
    assert_eq!(found.incidents[0].dialplan.as_deref(), Some("acme"));
    assert_eq!(found.incidents[0].open_steps, [1]);
    let calls: Vec<_> = found.calls.iter().map(|c| c.call_id.as_str()).collect();
    assert_eq!(calls, ["live"]);
    assert_eq!(found.calls[0].incident_id.as_ref(), Some(&running_id));

    let view = store
        .incident(&running_id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(view.row.ladder_state, LadderState::Interrupted);
    assert!(
        view.row
            .ladder_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("interrupted"))
    );
    assert_eq!(view.ladder[0].outcome, Some(Outcome::Failed));
    let live = &view.calls[0];
    assert!(live.interrupted);
    assert_eq!(live.result, Some(Outcome::Failed));
    assert_eq!(live.record["interrupted"], true);
    assert_eq!(live.record["termination"]["result"], "failed");

    let quiet = store
        .incident(&quiet_id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(quiet.row.ladder_state, LadderState::Pending);
    assert!(!quiet.calls[0].interrupted);
    assert_eq!(quiet.calls[0].result, Some(Outcome::Answered));

    assert!(view.ladder[0].interrupted, "the cut step is flagged");

    // Marked once; a start that dies before resuming and sealing leaves the same work for
    // the next one (nothing marked twice).
    let again = store.interrupted_on_start().await.expect("again");
    assert_eq!(again.incidents.len(), 1);
    assert_eq!(again.incidents[0].id, running_id);
    assert!(again.incidents[0].open_steps.is_empty());
    assert_eq!(again.calls.len(), 1);
    // Once running again, and the call sealed, nothing is left.
    store
        .set_ladder_state(&running_id, LadderState::Running, None)
        .await
        .expect("running");
    store
        .append_chain("call", "live", "{}") // audit::KIND_CALL: a seal (interrupted.rs reads kind = 'call')
        .await
        .expect("sealed");
    store
        .set_ladder_state(&running_id, LadderState::Done, None)
        .await
        .expect("done");
    let none = store.interrupted_on_start().await.expect("none");
    assert!(
        none.incidents.is_empty() && none.calls.is_empty(),
        "{none:?}"
    );
}

async fn answered_dialogs_stay_open_until_closed_and_survive_a_reopen(place: Place) {
    use super::super::StoredDialog;
    let d = StoredDialog {
        call_id: "c1".into(),
        local_tag: "ours".into(),
        remote_tag: "theirs".into(),
        local_uri: "sip:hotline@192.0.2.1".into(),
        remote_uri: "sip:+15550100@trunk.example".into(),
        remote_target: Some("sip:agent@198.51.100.9:5060".into()),
        route_set: vec!["<sip:p1.example;lr>".into(), "<sip:p2.example;lr>".into()],
        next_cseq: 3,
        transport: "UDP".into(),
        destination: "198.51.100.7:5060".into(),
        answered_at: chrono::DateTime::parse_from_rfc3339("2026-12-02T07:00:00.123456Z")
            .expect("time")
            .with_timezone(&Utc),
    };
    {
        let store = place.open().await;
        store.save_dialog(&d).await.expect("save");
        let mut other = d.clone();
        other.call_id = "c2".into();
        store.save_dialog(&other).await.expect("save");
        store
            .close_dialog("c2", "call ended", Utc::now())
            .await
            .expect("close");
    }
    // A crash: the next start finds the dialog that was never closed, intact.
    let store = place.open().await;
    assert_eq!(store.open_dialogs().await.expect("open"), [d]);
    store
        .close_dialog("c1", "BYE after the restart answered", Utc::now())
        .await
        .expect("close");
    assert!(store.open_dialogs().await.expect("open").is_empty());
    // Closing twice, or an unknown one, changes nothing.
    store
        .close_dialog("c1", "again", Utc::now())
        .await
        .expect("close");
    store
        .close_dialog("nope", "x", Utc::now())
        .await
        .expect("close");
}

both!(
    reopen_sees_data_and_marks_interrupted_work,
    answered_dialogs_stay_open_until_closed_and_survive_a_reopen,
);
