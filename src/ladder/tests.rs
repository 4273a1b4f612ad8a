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
