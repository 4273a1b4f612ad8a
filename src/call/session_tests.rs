//! Session timers (RFC 4028), hold / unhold and far-end refreshes in simulated time: calls
//! of 15, 30 and 60 minutes without a socket or a sleep.

use super::session_timer::{Refresher, SessionExpires, TimerHeaders};
use super::tests::{ANSWER_SDP, Sim, params, sdp_with};
use super::*;
use std::time::Duration;

const MIN: Duration = Duration::from_secs(60);

/// A call that waits two hours after answer (the menu never hangs up first).
fn long_call() -> Sim {
    let mut p = params(vec![MenuStep::Wait(120 * MIN)], false);
    p.max_duration = 180 * MIN;
    p.session_expires = Some(SESSION_EXPIRES);
    Sim::new(p)
}

fn headers(secs: u32, refresher: Option<Refresher>, update: bool) -> TimerHeaders {
    TimerHeaders {
        session_expires: Some(SessionExpires { secs, refresher }),
        min_se: None,
        supports_timer: true,
        allows_update: update,
    }
}

fn with_timer(i: Input, t: TimerHeaders) -> Input {
    match i {
        Input::Response(mut r) => {
            r.timer = t;
            Input::Response(r)
        }
        Input::Request(mut r) => {
            r.timer = t;
            Input::Request(r)
        }
        other => other,
    }
}

/// Rings, then a 200 OK with these session-timer headers.
fn answer_with(s: &mut Sim, t: TimerHeaders) {
    let r = s.invite_resp(180, None);
    s.input(r);
    let r = with_timer(s.invite_resp(200, Some(ANSWER_SDP)), t);
    s.input(r);
}

fn count(s: &Sim, kind: &str) -> usize {
    s.events().iter().filter(|k| **k == kind).count()
}

#[test]
fn our_invite_offers_a_session_timer() {
    let s = long_call();
    let invite = &s.sent_requests(Method::Invite)[0];
    let t = invite.timer.expect("session timer offered");
    assert_eq!(t.expires.secs, SESSION_EXPIRES);
    assert_eq!(
        t.expires.refresher, None,
        "the answerer picks the refresher"
    );
    assert_eq!(t.min_se, MIN_SE);
    // Off in params: nothing offered.
    let s = Sim::new(params(vec![], false));
    assert_eq!(s.sent_requests(Method::Invite)[0].timer, None);
}

/// We are the refresher: a re-INVITE (with our SDP) every 15 minutes keeps the call up.
fn refreshed_by_us(minutes: u32) {
    let mut s = long_call();
    answer_with(&mut s, headers(1800, Some(Refresher::Uac), false));
    assert!(s.events().contains(&"session_timer"));
    let mut refreshes = 0;
    let end = s.now + minutes * MIN;
    while s.now + 15 * MIN <= end {
        s.advance(15 * MIN);
        let sent = s.sent_requests(Method::Invite);
        let re = sent.last().expect("a refresh").clone();
        assert_eq!(sent.len(), 2 + refreshes, "one refresh per half interval");
        assert!(re.cseq > 1 && re.to_tag.is_some(), "in the dialog");
        assert!(re.sdp.as_deref().is_some_and(|b| b.contains("a=sendrecv")));
        let t = re.timer.expect("session-expires on the refresh");
        assert_eq!(t.expires.refresher, Some(Refresher::Uac));
        let ok = with_timer(
            s.resp(200, Method::Invite, re.cseq, Some(ANSWER_SDP)),
            headers(1800, Some(Refresher::Uac), false),
        );
        s.input(ok);
        refreshes += 1;
        let acks = s.sent_requests(Method::Ack);
        assert_eq!(acks.last().map(|a| a.cseq), Some(re.cseq), "2xx ACKed");
    }
    assert_eq!(refreshes as u32, minutes / 15);
    assert!(
        s.call.termination().is_none(),
        "still up after {minutes} min"
    );
    assert!(s.sent_requests(Method::Bye).is_empty());
    assert_eq!(count(&s, "session_refreshed"), refreshes);
}

#[test]
fn a_15_minute_call_we_refresh() {
    refreshed_by_us(15);
}

#[test]
fn a_30_minute_call_we_refresh() {
    refreshed_by_us(30);
}

#[test]
fn a_60_minute_call_we_refresh() {
    refreshed_by_us(60);
}

#[test]
fn update_refreshes_when_the_far_end_allows_it() {
    let mut s = long_call();
    answer_with(&mut s, headers(90, None, true));
    s.advance(Duration::from_secs(45));
    let up = s.sent_requests(Method::Update);
    assert_eq!(up.len(), 1, "UPDATE at half of 90 s");
    assert_eq!(up[0].sdp, None, "no offer in a refresh UPDATE");
    assert_eq!(s.sent_requests(Method::Invite).len(), 1, "no re-INVITE");
    let ok = with_timer(
        s.resp(200, Method::Update, up[0].cseq, None),
        headers(90, Some(Refresher::Uac), true),
    );
    s.input(ok);
    assert_eq!(
        s.sent_requests(Method::Ack).len(),
        1,
        "UPDATE's 2xx is not ACKed"
    );
    // 30 minutes of UPDATEs every 45 s.
    for _ in 0..39 {
        s.advance(Duration::from_secs(45));
        let up = s.sent_requests(Method::Update);
        let last = up.last().expect("update").cseq;
        let ok = with_timer(
            s.resp(200, Method::Update, last, None),
            headers(90, Some(Refresher::Uac), true),
        );
        s.input(ok);
    }
    assert_eq!(s.sent_requests(Method::Update).len(), 40);
    assert!(s.call.termination().is_none());
}

#[test]
fn update_refused_falls_back_to_reinvite() {
    let mut s = long_call();
    answer_with(&mut s, headers(90, Some(Refresher::Uac), true));
    s.advance(Duration::from_secs(45));
    let up = s.sent_requests(Method::Update);
    let no = s.resp(501, Method::Update, up[0].cseq, None);
    s.input(no);
    let invites = s.sent_requests(Method::Invite);
    assert_eq!(invites.len(), 2, "re-INVITE at once");
    assert!(invites[1].sdp.is_some());
}

#[test]
fn the_far_end_that_never_refreshes_is_hung_up_before_expiry() {
    let mut s = long_call();
    answer_with(&mut s, headers(90, Some(Refresher::Uas), false));
    s.advance(Duration::from_secs(59));
    assert!(s.sent_requests(Method::Bye).is_empty());
    assert!(
        s.sent_requests(Method::Invite).len() == 1,
        "we do not refresh"
    );
    s.advance(Duration::from_secs(1));
    // §10: 90 s less min(32, 90/3) = 60 s.
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
    assert!(s.events().contains(&"session_expired"));
    let bye = s.sent_requests(Method::Bye).remove(0);
    let r = s.resp(200, Method::Bye, bye.cseq, None);
    s.input(r);
    let t = s.termination();
    assert_eq!(t.result, Outcome::Answered);
    assert_eq!(t.hangup_by, Some(Party::Local));
    assert!(
        t.reason.contains("no refresh from the far end"),
        "{}",
        t.reason
    );
}

#[test]
fn far_end_refreshes_keep_a_60_minute_call_up() {
    let mut s = long_call();
    answer_with(&mut s, headers(1800, Some(Refresher::Uas), false));
    for i in 0..4u32 {
        s.advance(15 * MIN);
        let cseq = 10 + i;
        let re = s.request(Method::Invite, cseq, Some(ANSWER_SDP));
        let re = with_timer(re, headers(1800, Some(Refresher::Uac), false));
        s.input(re);
        let ok = s.responses().last().cloned().expect("answered");
        assert_eq!(ok.status, 200);
        let t = ok.timer.expect("session-expires in our 2xx");
        assert_eq!(t.expires.secs, 1800);
        assert_eq!(
            t.expires.refresher,
            Some(Refresher::Uac),
            "they stay refresher"
        );
        assert!(t.require);
        let ack = s.request(Method::Ack, cseq, None);
        s.input(ack);
    }
    assert!(s.call.termination().is_none(), "up after 60 min");
    assert!(s.sent_requests(Method::Bye).is_empty());
    // Then they stop: the BYE comes 1768 s after their last refresh.
    s.advance(Duration::from_secs(1767));
    assert!(s.sent_requests(Method::Bye).is_empty());
    s.advance(Duration::from_secs(1));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
}

#[test]
fn far_end_update_without_sdp_refreshes_and_keeps_the_hold() {
    let mut s = long_call();
    answer_with(&mut s, headers(1800, Some(Refresher::Uas), true));
    let hold = s.request(Method::Invite, 5, Some(&sdp_with("a=sendonly")));
    s.input(hold);
    let ack = s.request(Method::Ack, 5, None);
    s.input(ack);
    assert!(s.events().contains(&"hold"));
    let before = s.media().len();
    s.advance(10 * MIN);
    let up = with_timer(
        s.request(Method::Update, 6, None),
        headers(1800, Some(Refresher::Uac), true),
    );
    s.input(up);
    let ok = s.responses().last().cloned().expect("answered");
    assert_eq!(
        (ok.status, ok.sdp.as_deref()),
        (200, None),
        "no offer, no answer"
    );
    assert_eq!(
        s.media().len(),
        before,
        "direction untouched: still on hold"
    );
    assert!(!s.events().contains(&"unhold"));
    s.advance(25 * MIN);
    assert!(
        s.sent_requests(Method::Bye).is_empty(),
        "the UPDATE refreshed it"
    );
}

#[test]
fn hold_and_unhold_are_on_the_timeline() {
    let mut s = long_call();
    s.answer();
    for (cseq, dir) in [(5, "a=sendonly"), (6, "a=sendrecv"), (7, "a=inactive")] {
        let re = s.request(Method::Invite, cseq, Some(&sdp_with(dir)));
        s.input(re);
        let ack = s.request(Method::Ack, cseq, None);
        s.input(ack);
    }
    let marks: Vec<_> = s
        .events()
        .into_iter()
        .filter(|k| matches!(*k, "hold" | "unhold"))
        .collect();
    assert_eq!(marks, ["hold", "unhold", "hold"]);
    let dirs: Vec<_> = s
        .media()
        .into_iter()
        .filter_map(|m| match m {
            MediaCommand::Direction(d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(dirs, ["recvonly", "sendrecv", "inactive"]);
    // Nothing set a session timer: none runs.
    assert!(!s.events().contains(&"session_timer"));
}

#[test]
fn interval_too_small_retries_once_with_min_se() {
    let mut s = long_call();
    let first = s.sent_requests(Method::Invite)[0].clone();
    let mut too_small = s.invite_resp(422, None);
    if let Input::Response(r) = &mut too_small {
        r.timer.min_se = Some(3600);
    }
    s.input(too_small.clone());
    let invites = s.sent_requests(Method::Invite);
    assert_eq!(invites.len(), 2, "retried");
    let t = invites[1].timer.expect("timer");
    assert_eq!((t.expires.secs, t.min_se), (3600, 3600));
    assert!(invites[1].cseq > first.cseq && invites[1].branch != first.branch);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1, "the 422 ACKed");
    assert!(s.events().contains(&"interval_too_small"));
    // A second 422 ends the attempt.
    let mut again = s.invite_resp(422, None);
    if let Input::Response(r) = &mut again {
        r.timer.min_se = Some(7200);
    }
    s.input(again);
    assert_eq!(s.sent_requests(Method::Invite).len(), 2, "only once");
    assert_eq!(s.termination().code, Some(422));
}

#[test]
fn interval_too_small_then_success() {
    let mut s = long_call();
    let mut too_small = s.invite_resp(422, None);
    if let Input::Response(r) = &mut too_small {
        r.timer.min_se = Some(1900);
    }
    s.input(too_small);
    answer_with(&mut s, headers(1900, Some(Refresher::Uac), false));
    assert!(s.call.dialog_state().is_some(), "answered");
    s.advance(Duration::from_secs(950));
    assert_eq!(
        s.sent_requests(Method::Invite).len(),
        3,
        "refreshed at 950 s"
    );
}

#[test]
fn glare_retries_and_a_lost_dialog_hangs_up() {
    let mut s = long_call();
    answer_with(&mut s, headers(90, Some(Refresher::Uac), false));
    s.advance(Duration::from_secs(45));
    let re = s
        .sent_requests(Method::Invite)
        .last()
        .cloned()
        .expect("refresh");
    let glare = s.resp(491, Method::Invite, re.cseq, None);
    s.input(glare);
    assert_eq!(
        s.sent_requests(Method::Ack).last().map(|a| &a.branch),
        Some(&re.branch),
        "a non-2xx is ACKed in its transaction"
    );
    s.advance(Duration::from_millis(2500));
    let again = s.sent_requests(Method::Invite);
    assert_eq!(again.len(), 3, "tried again after 2.5 s");
    let gone = s.resp(481, Method::Invite, again[2].cseq, None);
    s.input(gone);
    assert_eq!(s.sent_requests(Method::Bye).len(), 1, "dialog gone: BYE");
}

#[test]
fn an_unanswered_refresh_is_retransmitted_then_ends_the_call() {
    let mut s = long_call();
    answer_with(&mut s, headers(1800, Some(Refresher::Uac), false));
    s.advance(15 * MIN);
    assert_eq!(s.sent_requests(Method::Invite).len(), 2);
    s.advance(Duration::from_millis(1600));
    // T1, 2*T1 after: 0.5 s and 1.5 s.
    assert_eq!(s.sent_requests(Method::Invite).len(), 4, "retransmitted");
    // 64*T1 = 32 s after the refresh left (1.6 s ago).
    s.advance(Duration::from_millis(30_300));
    assert!(s.sent_requests(Method::Bye).is_empty(), "not before 64*T1");
    s.advance(Duration::from_millis(200));
    assert_eq!(count(&s, "bye_sent"), 1, "64*T1 without an answer");
}

#[test]
fn early_media_is_retargeted_by_a_different_answer() {
    let mut s = long_call();
    let early = s.invite_resp(183, Some(ANSWER_SDP));
    s.input(early);
    let moved = ANSWER_SDP.replace("m=audio 6000", "m=audio 7000");
    let r = s.invite_resp(200, Some(&moved));
    s.input(r);
    let starts: Vec<_> = s
        .media()
        .into_iter()
        .filter_map(|m| match m {
            MediaCommand::Start { early, remote, .. } => Some((early, remote.port())),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [(true, 6000), (false, 7000)]);
    assert!(s.events().contains(&"early_media"));
}
