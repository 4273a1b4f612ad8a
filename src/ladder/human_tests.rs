//! The SLA on time to a person in the ladders, in simulated time: `[ladder] human_sla_miss`
//! escalate / keep, sequential and overlap, and the `person_briefed` stop.

use super::*;
use crate::call::{Outcome, Side};
use crate::dialplan::Hours;
use chrono::{Duration as D, TimeZone, Utc};
use std::time::Duration;

const SLA: Duration = Duration::from_secs(30);

fn rung(id: &str, retries: u32) -> Rung {
    Rung {
        contact: id.into(),
        retries,
        retry_after: Duration::ZERO,
        hours: Hours::Always,
    }
}

fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

fn outcome(call: &str, reached: Vec<Reached>, reason: &str) -> CallOutcome {
    CallOutcome {
        call_id: call.into(),
        result: Outcome::Answered,
        reached,
        side: Side::Gateway,
        reason: reason.into(),
    }
}

mod sequential {
    use super::*;

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

    fn hang_ups(out: &[Output]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                Output::HangUp { reason } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    fn two(policy: HumanSlaMiss) -> Ladder {
        // The first contact has retries: an SLA miss skips them (a retry would hold again).
        let mut l = Ladder::new(vec![rung("hotline", 2), rung("vip", 0)]).on_human_sla_miss(policy);
        l.start(noon());
        assert_eq!(dialled(&drain(&mut l)), ["hotline#1"]);
        l
    }

    #[test]
    fn escalate_hangs_up_the_holding_call_and_calls_the_next_contact_at_once() {
        let mut l = two(HumanSlaMiss::Escalate);
        l.handle_input(noon(), Input::HumanSlaMissed { within: SLA });
        let out = drain(&mut l);
        assert_eq!(hang_ups(&out), ["no person within 30s (SLA)"]);
        assert!(dialled(&out).is_empty(), "the next call waits for the BYE");
        // Told again (a second poll): nothing more.
        l.handle_input(noon(), Input::HumanSlaMissed { within: SLA });
        assert!(drain(&mut l).is_empty());
        let reason = "no person within 30s (SLA)";
        l.handle_input(noon(), Input::CallEnded(outcome("c1", vec![], reason)));
        let out = drain(&mut l);
        assert!(matches!(
            &out[0],
            Output::Failed { contact, outcome, .. } if contact == "hotline" && outcome.reason == reason
        ));
        assert_eq!(dialled(&out), ["vip#1"], "not hotline#2: {out:?}");
    }

    #[test]
    fn keep_records_the_miss_only_and_a_person_briefed_later_takes_the_incident() {
        let mut l = two(HumanSlaMiss::Keep);
        l.handle_input(noon(), Input::HumanSlaMissed { within: SLA });
        assert!(drain(&mut l).is_empty(), "the call holds on");
        // Minutes later a person picks up, is briefed, then hangs up.
        let reached = vec![Reached::BriefingPlayed, Reached::PersonBriefed];
        l.handle_input(
            noon(),
            Input::CallEnded(outcome("c1", reached, "far end hung up")),
        );
        let out = drain(&mut l);
        assert!(
            matches!(&out[..], [Output::Finished(LadderEnd::Taken { contact, .. })] if contact == "hotline"),
            "{out:?}"
        );
    }

    #[test]
    fn a_call_that_reached_the_vendor_while_being_hung_up_still_takes_it() {
        let mut l = two(HumanSlaMiss::Escalate);
        l.handle_input(noon(), Input::HumanSlaMissed { within: SLA });
        drain(&mut l);
        let reached = vec![Reached::OperatorJoined];
        l.handle_input(noon(), Input::CallEnded(outcome("c1", reached, "")));
        assert!(matches!(
            &drain(&mut l)[..],
            [Output::Finished(LadderEnd::Taken {
                by: Reached::OperatorJoined,
                ..
            })]
        ));
    }

    #[test]
    fn person_briefed_alone_stops_the_ladder_when_it_is_the_only_fact_counted() {
        let mut l = Ladder::new(vec![rung("hotline", 0), rung("vip", 0)])
            .stop_when(&[Reached::PersonBriefed]);
        l.start(noon());
        drain(&mut l);
        // The briefing played into hold music (no person): not reached.
        let hold = vec![Reached::BriefingPlayed, Reached::MenuCompleted];
        l.handle_input(noon(), Input::CallEnded(outcome("c1", hold, "")));
        assert_eq!(dialled(&drain(&mut l)), ["vip#1"]);
        let person = vec![Reached::BriefingPlayed, Reached::PersonBriefed];
        l.handle_input(noon(), Input::CallEnded(outcome("c2", person, "")));
        assert!(matches!(
            &drain(&mut l)[..],
            [Output::Finished(LadderEnd::Taken { by: Reached::PersonBriefed, contact, .. })] if contact == "vip"
        ));
    }
}

mod overlap {
    use super::*;

    fn ladder(human: Vec<bool>, policy: HumanSlaMiss) -> Overlap {
        let n = human.len();
        let rungs = ["hotline", "vip", "am"][..n]
            .iter()
            .map(|c| rung(c, 0))
            .collect();
        let mut l = Overlap::new(rungs, vec![SLA; n]).judged_on_human(human, policy);
        l.start(noon());
        l
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
                OverlapOutput::Cancel { call, reason } if reason == LOST_RACE => Some(*call),
                _ => None,
            })
            .collect()
    }

    fn ended(call: u32, reached: Vec<Reached>) -> OverlapInput {
        OverlapInput::Ended {
            call,
            outcome: outcome(&format!("c{call}"), reached, ""),
        }
    }

    #[test]
    fn escalate_the_first_call_with_a_person_wins_not_the_first_200_ok() {
        let mut l = ladder(vec![true, true], HumanSlaMiss::Escalate);
        assert_eq!(dials(&out(&mut l)), [(1, "hotline".into())]);
        // Answered at once by the IVR: no winner, its SLA (to a person) runs on.
        l.handle_input(noon(), OverlapInput::Answered { call: 1 });
        assert!(out(&mut l).is_empty());
        assert_eq!(l.poll_timeout(), Some(noon() + D::seconds(30)));
        // No person within 30 s: vip starts while hotline holds on.
        l.handle_timeout(noon() + D::seconds(30));
        let o = out(&mut l);
        assert_eq!(dials(&o), [(2, "vip".into())]);
        assert!(cancels(&o).is_empty(), "hotline keeps holding: {o:?}");
        l.handle_input(noon(), OverlapInput::Answered { call: 2 });
        assert!(out(&mut l).is_empty());
        // A person on vip first: hotline is hung up.
        l.handle_input(noon(), OverlapInput::Person { call: 2 });
        assert_eq!(cancels(&out(&mut l)), [1]);
        l.handle_input(noon(), ended(1, vec![]));
        let o = out(&mut l);
        assert!(
            matches!(&o[..], [OverlapOutput::Failed { call: 1, .. }]),
            "{o:?}"
        );
        l.handle_input(
            noon(),
            ended(2, vec![Reached::BriefingPlayed, Reached::PersonBriefed]),
        );
        let o = out(&mut l);
        assert!(matches!(
            &o[..],
            [OverlapOutput::Finished(LadderEnd::Taken { contact, .. })] if contact == "vip"
        ));
    }

    #[test]
    fn escalate_a_plain_contact_that_answers_beats_a_holding_one() {
        let mut l = ladder(vec![true, false], HumanSlaMiss::Escalate);
        out(&mut l);
        l.handle_input(noon(), OverlapInput::Answered { call: 1 });
        l.handle_timeout(noon() + D::seconds(30));
        assert_eq!(dials(&out(&mut l)), [(2, "vip".into())]);
        // vip is judged on its 200 OK: it wins, the holding call is hung up.
        l.handle_input(noon(), OverlapInput::Answered { call: 2 });
        assert_eq!(cancels(&out(&mut l)), [1]);
        // A person turning up on the loser afterwards changes nothing.
        l.handle_input(noon(), OverlapInput::Person { call: 1 });
        assert!(out(&mut l).is_empty());
    }

    #[test]
    fn keep_the_200_ok_wins_and_the_miss_moves_nothing() {
        let mut l = ladder(vec![true, true], HumanSlaMiss::Keep);
        out(&mut l);
        l.handle_input(noon(), OverlapInput::Answered { call: 1 });
        assert_eq!(l.poll_timeout(), None, "won at the answer: no escalation");
        l.handle_timeout(noon() + D::seconds(30));
        assert!(dials(&out(&mut l)).is_empty());
    }
}

#[test]
fn person_briefed_is_the_briefing_played_after_a_person_was_detected() {
    use crate::call::{BRIEFING, CallRecord, Clock, EventKind};
    use std::time::Instant;
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let record = |person: bool| {
        let mut r = CallRecord::new("c", "p", "c", "sip:x@y", SLA, "r.wav", Clock::now());
        r.judge_on_human();
        r.push(
            ms(0),
            EventKind::InviteSent {
                cseq: 1,
                authenticated: false,
            },
        );
        r.push(ms(300), EventKind::Answered { code: 200 });
        if person {
            r.push(
                ms(14_000),
                EventKind::HumanDetected {
                    confidence: 0.9,
                    evidence: vec![],
                    onset_ms_before: 1_500,
                },
            );
        }
        r.push(
            ms(15_000),
            EventKind::PlaybackStarted {
                source: BRIEFING.into(),
            },
        );
        r.push(
            ms(25_000),
            EventKind::PlaybackFinished {
                source: BRIEFING.into(),
            },
        );
        r
    };
    assert_eq!(
        reached_in(&record(true)),
        [Reached::PersonBriefed, Reached::BriefingPlayed]
    );
    assert_eq!(reached_in(&record(false)), [Reached::BriefingPlayed]);
    assert_eq!(Reached::PersonBriefed.name(), "person_briefed");
    assert_eq!(
        human_sla_reason(Duration::from_millis(2500)),
        "no person within 2.5s (SLA)"
    );
}
