//! The SLA on time to a person (`Timer::HumanSla`) in simulated time: a miss is named the
//! moment the SLA runs out, once, and never after a person picked up.

use super::tests::{Sim, params, plays};
use super::*;
use std::time::{Duration, Instant};

const SLA: Duration = Duration::from_secs(30);

/// A contact whose menu holds for a person, judged on time to a human within [`SLA`].
fn holding_call() -> Sim {
    let mut p = params(
        vec![
            MenuStep::WaitHuman(Duration::from_secs(1200)),
            MenuStep::Play(BRIEFING.into()),
        ],
        false,
    );
    p.max_duration = Duration::from_secs(3600);
    p.human_sla = Some(SLA);
    let mut s = Sim::new(p);
    // Rings 1.5 s, answered: holding from here.
    s.answer();
    s
}

fn misses(s: &Sim) -> Vec<(Instant, u64)> {
    s.log
        .iter()
        .filter_map(|o| match o {
            Output::Event {
                at,
                kind:
                    EventKind::SlaMissed {
                        basis: SlaBasis::Human,
                        within_ms,
                    },
            } => Some((*at, *within_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn no_person_within_the_sla_is_a_miss_at_the_deadline_and_the_call_holds_on() {
    let mut s = holding_call();
    let invite = s.now - Duration::from_millis(1500);
    s.advance(Duration::from_millis(28_499));
    assert!(misses(&s).is_empty(), "not before INVITE + answer_within");
    s.advance(Duration::from_millis(1));
    assert_eq!(misses(&s), vec![(invite + SLA, 30_000)]);
    // The core only names the miss: hanging up is the ladder's call.
    s.advance(Duration::from_secs(600));
    assert_eq!(misses(&s).len(), 1, "named once");
    assert!(s.sent_requests(Method::Bye).is_empty());
    assert_eq!(plays(&s), 0, "hold music is never briefed");
}

#[test]
fn a_person_within_the_sla_disarms_it() {
    let mut s = holding_call();
    s.advance(Duration::from_secs(20));
    let onset = s.now - Duration::from_millis(800);
    s.input(Input::Heard(Heard::Human {
        onset,
        confidence: 90,
        evidence: vec!["reply_to_probe".into()],
    }));
    s.advance(Duration::from_secs(60));
    assert!(misses(&s).is_empty());
}

#[test]
fn a_person_after_the_miss_does_not_undo_it() {
    let mut s = holding_call();
    s.advance(Duration::from_secs(40));
    let onset = s.now;
    s.input(Input::Heard(Heard::Human {
        onset,
        confidence: 90,
        evidence: vec![],
    }));
    assert_eq!(misses(&s).len(), 1);
    assert_eq!(plays(&s), 1, "the late person still gets the briefing");
}

#[test]
fn a_call_judged_on_the_answer_or_already_over_names_no_human_miss() {
    let mut p = params(vec![MenuStep::WaitHuman(Duration::from_secs(1200))], false);
    p.max_duration = Duration::from_secs(3600);
    let mut s = Sim::new(p);
    s.answer();
    s.advance(Duration::from_secs(120));
    assert!(misses(&s).is_empty(), "no human_sla: judged on the 200 OK");

    let mut s = holding_call();
    s.input(Input::Hangup("resolved".into()));
    s.advance(Duration::from_secs(120));
    assert!(
        misses(&s).is_empty(),
        "a call on its way out misses nothing"
    );
}

#[test]
fn still_ringing_at_the_deadline_is_a_miss_too() {
    let mut p = params(vec![MenuStep::WaitHuman(Duration::from_secs(1200))], false);
    p.ring_timeout = Duration::from_secs(60);
    p.human_sla = Some(SLA);
    let mut s = Sim::new(p);
    let r = s.invite_resp(180, None);
    s.input(r);
    s.advance(SLA);
    assert_eq!(misses(&s).len(), 1);
}

#[test]
fn the_record_reads_the_miss_at_once_and_keeps_it() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut r = CallRecord::new(
        "c1",
        "hpe",
        "hpe-hotline",
        "sip:x@y",
        SLA,
        "r.wav",
        Clock::now(),
    );
    r.judge_on_human();
    r.push(
        ms(0),
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(ms(400), EventKind::Answered { code: 200 });
    assert_eq!(r.sla.met, None);
    let moved = r.push(
        ms(30_000),
        EventKind::SlaMissed {
            basis: SlaBasis::Human,
            within_ms: 30_000,
        },
    );
    assert!(moved, "a verdict is worth persisting");
    assert_eq!(r.sla.met, Some(false), "missed from the deadline on");
    let v = serde_json::to_value(&r).expect("json");
    let last = &v["events"][2];
    assert_eq!(last["kind"], "sla_missed");
    assert_eq!(last["basis"], "human");
    assert_eq!(last["within_ms"], 30_000);
    // We hang up (the ladder escalated): the miss stands.
    r.terminate(Termination {
        result: Outcome::Answered,
        code: None,
        reason: "no person within 30s (SLA)".into(),
        hangup_by: Some(Party::Local),
    });
    assert_eq!(r.sla.met, Some(false));

    // Unanswered, withdrawn after the deadline (an overlap loser): the miss stands as well.
    let mut r = CallRecord::new("c2", "hpe", "a", "sip:x@y", SLA, "r.wav", Clock::now());
    r.judge_on_human();
    r.push(
        ms(0),
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(
        ms(30_000),
        EventKind::SlaMissed {
            basis: SlaBasis::Human,
            within_ms: 30_000,
        },
    );
    r.terminate(Termination::new(
        Outcome::Cancelled,
        "another contact answered first".to_string(), // ladder::LOST_RACE (a floor above)
    ));
    assert_eq!(r.sla.met, Some(false));
}
