//! The ladder in simulated time.

use super::*;
use crate::call::Outcome;
use crate::dialplan::{Hours, Window};
use chrono::{TimeZone, Utc};
use std::time::Duration;

fn rung(id: &str, retries: u32, retry_after: u64, hours: Hours) -> Rung {
    Rung {
        contact: id.into(),
        retries,
        retry_after: Duration::from_secs(retry_after),
        hours,
    }
}

fn ended(result: Outcome, completed: bool) -> Input {
    Input::CallEnded(CallOutcome {
        call_id: format!("c-{result:?}"),
        result,
        completed,
        reason: String::new(),
    })
}

fn drain(l: &mut Ladder) -> Vec<Output> {
    std::iter::from_fn(|| l.poll_output()).collect()
}

fn dialled(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Dial {
                contact, attempt, ..
            } => Some(format!("{contact}#{attempt}")),
            _ => None,
        })
        .collect()
}

fn thursday_noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

#[test]
fn busy_then_no_answer_then_answered_escalates_at_once() {
    let now = thursday_noon();
    let mut l = Ladder::new(vec![
        rung("hotline", 0, 0, Hours::Always),
        rung("vip", 0, 0, Hours::Always),
        rung("am", 0, 0, Hours::Always),
    ]);
    l.start(now);
    assert_eq!(dialled(&drain(&mut l)), ["hotline#1"]);
    l.handle_input(now, ended(Outcome::Busy, false));
    assert_eq!(dialled(&drain(&mut l)), ["vip#1"], "next contact at once");
    l.handle_input(now, ended(Outcome::NoAnswer, false));
    assert_eq!(dialled(&drain(&mut l)), ["am#1"]);
    l.handle_input(now, ended(Outcome::Answered, true));
    let out = drain(&mut l);
    assert!(
        matches!(&out[0], Output::Finished(LadderEnd::Taken { contact, .. }) if contact == "am")
    );
    assert!(l.is_done());
}

#[test]
fn retries_wait_and_then_move_on() {
    let now = thursday_noon();
    let mut l = Ladder::new(vec![
        rung("hotline", 1, 30, Hours::Always),
        rung("vip", 0, 0, Hours::Always),
    ]);
    l.start(now);
    drain(&mut l);
    l.handle_input(now, ended(Outcome::Busy, false));
    assert!(dialled(&drain(&mut l)).is_empty(), "waits retry_after");
    assert_eq!(l.poll_timeout(), Some(now + chrono::Duration::seconds(30)));
    l.handle_timeout(now + chrono::Duration::seconds(29));
    assert!(drain(&mut l).is_empty());
    l.handle_timeout(now + chrono::Duration::seconds(30));
    assert_eq!(dialled(&drain(&mut l)), ["hotline#2"]);
    l.handle_input(now, ended(Outcome::Failed, false));
    assert_eq!(dialled(&drain(&mut l)), ["vip#1"]);
}

#[test]
fn answered_but_briefing_not_done_is_not_taken() {
    let now = thursday_noon();
    let mut l = Ladder::new(vec![
        rung("a", 0, 0, Hours::Always),
        rung("b", 0, 0, Hours::Always),
    ]);
    l.start(now);
    drain(&mut l);
    l.handle_input(now, ended(Outcome::Answered, false));
    assert_eq!(dialled(&drain(&mut l)), ["b#1"]);
}

#[test]
fn outside_hours_is_skipped_with_a_reason_and_exhaustion_is_reported() {
    let now = thursday_noon(); // 12:00 UTC = 20:00 in Shanghai
    let office = Hours::Windows {
        tz: "Asia/Shanghai".parse().expect("tz"),
        windows: vec![Window::parse("mon-fri 09:00-18:00").expect("w")],
    };
    let mut l = Ladder::new(vec![
        rung("local-center", 0, 0, office),
        rung("hotline", 0, 0, Hours::Always),
    ]);
    l.start(now);
    let out = drain(&mut l);
    assert!(
        matches!(&out[0], Output::Skipped { contact, reason } if contact == "local-center" && reason.contains("hours"))
    );
    assert_eq!(dialled(&out), ["hotline#1"]);
    l.handle_input(now, ended(Outcome::Rejected, false));
    let out = drain(&mut l);
    assert!(matches!(
        out.last(),
        Some(Output::Finished(LadderEnd::Exhausted))
    ));
}

#[test]
fn stop_cancels_the_call_in_progress() {
    let now = thursday_noon();
    let mut l = Ladder::new(vec![
        rung("a", 0, 0, Hours::Always),
        rung("b", 0, 0, Hours::Always),
    ]);
    l.start(now);
    drain(&mut l);
    l.handle_input(now, Input::Stop("resolved".into()));
    assert!(matches!(&drain(&mut l)[0], Output::CancelCall { .. }));
    l.handle_input(now, ended(Outcome::Cancelled, false));
    let out = drain(&mut l);
    assert_eq!(
        out,
        vec![Output::Finished(LadderEnd::Stopped {
            reason: "resolved".into()
        })]
    );
    assert!(dialled(&out).is_empty(), "no further contact after a stop");
}

#[test]
fn empty_ladder_is_exhausted_at_once() {
    let mut l = Ladder::new(vec![]);
    l.start(thursday_noon());
    assert_eq!(drain(&mut l), vec![Output::Finished(LadderEnd::Exhausted)]);
}

fn past(contact: &str, attempt: u32, outcome: Option<Outcome>, interrupted: bool) -> PastStep {
    PastStep {
        contact: contact.into(),
        attempt,
        outcome,
        interrupted,
        ended_at: Some(thursday_noon()),
    }
}

fn three() -> Vec<Rung> {
    vec![
        rung("hotline", 0, 0, Hours::Always),
        rung("vip", 1, 60, Hours::Always),
        rung("am", 0, 0, Hours::Always),
    ]
}

#[test]
fn drain_lets_the_call_finish_then_stops_without_a_new_step() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    l.handle_input(now, Input::Drain("stopping".into()));
    assert!(drain(&mut l).is_empty(), "the call is not cancelled");
    l.handle_input(now, ended(Outcome::Busy, false));
    let out = drain(&mut l);
    assert!(dialled(&out).is_empty(), "no new step: {out:?}");
    assert!(matches!(out[0], Output::Failed { .. }), "{out:?}");
    assert_eq!(
        out.last(),
        Some(&Output::Finished(LadderEnd::Stopped {
            reason: "stopping".into()
        }))
    );
    assert!(l.is_done());
}

#[test]
fn a_call_that_completes_while_draining_takes_the_incident() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    l.handle_input(now, Input::Drain("stopping".into()));
    l.handle_input(now, ended(Outcome::Answered, true));
    let out = drain(&mut l);
    assert!(
        matches!(out.last(), Some(Output::Finished(LadderEnd::Taken { contact, .. })) if contact == "hotline"),
        "{out:?}"
    );
}

#[test]
fn drain_while_waiting_for_a_retry_stops_at_once_and_resolve_still_cancels() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    l.handle_input(now, ended(Outcome::Busy, false));
    drain(&mut l);
    l.handle_input(now, ended(Outcome::Busy, false)); // vip#1 busy: waits 60 s
    drain(&mut l);
    assert!(l.poll_timeout().is_some());
    l.handle_input(now, Input::Drain("stopping".into()));
    assert!(matches!(
        drain(&mut l).last(),
        Some(Output::Finished(LadderEnd::Stopped { .. }))
    ));

    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    l.handle_input(now, Input::Drain("stopping".into()));
    l.handle_input(now, Input::Stop("resolved".into()));
    assert_eq!(
        drain(&mut l),
        [Output::CancelCall {
            reason: "resolved".into()
        }]
    );
}

#[test]
fn resume_continues_after_the_last_step_not_from_contact_1() {
    use crate::config::AfterRestart::{Next, Redial};
    let rungs = three();
    // Nothing yet: the first contact.
    assert_eq!(resume_position(&rungs, &[], Redial).rung, 0);
    // hotline busy (no retries): vip next.
    let steps = [past("hotline", 1, Some(Outcome::Busy), false)];
    let p = resume_position(&rungs, &steps, Redial);
    assert_eq!((p.rung, p.attempt, p.cut.as_deref()), (1, 1, None));
    // vip busy once (1 retry after 60 s): vip again, not before its retry time.
    let steps = [
        past("hotline", 1, Some(Outcome::Busy), false),
        past("vip", 1, Some(Outcome::Busy), false),
    ];
    let p = resume_position(&rungs, &steps, Redial);
    assert_eq!((p.rung, p.attempt), (1, 2));
    assert_eq!(
        p.not_before,
        Some(thursday_noon() + chrono::Duration::seconds(60))
    );
    // vip's call cut short: redial calls vip again at once; next moves on to am.
    let steps = [
        past("hotline", 1, Some(Outcome::Busy), false),
        past("vip", 1, Some(Outcome::Failed), true),
    ];
    let p = resume_position(&rungs, &steps, Redial);
    assert_eq!((p.rung, p.attempt, p.not_before), (1, 2, None));
    assert_eq!(p.cut.as_deref(), Some("vip"));
    let p = resume_position(&rungs, &steps, Next);
    assert_eq!((p.rung, p.attempt), (2, 1));
    assert_eq!(p.cut.as_deref(), Some("vip"));
    // A skipped contact: the one after it.
    let p = resume_position(&rungs, &[past("vip", 1, None, false)], Redial);
    assert_eq!(p.rung, 2);
    // A contact since removed from the dialplan: from the top.
    let p = resume_position(
        &rungs,
        &[past("gone", 1, Some(Outcome::Busy), false)],
        Redial,
    );
    assert_eq!(p.rung, 0);
}

#[test]
fn a_resumed_ladder_dials_from_its_position_and_waits_for_a_pending_retry() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    let at = Position {
        rung: 1,
        attempt: 2,
        not_before: None,
        cut: Some("vip".into()),
        why: String::new(),
    };
    l.resume(now, &at);
    assert_eq!(dialled(&drain(&mut l)), ["vip#2"]);
    // The redial fails: vip had 1 retry, attempt 2 used it: on to am.
    l.handle_input(now, ended(Outcome::Busy, false));
    assert_eq!(dialled(&drain(&mut l)), ["am#1"]);

    let mut l = Ladder::new(three());
    let later = now + chrono::Duration::seconds(30);
    l.resume(
        now,
        &Position {
            not_before: Some(later),
            ..at.clone()
        },
    );
    assert!(drain(&mut l).is_empty());
    assert_eq!(l.poll_timeout(), Some(later));
    l.handle_timeout(later);
    assert_eq!(dialled(&drain(&mut l)), ["vip#2"]);

    // Past the last contact: exhausted at once.
    let mut l = Ladder::new(three());
    l.resume(
        now,
        &Position {
            rung: 3,
            attempt: 1,
            ..at
        },
    );
    assert!(matches!(
        drain(&mut l).last(),
        Some(Output::Finished(LadderEnd::Exhausted))
    ));
}
