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

/// A call that ended with `result`; `completed`: its menu ran to the end.
fn ended(result: Outcome, completed: bool) -> Input {
    let reached = if completed {
        vec![Reached::MenuCompleted]
    } else {
        Vec::new()
    };
    ended_with(result, reached)
}

fn ended_with(result: Outcome, reached: Vec<Reached>) -> Input {
    Input::CallEnded(CallOutcome {
        call_id: format!("c-{result:?}"),
        result,
        reached,
        side: crate::call::Side::Vendor,
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
        holidays: Default::default(),
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

/// Issue 20 item 4: at 07:30 the local center (opening 08:00) was skipped, the hotline
/// failed and a P0 ticket went out. Now the ladder waits for the center to open and calls it.
#[test]
fn a_contact_that_opens_soon_is_called_when_it_opens() {
    let berlin = |h, m| {
        Utc.with_ymd_and_hms(2026, 11, 26, h, m, 0).unwrap() // Thursday; CET = UTC+1
    };
    let center = Hours::Windows {
        tz: "Europe/Berlin".parse().expect("tz"),
        windows: vec![Window::parse("mon-fri 08:00-18:00").expect("w")],
        holidays: Default::default(),
    };
    let rungs = vec![
        rung("hotline", 0, 0, Hours::Always),
        rung("local-center", 0, 0, center),
    ];
    let now = berlin(6, 30); // 07:30 in Berlin
    let mut l = Ladder::new(rungs.clone()).wait_for_open(Duration::from_secs(3600));
    l.start(now);
    assert_eq!(dialled(&drain(&mut l)), ["hotline#1"]);
    l.handle_input(now, ended(Outcome::Rejected, false));
    let out = drain(&mut l);
    assert!(
        matches!(&out[1], Output::Skipped { contact, .. } if contact == "local-center"),
        "{out:?}"
    );
    let opens = berlin(7, 0);
    assert_eq!(
        out.last(),
        Some(&Output::WaitingForOpen {
            contact: "local-center".into(),
            until: opens
        })
    );
    assert!(!out.iter().any(|o| matches!(o, Output::Finished(_))));
    assert_eq!(l.poll_timeout(), Some(opens));
    l.handle_timeout(berlin(6, 59));
    assert!(drain(&mut l).is_empty(), "not before it opens");
    l.handle_timeout(opens);
    assert_eq!(dialled(&drain(&mut l)), ["local-center#1"]);
    l.handle_input(opens, ended(Outcome::NoAnswer, false));
    assert_eq!(
        drain(&mut l).last(),
        Some(&Output::Finished(LadderEnd::Exhausted)),
        "each closed contact is waited for once"
    );

    // Beyond the limit (or with it off) the ladder ends exhausted as before.
    for limit in [Duration::from_secs(20 * 60), Duration::ZERO] {
        let mut l = Ladder::new(rungs.clone()).wait_for_open(limit);
        l.start(now);
        drain(&mut l);
        l.handle_input(now, ended(Outcome::Rejected, false));
        assert_eq!(
            drain(&mut l).last(),
            Some(&Output::Finished(LadderEnd::Exhausted))
        );
    }

    // Resolved while waiting: stopped, nothing dialled.
    let mut l = Ladder::new(rungs).wait_for_open(Duration::from_secs(3600));
    l.start(now);
    drain(&mut l);
    l.handle_input(now, ended(Outcome::Rejected, false));
    drain(&mut l);
    l.handle_input(now, Input::Stop("resolved".into()));
    assert_eq!(
        drain(&mut l),
        [Output::Finished(LadderEnd::Stopped {
            reason: "resolved".into()
        })]
    );
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

fn finished(out: &[Output]) -> Option<&LadderEnd> {
    out.iter().find_map(|o| match o {
        Output::Finished(e) => Some(e),
        _ => None,
    })
}

/// Issue 20.1: the briefing finished, the repeat was playing, the vendor hung up: the call
/// took the incident (no next contact, no exhaustion, no ticket).
#[test]
fn a_far_end_hang_up_after_the_briefing_played_is_a_success() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    l.handle_input(
        now,
        ended_with(Outcome::Answered, vec![Reached::BriefingPlayed]),
    );
    let out = drain(&mut l);
    assert!(dialled(&out).is_empty(), "{out:?}");
    assert!(
        !out.iter().any(|o| matches!(o, Output::Failed { .. })),
        "{out:?}"
    );
    assert!(
        matches!(finished(&out), Some(LadderEnd::Taken { contact, by: Reached::BriefingPlayed, .. }) if contact == "hotline"),
        "{out:?}"
    );
}

#[test]
fn an_operator_joining_takes_the_incident_even_before_the_briefing_ends() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    l.handle_input(
        now,
        ended_with(Outcome::Answered, vec![Reached::OperatorJoined]),
    );
    assert!(matches!(
        finished(&drain(&mut l)),
        Some(LadderEnd::Taken {
            by: Reached::OperatorJoined,
            ..
        })
    ));
}

#[test]
fn only_the_configured_facts_stop_the_ladder() {
    let now = thursday_noon();
    let mut l = Ladder::new(three()).stop_when(&[Reached::OperatorJoined]);
    l.start(now);
    drain(&mut l);
    // The briefing played but nobody joined: this ladder wants an operator.
    l.handle_input(
        now,
        ended_with(
            Outcome::Answered,
            vec![Reached::BriefingPlayed, Reached::MenuCompleted],
        ),
    );
    assert_eq!(dialled(&drain(&mut l)), ["vip#1"]);
    l.handle_input(
        now,
        ended_with(
            Outcome::Answered,
            vec![Reached::BriefingPlayed, Reached::OperatorJoined],
        ),
    );
    assert!(matches!(
        finished(&drain(&mut l)),
        Some(LadderEnd::Taken { contact, by: Reached::OperatorJoined, .. }) if contact == "vip"
    ));
}

#[test]
fn an_answered_call_that_reached_nothing_moves_on_and_a_reached_one_while_draining_takes_it() {
    let now = thursday_noon();
    let mut l = Ladder::new(three());
    l.start(now);
    drain(&mut l);
    // Answered, hung up during the greeting: not reached.
    l.handle_input(now, ended_with(Outcome::Answered, Vec::new()));
    assert_eq!(dialled(&drain(&mut l)), ["vip#1"]);
    l.handle_input(now, Input::Drain("stopping".into()));
    l.handle_input(
        now,
        ended_with(Outcome::Answered, vec![Reached::BriefingPlayed]),
    );
    assert!(matches!(
        finished(&drain(&mut l)),
        Some(LadderEnd::Taken { contact, .. }) if contact == "vip"
    ));
}

mod from_the_record {
    //! The facts read from a call record built as the call task builds it.
    use super::super::{Reached, reached_in};
    use crate::call::{BRIEFING, CallRecord, Clock, EventKind, Outcome};
    use std::time::Duration;

    fn record(events: Vec<(u64, EventKind)>) -> CallRecord {
        let clock = Clock::now();
        let mut rec = CallRecord::new(
            "c1",
            "dell",
            "hotline",
            "sip:hotline@127.0.0.1",
            Duration::from_secs(15),
            "r.wav",
            clock,
        );
        let t0 = clock.instant;
        rec.push(
            t0,
            EventKind::InviteSent {
                cseq: 1,
                authenticated: false,
            },
        );
        for (ms, kind) in events {
            rec.push(t0 + Duration::from_millis(ms), kind);
        }
        rec
    }

    fn briefing(finished: bool) -> EventKind {
        let source = BRIEFING.to_string();
        if finished {
            EventKind::PlaybackFinished { source }
        } else {
            EventKind::PlaybackStarted { source }
        }
    }

    fn answered() -> EventKind {
        EventKind::Answered { code: 200 }
    }

    /// The run from the issue: answered, briefing to 89.5 s, operator at 55 s, repeat at
    /// 92.5 s, far end hung up at 152 s.
    #[test]
    fn the_issue_20_call_reached_the_vendor_twice_over() {
        let rec = record(vec![
            (4_000, answered()),
            (4_100, briefing(false)),
            (
                55_000,
                EventKind::OperatorJoined {
                    leg: "leg-1".into(),
                    name: "sre".into(),
                    via: "webrtc".into(),
                    listen_only: false,
                },
            ),
            (89_500, briefing(true)),
            (
                92_500,
                EventKind::BriefingRepeated {
                    reason: "silence".into(),
                },
            ),
            (152_000, EventKind::ByeReceived),
            (
                152_000,
                EventKind::Ended {
                    result: Outcome::Answered,
                },
            ),
        ]);
        assert_eq!(
            reached_in(&rec),
            [Reached::OperatorJoined, Reached::BriefingPlayed]
        );
    }

    #[test]
    fn a_briefing_cut_short_or_stopped_by_a_take_over_and_a_listener_do_not_count() {
        let hung_up_mid_briefing = record(vec![
            (4_000, answered()),
            (4_100, briefing(false)),
            (30_000, EventKind::ByeReceived),
        ]);
        assert!(reached_in(&hung_up_mid_briefing).is_empty());
        let listener = record(vec![
            (4_000, answered()),
            (
                5_000,
                EventKind::OperatorJoined {
                    leg: "leg-1".into(),
                    name: "auditor".into(),
                    via: "webrtc".into(),
                    listen_only: true,
                },
            ),
        ]);
        assert!(reached_in(&listener).is_empty());
        // A take-over stops the briefing (its playback reports finished): that is the
        // operator's doing, not a briefing heard in full.
        let take_over = record(vec![
            (4_000, answered()),
            (4_100, briefing(false)),
            (
                9_000,
                EventKind::OperatorTookOver {
                    leg: "leg-1".into(),
                },
            ),
            (9_000, EventKind::MenuDone),
            (9_020, briefing(true)),
        ]);
        assert_eq!(reached_in(&take_over), [Reached::MenuCompleted]);
        // Nothing without an answer.
        let unanswered = record(vec![(9_000, briefing(true))]);
        assert!(reached_in(&unanswered).is_empty());
    }
}

mod overlap {
    //! The overlap strategy in simulated time: SLA miss starts the next contact, the first
    //! to answer wins, the rest are cancelled.
    use super::super::*;
    use super::{rung, thursday_noon};
    use crate::call::{Outcome, Side};
    use crate::dialplan::Hours;
    use chrono::Duration as D;
    use chrono::{TimeZone, Utc};
    use std::time::Duration;

    fn ladder() -> Overlap {
        let rungs = vec![
            rung("hotline", 1, 0, Hours::Always),
            rung("vip", 0, 0, Hours::Always),
            rung("am", 0, 0, Hours::Always),
        ];
        let slas = vec![Duration::from_secs(15); 3];
        Overlap::new(rungs, slas)
    }

    fn out(l: &mut Overlap) -> Vec<OverlapOutput> {
        std::iter::from_fn(|| l.poll_output()).collect()
    }

    fn dials(o: &[OverlapOutput]) -> Vec<(u32, String)> {
        o.iter()
            .filter_map(|o| match o {
                OverlapOutput::Dial { call, contact, .. } => Some((*call, contact.clone())),
                _ => None,
            })
            .collect()
    }

    fn cancels(o: &[OverlapOutput]) -> Vec<u32> {
        o.iter()
            .filter_map(|o| match o {
                OverlapOutput::Cancel { call, reason } => {
                    assert_eq!(reason, LOST_RACE);
                    Some(*call)
                }
                _ => None,
            })
            .collect()
    }

    fn ended(call: u32, result: Outcome, reached: Vec<Reached>) -> OverlapInput {
        OverlapInput::Ended {
            call,
            outcome: CallOutcome {
                call_id: format!("c{call}"),
                result,
                reached,
                side: Side::Vendor,
                reason: String::new(),
            },
        }
    }

    fn end_of(o: &[OverlapOutput]) -> Option<&LadderEnd> {
        o.iter().find_map(|o| match o {
            OverlapOutput::Finished(e) => Some(e),
            _ => None,
        })
    }

    #[test]
    fn an_sla_miss_starts_the_next_contact_and_the_first_keeps_ringing() {
        let t0 = thursday_noon();
        let mut l = ladder();
        l.start(t0);
        assert_eq!(dials(&out(&mut l)), [(1, "hotline".into())]);
        assert_eq!(l.poll_timeout(), Some(t0 + D::seconds(15)));
        l.handle_timeout(t0 + D::seconds(14));
        assert!(out(&mut l).is_empty());
        l.handle_timeout(t0 + D::seconds(15));
        let o = out(&mut l);
        assert_eq!(dials(&o), [(2, "vip".into())]);
        assert!(cancels(&o).is_empty(), "the first keeps ringing: {o:?}");
        assert_eq!(l.poll_timeout(), Some(t0 + D::seconds(30)));
        // The first rings out at its own ring_timeout: nothing new, vip still rings.
        l.handle_input(t0 + D::seconds(45), ended(1, Outcome::NoAnswer, vec![]));
        let o = out(&mut l);
        assert!(dials(&o).is_empty(), "{o:?}");
        assert!(matches!(o[0], OverlapOutput::Failed { call: 1, .. }));
    }

    /// The race: hotline answers late, after vip was started: hotline wins, vip is
    /// cancelled; then the briefing plays and the ladder is done.
    #[test]
    fn the_first_to_answer_wins_and_the_others_are_cancelled() {
        let t0 = thursday_noon();
        let mut l = ladder();
        l.start(t0);
        l.handle_timeout(t0 + D::seconds(15));
        l.handle_timeout(t0 + D::seconds(30));
        assert_eq!(
            dials(&out(&mut l)),
            [(1, "hotline".into()), (2, "vip".into()), (3, "am".into())]
        );
        l.handle_input(t0 + D::seconds(33), OverlapInput::Answered { call: 1 });
        let o = out(&mut l);
        assert_eq!(cancels(&o), [2, 3]);
        assert_eq!(l.poll_timeout(), None, "no escalation once answered");
        // A late answer on a cancelled call does not change the winner.
        l.handle_input(t0 + D::seconds(33), OverlapInput::Answered { call: 2 });
        assert!(out(&mut l).is_empty());
        l.handle_input(t0 + D::seconds(34), ended(2, Outcome::Cancelled, vec![]));
        l.handle_input(t0 + D::seconds(34), ended(3, Outcome::Cancelled, vec![]));
        let o = out(&mut l);
        assert!(dials(&o).is_empty() && end_of(&o).is_none(), "{o:?}");
        l.handle_input(
            t0 + D::seconds(90),
            ended(1, Outcome::Answered, vec![Reached::BriefingPlayed]),
        );
        assert!(matches!(
            end_of(&out(&mut l)),
            Some(LadderEnd::Taken { contact, by: Reached::BriefingPlayed, .. }) if contact == "hotline"
        ));
        assert!(l.is_done());
    }

    #[test]
    fn a_failure_before_the_sla_moves_on_at_once_and_exhaustion_waits_for_the_ringing() {
        let t0 = thursday_noon();
        let mut l = ladder();
        l.start(t0);
        out(&mut l);
        // hotline busy at 2 s (retries do not apply): vip at once.
        l.handle_input(t0 + D::seconds(2), ended(1, Outcome::Busy, vec![]));
        assert_eq!(dials(&out(&mut l)), [(2, "vip".into())]);
        // vip misses its SLA: am starts; am is rejected at once: no contact left, but vip
        // still rings, so not exhausted yet.
        l.handle_timeout(t0 + D::seconds(17));
        assert_eq!(dials(&out(&mut l)), [(3, "am".into())]);
        l.handle_input(t0 + D::seconds(18), ended(3, Outcome::Rejected, vec![]));
        let o = out(&mut l);
        assert!(end_of(&o).is_none(), "{o:?}");
        l.handle_input(t0 + D::seconds(47), ended(2, Outcome::NoAnswer, vec![]));
        assert_eq!(end_of(&out(&mut l)), Some(&LadderEnd::Exhausted));
    }

    #[test]
    fn an_answer_that_did_not_reach_the_vendor_moves_on() {
        let t0 = thursday_noon();
        let mut l = ladder();
        l.start(t0);
        l.handle_timeout(t0 + D::seconds(15));
        out(&mut l);
        l.handle_input(t0 + D::seconds(16), OverlapInput::Answered { call: 2 });
        assert_eq!(cancels(&out(&mut l)), [1]);
        // vip hung up during the greeting; hotline's CANCEL completes.
        l.handle_input(t0 + D::seconds(18), ended(2, Outcome::Answered, vec![]));
        assert_eq!(dials(&out(&mut l)), [(3, "am".into())]);
        l.handle_input(t0 + D::seconds(18), ended(1, Outcome::Cancelled, vec![]));
        let o = out(&mut l);
        assert!(dials(&o).is_empty() && end_of(&o).is_none(), "{o:?}");
    }

    #[test]
    fn stop_cancels_every_call_and_ends_when_they_have_ended() {
        let t0 = thursday_noon();
        let mut l = ladder();
        l.start(t0);
        l.handle_timeout(t0 + D::seconds(15));
        out(&mut l);
        l.handle_input(t0 + D::seconds(20), OverlapInput::Stop("resolved".into()));
        let o = out(&mut l);
        let stopped: Vec<u32> = o
            .iter()
            .filter_map(|o| match o {
                OverlapOutput::Cancel { call, reason } if reason == "resolved" => Some(*call),
                _ => None,
            })
            .collect();
        assert_eq!(stopped, [1, 2]);
        assert_eq!(l.poll_timeout(), None);
        l.handle_input(t0 + D::seconds(20), ended(1, Outcome::Cancelled, vec![]));
        assert!(end_of(&out(&mut l)).is_none());
        l.handle_input(t0 + D::seconds(21), ended(2, Outcome::Cancelled, vec![]));
        let o = out(&mut l);
        assert!(dials(&o).is_empty());
        assert_eq!(
            end_of(&o),
            Some(&LadderEnd::Stopped {
                reason: "resolved".into()
            })
        );
    }

    #[test]
    fn closed_contacts_are_skipped() {
        let t0 = thursday_noon(); // 20:00 in Shanghai
        let office = Hours::Windows {
            tz: "Asia/Shanghai".parse().expect("tz"),
            windows: vec![crate::dialplan::Window::parse("mon-fri 09:00-18:00").expect("w")],
            holidays: Default::default(),
        };
        let mut l = Overlap::new(
            vec![
                rung("local", 0, 0, office),
                rung("hotline", 0, 0, Hours::Always),
            ],
            vec![Duration::from_secs(15); 2],
        );
        l.start(t0);
        let o = out(&mut l);
        assert!(matches!(&o[0], OverlapOutput::Skipped { contact, .. } if contact == "local"));
        assert_eq!(dials(&o), [(1, "hotline".into())]);
    }

    /// The overlap strategy waits for a contact that opens soon as the sequential one does.
    #[test]
    fn a_closed_contact_that_opens_soon_is_called_when_it_opens() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 6, 30, 0).unwrap(); // 07:30 in Berlin
        let center = Hours::Windows {
            tz: "Europe/Berlin".parse().expect("tz"),
            windows: vec![crate::dialplan::Window::parse("mon-fri 08:00-18:00").expect("w")],
            holidays: Default::default(),
        };
        let mut l = Overlap::new(
            vec![
                rung("hotline", 0, 0, Hours::Always),
                rung("center", 0, 0, center),
            ],
            vec![Duration::from_secs(15); 2],
        )
        .wait_for_open(Duration::from_secs(3600));
        l.start(now);
        assert_eq!(dials(&out(&mut l)), [(1, "hotline".into())]);
        l.handle_input(now, ended(1, Outcome::Busy, vec![]));
        let o = out(&mut l);
        let opens = Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap();
        assert!(
            o.contains(&OverlapOutput::WaitingForOpen {
                contact: "center".into(),
                until: opens
            }),
            "{o:?}"
        );
        assert!(end_of(&o).is_none());
        assert_eq!(l.poll_timeout(), Some(opens));
        l.handle_timeout(opens);
        assert_eq!(dials(&out(&mut l)), [(2, "center".into())]);
        l.handle_input(opens, ended(2, Outcome::NoAnswer, vec![]));
        let o = out(&mut l);
        // Down from the center: nothing after it; the hotline is not called twice here.
        assert_eq!(end_of(&o), Some(&LadderEnd::Exhausted), "{o:?}");
    }
}
