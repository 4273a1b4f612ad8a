//! Calls, their events and recordings; ladder steps; tickets.

use super::super::codec::ts;
use super::super::{NewStep, RecordingFile, StepEnd, StoreError, TicketAttempt};
use super::place::{Place, both};
use super::{answered_call, end_call, incident};
use crate::call::Outcome;
use chrono::Utc;

async fn save_call_round_trips_through_its_stages(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("alertmanager", "fp"), 1)
        .await
        .expect("upsert");
    let (mut record, t0) = answered_call("c1@hotline");

    store
        .save_call(&record, Some(&up.id))
        .await
        .expect("save live");
    let live = store
        .call("c1@hotline")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(live.result, None);
    assert_eq!(live.ended_at, None);
    assert_eq!(live.sla_met, Some(true));
    assert_eq!(live.time_to_answer_ms, Some(2500));
    assert_eq!(live.events.len(), 3);

    end_call(&mut record, t0);
    // A later save without the incident keeps the link.
    store.save_call(&record, None).await.expect("save ended");
    let done = store
        .call("c1@hotline")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(done.incident_id.as_ref(), Some(&up.id));
    assert_eq!(done.result, Some(Outcome::Answered));
    assert_eq!(done.reason.as_deref(), Some("briefing done"));
    assert_eq!(done.code, None);
    assert_eq!(
        (done.dialplan.as_str(), done.contact.as_str()),
        ("acme", "support")
    );
    assert_eq!(done.uri, "sip:support@127.0.0.1");
    // Times are kept to the microsecond, as the call record's JSON writes them.
    let micros = |t: Option<chrono::DateTime<Utc>>| t.map(ts);
    assert_eq!(micros(done.started_at), micros(record.stages.invite_sent));
    assert_eq!(micros(done.answered_at), micros(record.stages.answered));
    assert_eq!(micros(done.ended_at), micros(record.stages.ended));
    assert_eq!(done.recording_path, "recordings/c1@hotline.wav");
    assert!(!done.interrupted);
    assert_eq!(done.record, serde_json::to_value(&record).expect("json"));

    let kinds: Vec<_> = done.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "invite_sent",
            "provisional",
            "answered",
            "bye_sent",
            "ended"
        ]
    );
    assert_eq!(done.events[2].offset_ms, 2500.0);
    assert_eq!(done.events[2].event["code"], 200);
    assert!(done.events.windows(2).all(|w| w[0].at <= w[1].at));

    let view = store.incident(&up.id).await.expect("read").expect("found");
    assert_eq!(view.calls.len(), 1);
    assert_eq!(view.calls[0].events.len(), 5);
}

async fn calls_without_an_incident_and_unknown_calls(place: Place) {
    let store = place.open().await;
    let (record, _) = answered_call("dial@cli");
    store.save_call(&record, None).await.expect("save");
    let c = store.call("dial@cli").await.expect("read").expect("found");
    assert_eq!(c.incident_id, None);
    assert!(store.call("nope").await.expect("read").is_none());
}

async fn recordings_are_indexed(place: Place) {
    let store = place.open().await;
    let (record, _) = answered_call("r1");
    let file = RecordingFile {
        path: record.recording.clone(),
        bytes: 44,
        sha256: None,
        is_final: false,
    };
    assert!(matches!(
        store.save_recording("r1", &file).await,
        Err(StoreError::NoCall(_))
    ));
    store.save_call(&record, None).await.expect("save");
    store.save_recording("r1", &file).await.expect("growing");
    let done = RecordingFile {
        bytes: 320_044,
        sha256: Some("ab".repeat(32)),
        is_final: true,
        ..file
    };
    store.save_recording("r1", &done).await.expect("final");
    let c = store.call("r1").await.expect("read").expect("found");
    assert_eq!(c.recording, Some(done));
}

async fn ladder_steps_and_tickets_are_kept_in_order(place: Place) {
    let store = place.open().await;
    let up = store
        .upsert_firing(&incident("pagerduty", "fp"), 1)
        .await
        .expect("upsert");
    let now = Utc::now();
    let first = store
        .append_step(
            &up.id,
            NewStep {
                contact: "support".into(),
                attempt: 1,
                started_at: now,
                call_id: Some("c1".into()),
            },
        )
        .await
        .expect("step 1");
    let second = store
        .append_step(
            &up.id,
            NewStep {
                contact: "escalation".into(),
                attempt: 1,
                started_at: now,
                call_id: None,
            },
        )
        .await
        .expect("step 2");
    assert_eq!((first, second), (1, 2));
    store
        .finish_step(
            &up.id,
            first,
            StepEnd {
                outcome: Some(Outcome::Busy),
                reason: "486 Busy Here".into(),
                ended_at: now,
                call_id: None,
            },
        )
        .await
        .expect("finish 1");
    assert!(matches!(
        store
            .finish_step(
                &up.id,
                9,
                StepEnd {
                    outcome: Some(Outcome::Failed),
                    reason: "x".into(),
                    ended_at: now,
                    call_id: None,
                },
            )
            .await,
        Err(StoreError::NoStep { seq: 9, .. })
    ));

    for (attempt, code) in [(1, None), (2, Some(201))] {
        store
            .record_ticket(
                &up.id,
                &TicketAttempt {
                    url: "https://tickets.example/api".into(),
                    attempt,
                    status_code: code,
                    response: Some("x".repeat(5000)),
                    at: now,
                },
            )
            .await
            .expect("ticket");
    }

    let view = store.incident(&up.id).await.expect("read").expect("found");
    let steps: Vec<_> = view
        .ladder
        .iter()
        .map(|s| (s.seq, s.contact.as_str(), s.outcome, s.call_id.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            (1, "support", Some(Outcome::Busy), Some("c1")),
            (2, "escalation", None, None)
        ]
    );
    assert_eq!(view.ladder[0].reason.as_deref(), Some("486 Busy Here"));
    let codes: Vec<_> = view
        .tickets
        .iter()
        .map(|t| (t.attempt, t.status_code))
        .collect();
    assert_eq!(codes, [(1, None), (2, Some(201))]);
    assert_eq!(
        view.tickets[0].response.as_ref().map(String::len),
        Some(1024)
    );
}

/// Issue 20.5: the scorecard's facts say whose doing each end was.
async fn call_facts_attribute_our_failures_apart_from_the_vendors(place: Place) {
    use crate::call::{CallRecord, Clock, EventKind, Side, Termination};
    use std::time::{Duration, Instant};
    let store = place.open().await;
    let ended = |id: &str, t: Termination| {
        let t0 = Instant::now();
        let mut r = CallRecord::new(
            id,
            "acme",
            "support",
            "sip:support@127.0.0.1",
            Duration::from_secs(30),
            "r.wav",
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
            t0 + Duration::from_millis(300),
            EventKind::Ended { result: t.result },
        );
        r.terminate(t);
        r
    };
    let calls = [
        ended("busy", Termination::from_final(486, "Busy Here")),
        ended(
            "auth",
            Termination {
                result: Outcome::Failed,
                code: Some(407),
                reason: "credentials rejected by realm \"trunk\"".into(),
                hangup_by: None,
            },
        ),
        ended(
            "trunk",
            Termination::new(Outcome::Failed, "trunk unreachable: connection refused"),
        ),
        ended(
            "resolved",
            Termination::new(Outcome::Cancelled, "incident resolved"),
        ),
    ];
    for c in &calls {
        store.save_call(c, None).await.expect("save");
    }
    let facts = store.call_facts(None, None).await.expect("facts");
    let by: std::collections::HashMap<_, _> = facts
        .iter()
        .map(|f| (f.call_id.as_str(), (f.side, f.sla_met)))
        .collect();
    assert_eq!(by["busy"], (Side::Vendor, Some(false)));
    assert_eq!(
        by["auth"],
        (Side::Gateway, None),
        "no SLA verdict for our 407"
    );
    assert_eq!(by["trunk"], (Side::Gateway, None));
    assert_eq!(by["resolved"], (Side::Withdrawn, None));
}

both!(
    save_call_round_trips_through_its_stages,
    calls_without_an_incident_and_unknown_calls,
    recordings_are_indexed,
    ladder_steps_and_tickets_are_kept_in_order,
    call_facts_attribute_our_failures_apart_from_the_vendors,
);
