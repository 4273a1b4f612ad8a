//! The call core in simulated time: no sockets, no sleeps.

use super::*;
use crate::media::sdp::Direction;

use std::time::{Duration, Instant};

pub(super) const ANSWER_SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\na=sendrecv\r\n";

pub(super) fn sdp_with(dir: &str) -> String {
    ANSWER_SDP.replace("a=sendrecv", dir)
}

pub(super) struct Sim {
    pub(super) call: Call,
    pub(super) now: Instant,
    pub(super) log: Vec<Output>,
    handles: u64,
}

fn trunk() -> std::net::SocketAddr {
    "127.0.0.1:5060".parse().expect("literal")
}

pub(super) fn params(menu: Vec<MenuStep>, reliable: bool) -> CallParams {
    CallParams {
        call_id: CallId("abc123".into()),
        local_tag: Tag("ltag".into()),
        reliable,
        local_media: "127.0.0.1:20000".parse().expect("literal"),
        session_id: 42,
        ring_timeout: Duration::from_secs(30),
        ring_limit: RingLimit::RingTimeout,
        max_duration: Duration::from_secs(90),
        menu,
        auth: Some(AuthPolicy {
            realms: vec![],
            trunk: trunk(),
        }),
        briefing: BriefingPolicy::default(),
        srtp: None,
        branch_key: "k7f3a9c2e".into(),
        human_sla: None,
        session_expires: None,
    }
}

impl Sim {
    pub(super) fn new(p: CallParams) -> Self {
        let now = Instant::now();
        let mut s = Self {
            call: Call::new(p, now),
            now,
            log: Vec::new(),
            handles: 0,
        };
        s.drain();
        s
    }

    pub(super) fn drain(&mut self) -> Vec<Output> {
        let mut v = Vec::new();
        while let Some(o) = self.call.poll_output() {
            v.push(o);
        }
        self.log.extend(v.iter().cloned());
        v
    }

    /// Advances simulated time by `d`, firing timers on the way.
    pub(super) fn advance(&mut self, d: Duration) -> Vec<Output> {
        let end = self.now + d;
        while let Some(t) = self.call.poll_timeout() {
            if t > end {
                break;
            }
            self.now = t;
            self.call.handle_timeout(t);
        }
        self.now = end;
        self.drain()
    }

    pub(super) fn input(&mut self, i: Input) -> Vec<Output> {
        self.call.handle_input(self.now, i);
        self.drain()
    }

    fn invite_cseq(&self) -> u32 {
        self.sent_requests(Method::Invite)
            .last()
            .map(|r| r.cseq)
            .expect("an INVITE")
    }

    fn invite_branch(&self) -> Branch {
        self.sent_requests(Method::Invite)
            .last()
            .map(|r| r.branch.clone())
            .expect("INVITE")
    }

    /// The branch of our last request of `m` (CANCEL shares the INVITE's).
    fn branch_of(&self, m: &Method) -> Branch {
        self.sent_requests(m.clone())
            .last()
            .map(|r| r.branch.clone())
            .unwrap_or_else(|| self.invite_branch())
    }

    pub(super) fn resp(&self, status: u16, method: Method, cseq: u32, sdp: Option<&str>) -> Input {
        Input::Response(Response {
            status,
            reason: reason(status).into(),
            cseq,
            branch: Some(self.branch_of(&method)),
            method,
            to_tag: (status > 100).then(|| Tag("rtag".into())),
            contact: Some("sip:vendor@127.0.0.1:5090".into()),
            record_route: vec![],
            sdp: sdp.map(str::to_string),
            challenges: vec![],
            source: Some(trunk()),
            timer: Default::default(),
        })
    }

    pub(super) fn invite_resp(&self, status: u16, sdp: Option<&str>) -> Input {
        self.resp(status, Method::Invite, self.invite_cseq(), sdp)
    }

    pub(super) fn request(&mut self, method: Method, cseq: u32, sdp: Option<&str>) -> Input {
        self.handles += 1;
        Input::Request(Request {
            method,
            cseq,
            branch: Branch(format!("z9hG4bKfar{}", self.handles)),
            to_tag: Some(Tag("ltag".into())),
            handle: RequestHandle(self.handles),
            sdp: sdp.map(str::to_string),
            timer: Default::default(),
        })
    }

    pub(super) fn sent_requests(&self, m: Method) -> Vec<OutRequest> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Send {
                    msg: Outgoing::Request(r),
                    ..
                } if r.method == m => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    pub(super) fn responses(&self) -> Vec<OutResponse> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Send {
                    msg: Outgoing::Response(r),
                    ..
                } => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    pub(super) fn events(&self) -> Vec<&'static str> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Event { kind, .. } => Some(kind.name()),
                Output::Send { note: Some(k), .. } => Some(k.name()),
                _ => None,
            })
            .collect()
    }

    pub(super) fn media(&self) -> Vec<MediaCommand> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Media(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    pub(super) fn termination(&self) -> Termination {
        self.call.termination().cloned().expect("call terminated")
    }

    /// Rings then answers, returning with the call confirmed.
    pub(super) fn answer(&mut self) {
        let r = self.invite_resp(180, None);
        self.input(r);
        self.advance(Duration::from_millis(1500));
        let r = self.invite_resp(200, Some(ANSWER_SDP));
        self.input(r);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        401 => "Unauthorized",
        486 => "Busy Here",
        487 => "Request Terminated",
        _ => "Whatever",
    }
}

#[test]
fn normal_call_walks_menu_and_hangs_up() {
    let menu = vec![
        MenuStep::Wait(Duration::from_secs(3)),
        MenuStep::Dtmf {
            digits: "2".into(),
            duration_ms: 100,
        },
        MenuStep::Play("briefing".into()),
        MenuStep::Hangup,
    ];
    let mut s = Sim::new(params(menu, false));
    assert_eq!(s.sent_requests(Method::Invite).len(), 1);
    let r = s.invite_resp(100, None);
    s.input(r);
    s.answer();
    let acks = s.sent_requests(Method::Ack);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].target.as_deref(), Some("sip:vendor@127.0.0.1:5090"));
    assert_ne!(
        acks[0].branch,
        s.invite_branch(),
        "2xx ACK is a new transaction"
    );
    assert!(matches!(
        s.media()[0],
        MediaCommand::Start { early: false, .. }
    ));
    // Wait step: nothing until 3 s pass.
    assert!(s.advance(Duration::from_millis(2999)).is_empty());
    let out = s.advance(Duration::from_millis(1));
    assert!(out.iter().any(
        |o| matches!(o, Output::Media(MediaCommand::SendDtmf { digits, .. }) if digits == "2")
    ));
    let out = s.input(Input::DtmfFinished);
    assert!(out.iter().any(
        |o| matches!(o, Output::Media(MediaCommand::Play { source }) if source == "briefing")
    ));
    s.input(Input::PlaybackFinished);
    let bye = s.sent_requests(Method::Bye);
    assert_eq!(bye.len(), 1);
    assert_eq!(bye[0].to_tag, Some(Tag("rtag".into())));
    let r = s.resp(200, Method::Bye, bye[0].cseq, None);
    s.input(r);
    let t = s.termination();
    assert_eq!(t.result, Outcome::Answered);
    assert_eq!(t.hangup_by, Some(Party::Local));
    let ev = s.events();
    let order = [
        "invite_sent",
        "provisional",
        "provisional",
        "answered",
        "ack_sent",
        "menu_step",
        "menu_step",
        "menu_step",
        "menu_step",
        "menu_done",
        "bye_sent",
        "bye_response",
        "ended",
    ];
    assert_eq!(ev, order);
    // Lingers for Timer D on UDP, then finishes.
    assert!(!s.call.is_finished());
    s.advance(Duration::from_secs(33));
    assert!(s.call.is_finished());
}

#[test]
fn busy_is_acked_in_transaction_and_named() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(486, None);
    s.input(r);
    let ack = &s.sent_requests(Method::Ack)[0];
    assert_eq!(
        ack.branch,
        s.invite_branch(),
        "non-2xx ACK reuses the INVITE branch"
    );
    assert_eq!(ack.cseq, 1);
    let t = s.termination();
    assert_eq!((t.result, t.code), (Outcome::Busy, Some(486)));
    assert_eq!(t.result.exit_code(), 3);
    // A retransmitted 486 gets another ACK and nothing else.
    let r = s.invite_resp(486, None);
    let out = s.input(r);
    assert_eq!(out.len(), 1);
    assert_eq!(s.sent_requests(Method::Ack).len(), 2);
}

#[test]
fn no_answer_cancels_at_ring_timeout() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(180, None);
    s.input(r);
    assert!(s.advance(Duration::from_millis(29_999)).is_empty());
    s.advance(Duration::from_millis(1));
    let cancel = &s.sent_requests(Method::Cancel)[0];
    assert_eq!(
        cancel.branch,
        s.invite_branch(),
        "CANCEL matches the INVITE's branch"
    );
    assert_eq!(cancel.to_tag, None);
    // CANCEL retransmits on UDP at T1 until answered.
    s.advance(Duration::from_millis(500));
    assert_eq!(s.sent_requests(Method::Cancel).len(), 2);
    let r = s.resp(200, Method::Cancel, 1, None);
    s.input(r);
    s.advance(Duration::from_secs(2));
    assert_eq!(s.sent_requests(Method::Cancel).len(), 2);
    let r = s.invite_resp(487, None);
    s.input(r);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1);
    let t = s.termination();
    assert_eq!((t.result, t.code), (Outcome::NoAnswer, Some(487)));
    assert_eq!(t.result.exit_code(), 4);
    assert_eq!(t.reason, "ring_timeout 30s reached: no answer");
}

/// Issue 20.3: a ladder caps ringing at the SLA; the reason names that timer, not the ring
/// timeout.
#[test]
fn an_sla_cap_is_named_in_the_reason_and_the_cancel() {
    let mut p = params(vec![], false);
    p.ring_timeout = Duration::from_secs(15);
    p.ring_limit = RingLimit::AnswerWithin;
    let mut s = Sim::new(p);
    let r = s.invite_resp(180, None);
    s.input(r);
    s.advance(Duration::from_secs(15));
    let cancel = &s.sent_requests(Method::Cancel)[0];
    assert_eq!(
        cancel.reason.as_deref(),
        Some("SLA answer_within 15s reached")
    );
    let r = s.invite_resp(487, None);
    s.input(r);
    assert_eq!(
        s.termination().reason,
        "SLA answer_within 15s reached: no answer"
    );
}

#[test]
fn cancel_200_race_acks_then_byes() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(180, None);
    s.input(r);
    s.advance(Duration::from_secs(30));
    assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
    let r = s.invite_resp(200, Some(ANSWER_SDP));
    s.input(r);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1);
    let bye = s.sent_requests(Method::Bye);
    assert_eq!(bye.len(), 1);
    let r = s.resp(200, Method::Bye, bye[0].cseq, None);
    s.input(r);
    let t = s.termination();
    assert_eq!(t.result, Outcome::NoAnswer);
    assert!(t.reason.contains("crossed"), "{}", t.reason);
    let ev = s.events();
    let ack = ev.iter().position(|e| *e == "ack_sent").expect("ack");
    let bye = ev.iter().position(|e| *e == "bye_sent").expect("bye");
    assert!(ack < bye);
}

#[test]
fn lost_ack_is_resent_on_200_retransmission() {
    let mut s = Sim::new(params(vec![], false));
    s.answer();
    let r = s.invite_resp(200, Some(ANSWER_SDP));
    s.input(r);
    let acks = s.sent_requests(Method::Ack);
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0], acks[1], "the same ACK, not a new transaction");
    assert_eq!(
        s.media()
            .iter()
            .filter(|m| matches!(m, MediaCommand::Start { .. }))
            .count(),
        1,
        "media is not restarted"
    );
}

#[test]
fn invite_retransmits_on_udp_until_provisional() {
    let mut s = Sim::new(params(vec![], false));
    s.advance(Duration::from_millis(500 + 1000));
    assert_eq!(s.sent_requests(Method::Invite).len(), 3, "T1, 2T1");
    let r = s.invite_resp(100, None);
    s.input(r);
    s.advance(Duration::from_secs(10));
    assert_eq!(s.sent_requests(Method::Invite).len(), 3);
    assert!(
        s.call.termination().is_none(),
        "a 100 shows the trunk is there"
    );
}

#[test]
fn tcp_never_retransmits() {
    let mut s = Sim::new(params(vec![], true));
    let r = s.invite_resp(180, None);
    s.input(r);
    s.advance(Duration::from_secs(30));
    s.advance(Duration::from_secs(5));
    assert_eq!(s.sent_requests(Method::Invite).len(), 1);
    assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
}

#[test]
fn silent_far_end_fails_at_ring_timeout_and_cancels_a_late_provisional() {
    let mut p = params(vec![], false);
    p.ring_timeout = Duration::from_secs(1);
    let mut s = Sim::new(p);
    s.advance(Duration::from_secs(1));
    assert_eq!(s.termination().result, Outcome::Failed);
    assert_eq!(
        s.termination().reason,
        "ring_timeout 1s reached: no response"
    );
    assert!(
        s.sent_requests(Method::Cancel).is_empty(),
        "no CANCEL before a provisional"
    );
    let r = s.invite_resp(180, None);
    s.input(r);
    assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
}

#[test]
fn no_response_within_two_seconds_is_trunk_unreachable() {
    for reliable in [false, true] {
        let mut p = params(vec![], reliable);
        p.ring_timeout = Duration::from_secs(60);
        let mut s = Sim::new(p);
        s.advance(Duration::from_millis(1999));
        assert!(s.call.termination().is_none());
        s.advance(Duration::from_millis(1));
        let t = s.termination();
        assert_eq!(t.result, Outcome::Failed);
        assert_eq!(
            t.reason,
            "trunk unreachable: no response to INVITE within 2s"
        );
        // A provisional that turns up later is cancelled (§9.1).
        let r = s.invite_resp(180, None);
        s.input(r);
        assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
    }
}

#[test]
fn each_invite_transaction_gets_its_own_trying_timer() {
    let mut s = Sim::new(params(vec![], false));
    s.advance(Duration::from_millis(1500));
    let r = s.challenge(
        401,
        vec![challenge("v", "n", None, false)],
        "127.0.0.1:5060",
    );
    s.input(r);
    // The authenticated INVITE left at 1.5 s: 2 s from then, not from the first one.
    s.advance(Duration::from_millis(1900));
    assert!(s.call.termination().is_none());
    s.advance(Duration::from_millis(100));
    assert!(s.termination().reason.starts_with("trunk unreachable"));
}

#[test]
fn transport_error_before_any_response_is_trunk_unreachable() {
    let mut s = Sim::new(params(vec![], true));
    s.input(Input::TransportError(
        "Connection refused (os error 111)".into(),
    ));
    let t = s.termination();
    assert_eq!(
        (t.result, t.reason.as_str()),
        (
            Outcome::Failed,
            "trunk unreachable: Connection refused (os error 111)"
        )
    );
}

fn challenge(realm: &str, nonce: &str, algorithm: Option<&str>, proxy: bool) -> Challenge {
    Challenge {
        proxy,
        realm: realm.into(),
        nonce: nonce.into(),
        opaque: None,
        algorithm: DigestAlgorithm::from_token(algorithm),
        qop: Some(DigestQop::Auth),
        stale: false,
    }
}

impl Sim {
    /// A 401/407 to the current INVITE offering `chs`, from `source`.
    fn challenge(&mut self, status: u16, chs: Vec<Challenge>, source: &str) -> Input {
        let mut r = self.invite_resp(status, None);
        if let Input::Response(resp) = &mut r {
            resp.challenges = chs;
            resp.source = Some(source.parse().expect("literal"));
        }
        r
    }
}

#[test]
fn digest_challenge_is_answered_once() {
    let mut s = Sim::new(params(vec![], false));
    let ch = challenge("v", "n", None, false);
    let r = s.challenge(401, vec![ch.clone()], "127.0.0.1:5060");
    s.input(r.clone());
    let invites = s.sent_requests(Method::Invite);
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[1].cseq, 2);
    assert_eq!(
        invites[1].auth,
        vec![Authorization {
            challenge: ch.clone(),
            nc: 1
        }]
    );
    assert_ne!(invites[1].branch, invites[0].branch);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1);
    // A second challenge is a failure, not a loop.
    let r2 = s.challenge(
        401,
        vec![challenge("v", "n2", None, false)],
        "127.0.0.1:5060",
    );
    s.input(r2);
    assert_eq!(s.sent_requests(Method::Invite).len(), 2);
    let t = s.termination();
    assert_eq!((t.result, t.code), (Outcome::Failed, Some(401)));
    assert!(t.reason.starts_with("credentials rejected"), "{t:?}");
    // A late retransmission of the first 401 (CSeq 1) is only ACKed.
    s.input(r);
    assert_eq!(s.sent_requests(Method::Invite).len(), 2);
}

#[test]
fn stale_nonce_is_retried_once_and_the_ack_keeps_the_credentials() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.challenge(
        407,
        vec![challenge("v", "n1", None, true)],
        "127.0.0.1:5060",
    );
    s.input(r);
    let mut stale = challenge("v", "n2", Some("SHA-256"), true);
    stale.stale = true;
    let r = s.challenge(407, vec![stale.clone()], "127.0.0.1:5060");
    s.input(r);
    let invites = s.sent_requests(Method::Invite);
    assert_eq!(
        invites.len(),
        3,
        "the stale nonce is not a credentials failure"
    );
    assert_eq!(invites[2].auth[0].challenge.nonce, "n2");
    assert_eq!(invites[2].auth[0].nc, 1);
    assert!(
        invites[2].auth[0].challenge.proxy,
        "a 407 is answered on Proxy-Authorization"
    );
    let ok = s.invite_resp(200, Some(ANSWER_SDP));
    s.input(ok);
    assert!(s.call.termination().is_none());
    let acks = s.sent_requests(Method::Ack);
    assert_eq!(acks.last().expect("ack").auth, invites[2].auth);
}

#[test]
fn strongest_of_several_challenges_is_answered() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.challenge(
        401,
        vec![
            challenge("v", "a", Some("MD5"), false),
            challenge("v", "b", Some("SHA-256"), false),
        ],
        "127.0.0.1:5060",
    );
    s.input(r);
    let auth = &s.sent_requests(Method::Invite)[1].auth;
    assert_eq!(auth.len(), 1);
    assert_eq!(auth[0].challenge.algorithm, DigestAlgorithm::Sha256);
}

#[test]
fn foreign_realm_is_refused_without_a_digest() {
    let mut p = params(vec![], false);
    p.auth = Some(AuthPolicy {
        realms: vec!["trunk.example".into()],
        trunk: trunk(),
    });
    let mut s = Sim::new(p);
    let r = s.challenge(
        401,
        vec![challenge("attacker.example", "n", None, false)],
        "127.0.0.1:5060",
    );
    let out = s.input(r);
    assert_eq!(s.sent_requests(Method::Invite).len(), 1, "no digest sent");
    let t = s.termination();
    assert_eq!((t.result, t.code), (Outcome::Failed, Some(401)));
    assert_eq!(
        t.reason,
        "challenge from foreign realm \"attacker.example\""
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event { kind: EventKind::ChallengeRefused { reason, .. }, .. } if reason == &t.reason
    )));
}

#[test]
fn without_realms_only_the_trunk_may_challenge() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.challenge(
        401,
        vec![challenge("any", "n", None, false)],
        "127.0.0.1:5999",
    );
    s.input(r);
    assert_eq!(s.sent_requests(Method::Invite).len(), 1, "no digest sent");
    let t = s.termination();
    assert!(t.reason.contains("not the trunk 127.0.0.1:5060"), "{t:?}");
}

#[test]
fn challenged_bye_is_answered_with_the_nonce_count_going_on() {
    let mut s = Sim::new(params(vec![MenuStep::Hangup], false));
    let ch = challenge("v", "n1", None, true);
    let r = s.challenge(407, vec![ch.clone()], "127.0.0.1:5060");
    s.input(r);
    s.answer();
    let byes = s.sent_requests(Method::Bye);
    assert_eq!(byes.len(), 1);
    assert!(
        byes[0].auth.is_empty(),
        "no credentials unasked in the dialog"
    );
    // The proxy challenges the BYE under the nonce the INVITE used: nc 2, not 1 again.
    let mut r = s.resp(407, Method::Bye, byes[0].cseq, None);
    if let Input::Response(resp) = &mut r {
        resp.branch = Some(byes[0].branch.clone());
        resp.challenges = vec![ch.clone()];
    }
    s.input(r);
    let byes = s.sent_requests(Method::Bye);
    assert_eq!(byes.len(), 2);
    assert_eq!(byes[1].cseq, byes[0].cseq + 1);
    assert_ne!(byes[1].branch, byes[0].branch);
    assert_eq!(
        byes[1].auth,
        vec![Authorization {
            challenge: ch.clone(),
            nc: 2
        }]
    );
    // Challenged again: no loop; the call ends as it was going to.
    let mut r = s.resp(407, Method::Bye, byes[1].cseq, None);
    if let Input::Response(resp) = &mut r {
        resp.branch = Some(byes[1].branch.clone());
        resp.challenges = vec![challenge("v", "n9", None, true)];
    }
    s.input(r);
    assert_eq!(s.sent_requests(Method::Bye).len(), 2);
    assert_eq!(s.termination().result, Outcome::Answered);
}

#[test]
fn challenge_without_credentials_fails_clearly() {
    let mut p = params(vec![], false);
    p.auth = None;
    let mut s = Sim::new(p);
    let r = s.challenge(
        401,
        vec![challenge("v", "n", None, false)],
        "127.0.0.1:5060",
    );
    s.input(r);
    let t = s.termination();
    assert_eq!(
        t.reason,
        "authentication required but no credentials configured"
    );
}

#[test]
fn far_end_bye_ends_the_call() {
    let mut s = Sim::new(params(vec![MenuStep::Wait(Duration::from_secs(60))], false));
    s.answer();
    let bye = s.request(Method::Bye, 7, None);
    s.input(bye.clone());
    assert_eq!(s.responses()[0].status, 200);
    let t = s.termination();
    assert_eq!(t.result, Outcome::Answered);
    assert_eq!(t.hangup_by, Some(Party::Remote));
    assert!(s.media().contains(&MediaCommand::Stop));
    // A retransmitted BYE gets the same 200 again, while lingering.
    s.input(bye);
    assert_eq!(s.responses().len(), 2);
    assert_eq!(s.responses()[1].status, 200);
}

#[test]
fn reinvite_hold_and_unhold_answered_with_sdp_and_acked() {
    let mut s = Sim::new(params(vec![], false));
    s.answer();
    let hold = s.request(Method::Invite, 2, Some(&sdp_with("a=sendonly")));
    s.input(hold);
    let r = &s.responses()[0];
    assert_eq!(r.status, 200);
    let body = r.sdp.clone().expect("answer sdp");
    assert!(body.contains("a=recvonly"), "{body}");
    assert!(
        s.media()
            .contains(&MediaCommand::Direction(Direction::RecvOnly))
    );
    // No ACK: our 200 is retransmitted (Timer G) ...
    s.advance(Duration::from_millis(500));
    assert_eq!(s.responses().len(), 2);
    // ... until the ACK arrives.
    let ack = s.request(Method::Ack, 2, None);
    s.input(ack);
    s.advance(Duration::from_secs(5));
    assert_eq!(s.responses().len(), 2);
    let unhold = s.request(Method::Invite, 3, Some(ANSWER_SDP));
    s.input(unhold);
    assert!(
        s.responses()[2]
            .sdp
            .as_deref()
            .is_some_and(|b| b.contains("a=sendrecv"))
    );
    assert!(
        s.media()
            .contains(&MediaCommand::Direction(Direction::SendRecv))
    );
    let opts = s.request(Method::Options, 4, None);
    s.input(opts);
    assert_eq!(s.responses().last().map(|r| r.status), Some(200));
    assert!(s.call.termination().is_none());
}

#[test]
fn reinvite_without_ack_ends_with_bye_after_timer_h() {
    let mut s = Sim::new(params(vec![], false));
    s.answer();
    let hold = s.request(Method::Invite, 2, Some(&sdp_with("a=sendonly")));
    s.input(hold);
    s.advance(Duration::from_secs(32));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
}

#[test]
fn early_media_starts_on_183_with_sdp() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(183, Some(ANSWER_SDP));
    s.input(r);
    assert!(matches!(
        s.media()[0],
        MediaCommand::Start { early: true, .. }
    ));
    assert!(s.events().contains(&"early_media"));
    // 200 without SDP reuses the early answer.
    let r = s.invite_resp(200, None);
    s.input(r);
    assert!(matches!(
        s.media()[1],
        MediaCommand::Start { early: false, .. }
    ));
    assert!(s.call.termination().is_none());
}

#[test]
fn unusable_answer_sdp_hangs_up() {
    let mut s = Sim::new(params(vec![], false));
    let bad = ANSWER_SDP
        .replace("RTP/AVP 0 101", "RTP/AVP 18")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    let r = s.invite_resp(200, Some(&bad));
    s.input(r);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1);
    let bye = s.sent_requests(Method::Bye);
    assert_eq!(bye.len(), 1);
    let r = s.resp(200, Method::Bye, bye[0].cseq, None);
    s.input(r);
    assert_eq!(s.termination().result, Outcome::Failed);
}

#[test]
fn redirect_is_never_followed() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(302, None);
    s.input(r);
    let t = s.termination();
    assert_eq!((t.result, t.code), (Outcome::Rejected, Some(302)));
    assert_eq!(s.sent_requests(Method::Invite).len(), 1);
}

#[test]
fn max_duration_hangs_up_and_unanswered_bye_still_ends() {
    let mut p = params(vec![], false);
    p.max_duration = Duration::from_secs(5);
    let mut s = Sim::new(p);
    s.answer();
    s.advance(Duration::from_secs(5));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
    assert!(s.events().contains(&"max_duration"));
    // BYE never answered: Timer E retransmits, Timer F gives up.
    s.advance(Duration::from_secs(32));
    assert!(s.sent_requests(Method::Bye).len() > 3);
    assert_eq!(s.termination().hangup_by, Some(Party::Local));
}

#[test]
fn hangup_while_ringing_cancels() {
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(180, None);
    s.input(r);
    s.input(Input::Hangup("incident resolved".into()));
    assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
    let r = s.invite_resp(487, None);
    s.input(r);
    assert_eq!(s.termination().result, Outcome::Cancelled);
}

#[test]
fn stray_requests_get_481_or_501() {
    let mut s = Sim::new(params(vec![], false));
    let bye = s.request(Method::Bye, 3, None);
    s.input(bye);
    assert_eq!(s.responses()[0].status, 481, "no dialog yet");
    s.answer();
    let sub = s.request(Method::Other("SUBSCRIBE".into()), 4, None);
    s.input(sub);
    assert_eq!(s.responses()[1].status, 501);
    let mut wrong = s.request(Method::Bye, 5, None);
    if let Input::Request(r) = &mut wrong {
        r.to_tag = Some(Tag("someone-else".into()));
    }
    s.input(wrong);
    assert_eq!(s.responses()[2].status, 481);
    assert!(s.call.termination().is_none());
}

#[test]
fn transport_error_fails_the_call() {
    let mut s = Sim::new(params(vec![], false));
    s.input(Input::TransportError("connection refused".into()));
    assert_eq!(s.termination().result, Outcome::Failed);
}

#[test]
fn sla_stage_events_carry_receive_time() {
    let mut s = Sim::new(params(vec![], false));
    let t0 = s.now;
    s.advance(Duration::from_millis(120));
    let r = s.invite_resp(180, None);
    s.input(r);
    let at = s.log.iter().find_map(|o| match o {
        Output::Event {
            at,
            kind: EventKind::Provisional { .. },
        } => Some(*at),
        _ => None,
    });
    assert_eq!(at, Some(t0 + Duration::from_millis(120)));
}

#[test]
fn cancel_if_ringing_leaves_an_answered_call_alone() {
    let mut s = Sim::new(params(vec![], false));
    s.answer();
    s.input(Input::CancelIfRinging("resolved".into()));
    assert!(s.sent_requests(Method::Bye).is_empty());
    assert!(s.call.termination().is_none());
    let mut s = Sim::new(params(vec![], false));
    let r = s.invite_resp(180, None);
    s.input(r);
    s.input(Input::CancelIfRinging("resolved".into()));
    assert_eq!(s.sent_requests(Method::Cancel).len(), 1);
}

fn briefing_call(repeats: u8) -> Sim {
    let mut p = params(
        vec![MenuStep::Play(BRIEFING.into()), MenuStep::Hangup],
        false,
    );
    p.briefing = BriefingPolicy {
        repeats,
        repeat_on_star: true,
        silence: Duration::from_secs(3),
        details_on_2: true,
    };
    let mut s = Sim::new(p);
    s.answer();
    s
}

pub(super) fn plays(s: &Sim) -> usize {
    s.media()
        .iter()
        .filter(|m| matches!(m, MediaCommand::Play { .. }))
        .count()
}

#[test]
fn star_restarts_the_briefing() {
    let mut s = briefing_call(0);
    assert_eq!(plays(&s), 1);
    s.input(Input::DtmfReceived('5'));
    assert_eq!(plays(&s), 1, "other digits do nothing");
    s.input(Input::DtmfReceived('*'));
    assert_eq!(plays(&s), 2);
    assert!(s.events().contains(&"briefing_repeated"));
    s.input(Input::PlaybackFinished);
    assert_eq!(
        s.sent_requests(Method::Bye).len(),
        1,
        "menu goes on after the briefing"
    );
}

#[test]
fn two_plays_the_details_in_the_briefings_step() {
    let mut s = briefing_call(0);
    s.input(Input::DtmfReceived('2'));
    let last = s.media().iter().rev().find_map(|m| match m {
        MediaCommand::Play { source } => Some(source.clone()),
        _ => None,
    });
    assert_eq!(last.as_deref(), Some(BRIEFING_DETAILS));
    assert!(
        s.sent_requests(Method::Bye).is_empty(),
        "the step is still the briefing's"
    );
    s.input(Input::PlaybackFinished);
    assert_eq!(
        s.sent_requests(Method::Bye).len(),
        1,
        "the details' end is the briefing's end"
    );
    // Without details (a dialplan's own template), 2 does nothing.
    let mut p = params(
        vec![MenuStep::Play(BRIEFING.into()), MenuStep::Hangup],
        false,
    );
    p.briefing.details_on_2 = false;
    let mut s = Sim::new(p);
    s.answer();
    s.input(Input::DtmfReceived('2'));
    assert_eq!(plays(&s), 1);
}

#[test]
fn an_operator_replays_the_briefing_after_the_menu() {
    let mut s = briefing_call(0);
    s.input(Input::OperatorJoined);
    s.input(Input::PlaybackFinished);
    assert!(s.events().contains(&"menu_done"));
    s.input(Input::ReplayBriefing("operator L1 asked".into()));
    assert_eq!(plays(&s), 2);
    assert!(s.events().contains(&"briefing_repeated"));
}

#[test]
fn silent_line_gets_the_briefing_again_up_to_repeats() {
    let mut s = briefing_call(2);
    s.input(Input::PlaybackFinished);
    assert!(
        s.sent_requests(Method::Bye).is_empty(),
        "waits to hear the far end"
    );
    s.advance(Duration::from_secs(3));
    assert_eq!(plays(&s), 2, "silence: played again");
    s.input(Input::PlaybackFinished);
    s.advance(Duration::from_secs(3));
    assert_eq!(plays(&s), 3);
    s.input(Input::PlaybackFinished);
    assert_eq!(
        s.sent_requests(Method::Bye).len(),
        1,
        "repeats used up: menu goes on"
    );
}

#[test]
fn a_voice_after_the_briefing_moves_the_menu_on() {
    let mut s = briefing_call(2);
    s.input(Input::PlaybackFinished);
    s.input(Input::RemoteActivity);
    assert_eq!(plays(&s), 1);
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
}

#[test]
fn with_an_operator_on_the_bridge_the_menu_does_not_hang_up() {
    let mut s = briefing_call(0);
    s.input(Input::OperatorJoined);
    s.input(Input::PlaybackFinished);
    assert!(
        s.sent_requests(Method::Bye).is_empty(),
        "people end the call"
    );
    assert!(s.events().contains(&"menu_done"));
    s.input(Input::Hangup("operator leg-1 hung up".into()));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
}

#[test]
fn taking_over_stops_the_briefing_and_ends_the_menu() {
    let mut s = briefing_call(2);
    let out = s.input(Input::TakeOver);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Media(MediaCommand::StopPlayback)))
    );
    assert!(s.events().contains(&"menu_done"));
    // The stopped playback reports finished: no replay, no silence timer, no hangup.
    s.input(Input::PlaybackFinished);
    s.advance(Duration::from_secs(10));
    assert_eq!(plays(&s), 1);
    assert!(s.sent_requests(Method::Bye).is_empty());
    // Twice is harmless.
    let out = s.input(Input::TakeOver);
    assert!(out.is_empty());
}

/// Security review finding 3: a response matches our transaction by its branch, which is
/// random per call and not derived from the Call-ID (that is public on the timeline).
#[test]
fn responses_for_no_transaction_of_ours_are_dropped_and_sampled() {
    let mut s = Sim::new(params(vec![MenuStep::Hangup], false));
    let invite = s.invite_branch();
    assert!(invite.0.starts_with("z9hG4bKk7f3a9c2e."), "{invite:?}");
    assert!(
        !invite.0.contains("abc123"),
        "never derived from the Call-ID"
    );
    let r = s.invite_resp(180, None);
    s.input(r);
    for status in [200, 486, 180, 180, 180, 180, 180, 180, 180, 180] {
        let mut r = s.invite_resp(status, Some(ANSWER_SDP));
        if let Input::Response(resp) = &mut r {
            resp.branch = Some(Branch("z9hG4bKabc123.1".into()));
        }
        s.input(r);
    }
    assert!(s.call.termination().is_none(), "neither answered nor busy");
    assert!(
        s.sent_requests(Method::Ack).is_empty(),
        "a forgery gets no ACK"
    );
    assert_eq!(s.call.rejected_responses(), 10);
    let sampled: Vec<u64> = s
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Event {
                kind: EventKind::ResponseRejected { count, .. },
                ..
            } => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(sampled, vec![1, 2, 3, 4, 5, 10]);
    // The real 200 still answers.
    let r = s.invite_resp(200, Some(ANSWER_SDP));
    s.input(r);
    assert_eq!(s.sent_requests(Method::Ack).len(), 1);
}

// ---- menu steps that listen: wait = "prompt", wait = "human" ----

fn listening_call(menu: Vec<MenuStep>) -> Sim {
    let mut p = params(menu, false);
    // Holds are long: the call's own cap must outlast them.
    p.max_duration = Duration::from_secs(3600);
    let mut s = Sim::new(p);
    s.answer();
    s
}

fn heard(h: Heard) -> Input {
    Input::Heard(h)
}

#[test]
fn wait_prompt_ends_when_the_prompt_ends_not_on_a_fixed_wait() {
    let menu = vec![
        MenuStep::WaitPrompt(Duration::from_secs(30)),
        MenuStep::Dtmf {
            digits: "1".into(),
            duration_ms: 100,
        },
    ];
    let mut s = listening_call(menu);
    let dtmf = |s: &Sim| {
        s.media()
            .iter()
            .any(|m| matches!(m, MediaCommand::SendDtmf { .. }))
    };
    // Silence, then a prompt of 7 s: nothing is sent while it plays.
    s.advance(Duration::from_millis(800));
    s.input(heard(Heard::SpeechEnded));
    assert!(
        !dtmf(&s),
        "speech that ended before any was heard does not count"
    );
    s.input(heard(Heard::SpeechStarted));
    s.advance(Duration::from_secs(7));
    assert!(!dtmf(&s), "no DTMF mid-prompt");
    s.input(heard(Heard::SpeechEnded));
    assert!(dtmf(&s), "DTMF right after the prompt");
    assert!(s.events().contains(&"prompt_ended"));
}

#[test]
fn wait_prompt_gives_up_at_its_cap() {
    let mut s = listening_call(vec![
        MenuStep::WaitPrompt(Duration::from_secs(5)),
        MenuStep::Hangup,
    ]);
    s.input(heard(Heard::SpeechStarted));
    assert!(s.advance(Duration::from_millis(4999)).is_empty());
    s.advance(Duration::from_millis(1));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
    assert!(s.log.iter().any(|o| matches!(
        o,
        Output::Event {
            kind: EventKind::PromptEnded { capped: true },
            ..
        }
    )));
}

#[test]
fn wait_human_probes_unknown_speech_then_briefs_the_person_and_stays_up() {
    let mut s = listening_call(vec![
        MenuStep::WaitHuman(Duration::from_secs(1200)),
        MenuStep::Play(BRIEFING.into()),
    ]);
    assert!(s.media().contains(&MediaCommand::Probing(true)));
    // Twelve minutes of hold music: nothing happens.
    s.advance(Duration::from_secs(720));
    assert_eq!(plays(&s), 0);
    // Unknown speech paused: the probe line, not the briefing.
    let out = s.input(heard(Heard::ProbeWanted));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Media(MediaCommand::Play { source }) if source == PROBE))
    );
    s.input(Input::PlaybackFinished);
    assert_eq!(plays(&s), 1, "the probe ending does not end the wait");
    s.advance(Duration::from_secs(2));
    let onset = s.now - Duration::from_millis(3500);
    let out = s.input(heard(Heard::Human {
        onset,
        confidence: 93,
        evidence: vec!["reply_to_probe (600 ms)".into()],
    }));
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Media(MediaCommand::Play { source }) if source == BRIEFING)
        )
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event {
            kind: EventKind::HumanDetected {
                onset_ms_before: 3500,
                ..
            },
            ..
        }
    )));
    // After the briefing the call stays up for the engineer.
    s.input(Input::PlaybackFinished);
    s.advance(Duration::from_secs(60));
    assert!(s.sent_requests(Method::Bye).is_empty());
    assert!(s.events().contains(&"menu_done"));
}

#[test]
fn wait_human_hangs_up_at_its_timeout_and_never_briefs_the_hold_music() {
    let mut s = listening_call(vec![
        MenuStep::WaitHuman(Duration::from_secs(60)),
        MenuStep::Play(BRIEFING.into()),
    ]);
    s.advance(Duration::from_secs(60));
    assert_eq!(plays(&s), 0);
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
    assert!(s.events().contains(&"no_human"));
    assert!(s.media().contains(&MediaCommand::Probing(false)));
}

#[test]
fn listener_inputs_outside_their_steps_do_nothing() {
    let mut s = listening_call(vec![
        MenuStep::Wait(Duration::from_secs(10)),
        MenuStep::Hangup,
    ]);
    let out = s.input(heard(Heard::ProbeWanted));
    assert!(out.is_empty());
    let onset = s.now;
    let out = s.input(heard(Heard::Human {
        onset,
        confidence: 90,
        evidence: vec![],
    }));
    assert!(out.is_empty());
    s.advance(Duration::from_secs(10));
    assert_eq!(s.sent_requests(Method::Bye).len(), 1);
}

fn label(label: Label) -> Input {
    Input::Labelled {
        label,
        by: "bridge L1 (Ada)".into(),
    }
}

fn labels(out: &[Output]) -> Vec<(String, bool, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event {
                kind:
                    EventKind::OperatorLabel {
                        label,
                        listener_human,
                        disputed,
                        ..
                    },
                ..
            } => Some((label.clone(), *listener_human, *disputed)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_person_is_here_ends_the_hold_with_the_operators_human_stage() {
    let mut s = listening_call(vec![
        MenuStep::WaitHuman(Duration::from_secs(1200)),
        MenuStep::Play(BRIEFING.into()),
    ]);
    s.advance(Duration::from_secs(90));
    let out = s.input(label(Label::Person));
    assert_eq!(labels(&out), [("person".to_string(), false, false)]);
    assert!(out.contains(&Output::Media(MediaCommand::Labelled(Label::Person))));
    assert!(out.contains(&Output::Media(MediaCommand::Probing(false))));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event {
            kind: EventKind::HumanDetected {
                onset_ms_before: 0,
                evidence,
                ..
            },
            ..
        } if evidence == &["operator".to_string()]
    )));
    assert!(
        out.iter().any(
            |o| matches!(o, Output::Media(MediaCommand::Play { source }) if source == BRIEFING)
        ),
        "the person is briefed"
    );
    // The listener's own decision afterwards changes nothing.
    let onset = s.now;
    let out = s.input(heard(Heard::Human {
        onset,
        confidence: 93,
        evidence: vec![],
    }));
    assert!(out.is_empty(), "{out:?}");
    let out = s.input(label(Label::Person));
    assert_eq!(labels(&out), [("person".to_string(), true, false)]);
    assert_eq!(
        s.events()
            .iter()
            .filter(|e| **e == "human_detected")
            .count(),
        1
    );
}

#[test]
fn still_a_machine_after_the_listeners_person_disputes_it_and_keeps_it() {
    let mut s = listening_call(vec![
        MenuStep::WaitHuman(Duration::from_secs(1200)),
        MenuStep::Play(BRIEFING.into()),
    ]);
    let onset = s.now;
    s.advance(Duration::from_secs(3));
    s.input(heard(Heard::Human {
        onset,
        confidence: 93,
        evidence: vec!["reply_to_probe (600 ms)".into()],
    }));
    let out = s.input(label(Label::Machine));
    assert_eq!(labels(&out), [("machine".to_string(), true, true)]);
    assert!(out.contains(&Output::Media(MediaCommand::Labelled(Label::Machine))));
    assert!(!out.iter().any(|o| matches!(
        o,
        Output::Event {
            kind: EventKind::HumanDetected { .. },
            ..
        }
    )));
    // The record keeps the detection, flagged; the label stands beside it.
    let t0 = Instant::now();
    let mut r = CallRecord::new(
        "c1",
        "hpe",
        "hpe-hotline",
        "sip:x@y",
        Duration::from_secs(30),
        "r.wav",
        Clock::now(),
    );
    r.judge_on_human();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    r.push(
        at(0),
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(
        at(9_000),
        EventKind::HumanDetected {
            confidence: 0.93,
            evidence: vec!["reply_to_probe (600 ms)".into()],
            onset_ms_before: 3_000,
        },
    );
    r.push(
        at(20_000),
        EventKind::OperatorLabel {
            label: "machine".into(),
            by: "bridge L1 (Ada)".into(),
            listener_human: true,
            disputed: true,
        },
    );
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["human"]["disputed"], true);
    assert_eq!(v["human"]["confidence"], 0.93f32 as f64);
    assert_eq!(v["time_to_human_ms"], 6_000);
    assert_eq!(v["events"][2]["kind"], "operator_label");
    assert_eq!(v["events"][2]["by"], "bridge L1 (Ada)");
}

#[test]
fn still_a_machine_with_no_person_detected_is_no_dispute() {
    let mut s = listening_call(vec![MenuStep::WaitHuman(Duration::from_secs(1200))]);
    let out = s.input(label(Label::Machine));
    assert_eq!(labels(&out), [("machine".to_string(), false, false)]);
    assert!(!s.events().contains(&"human_detected"));
    s.advance(Duration::from_secs(600));
    assert!(s.sent_requests(Method::Bye).is_empty(), "still holding");
}

#[test]
fn the_record_times_the_person_back_dated_and_judges_the_sla_on_them() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut r = CallRecord::new(
        "c1",
        "hpe",
        "hpe-hotline",
        "sip:x@y",
        Duration::from_secs(30),
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
    assert_eq!(
        r.sla.met, None,
        "the 200 OK does not settle a human-basis SLA"
    );
    let music = |kind: &str| kind.to_string();
    r.push(
        ms(5_000),
        EventKind::SoundStarted {
            sound: music("music"),
        },
    );
    r.push(
        ms(17_000),
        EventKind::SoundEnded {
            sound: music("music"),
        },
    );
    r.push(
        ms(20_000),
        EventKind::SoundStarted {
            sound: music("music"),
        },
    );
    // Decided at 36.5 s; the person's first words were 4.5 s earlier, during no music.
    r.push(
        ms(31_500),
        EventKind::SoundEnded {
            sound: music("music"),
        },
    );
    r.push(
        ms(36_500),
        EventKind::HumanDetected {
            confidence: 0.93,
            evidence: vec!["reply_to_probe (600 ms)".into()],
            onset_ms_before: 4_500,
        },
    );
    assert_eq!(r.time_to_human_ms, Some(32_000));
    assert_eq!(r.hold_ms, Some(23_500));
    assert_eq!(
        r.sla.met,
        Some(false),
        "a person after 32 s misses a 30 s SLA"
    );
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["sla"]["basis"], "human");
    assert_eq!(v["human"]["evidence"][0], "reply_to_probe (600 ms)");
    assert!(v["stages"]["human"].is_string());
}

/// Issue 20.5: our own failures and withdrawn calls are kept apart from the vendor's.
#[test]
fn ends_are_attributed_to_the_vendor_or_to_us() {
    let side = |r, c, why: &str| Side::of(r, c, why);
    use Outcome::*;
    assert_eq!(side(Answered, Some(200), "far end hung up"), Side::Vendor);
    assert_eq!(side(Busy, Some(486), "Busy Here"), Side::Vendor);
    assert_eq!(
        side(
            NoAnswer,
            Some(487),
            "SLA answer_within 15s reached: no answer"
        ),
        Side::Vendor
    );
    assert_eq!(side(Rejected, Some(403), "Forbidden"), Side::Vendor);
    assert_eq!(
        side(Failed, Some(407), "credentials rejected by realm \"x\""),
        Side::Gateway
    );
    assert_eq!(
        side(Failed, Some(401), "challenge from foreign realm \"y\""),
        Side::Gateway
    );
    assert_eq!(
        side(Rejected, Some(407), "Proxy Authentication Required"),
        Side::Gateway
    );
    assert_eq!(
        side(
            Failed,
            None,
            "trunk unreachable: no response to INVITE within 4s"
        ),
        Side::Gateway
    );
    assert_eq!(
        side(Failed, None, "call could not be set up"),
        Side::Gateway
    );
    assert_eq!(
        side(
            Failed,
            None,
            "interrupted: hotline stopped during the call; recording intact"
        ),
        Side::Gateway
    );
    assert_eq!(side(Cancelled, None, "incident resolved"), Side::Withdrawn);
    assert_eq!(
        side(Cancelled, Some(487), "hotline restarting: drain time over"),
        Side::Withdrawn
    );
}

#[test]
fn an_unanswered_call_that_failed_on_our_side_has_no_sla_verdict() {
    let clock = Clock::now();
    let rec = |t: Termination| {
        let mut r = CallRecord::new(
            "c",
            "d",
            "k",
            "sip:x@127.0.0.1",
            Duration::from_secs(15),
            "r.wav",
            clock,
        );
        r.push(
            clock.instant,
            EventKind::InviteSent {
                cseq: 1,
                authenticated: false,
            },
        );
        r.push(
            clock.instant + Duration::from_secs(1),
            EventKind::Ended { result: t.result },
        );
        r.terminate(t);
        r
    };
    let ours = rec(Termination {
        result: Outcome::Failed,
        code: Some(407),
        reason: "credentials rejected by realm \"trunk\"".into(),
        hangup_by: None,
    });
    assert_eq!(ours.sla.met, None);
    let theirs = rec(Termination::from_final(486, "Busy Here"));
    assert_eq!(theirs.sla.met, Some(false));
}

fn srtp_params(mode: crate::media::srtp::SrtpMode) -> CallParams {
    use crate::media::srtp::{LocalSrtp, MasterKey};
    let mut p = params(vec![MenuStep::Wait(Duration::from_secs(60))], false);
    p.srtp = Some(LocalSrtp {
        mode,
        keys: [MasterKey([1; 30]), MasterKey([2; 30])],
    });
    p
}

/// The far end's answer, with this `a=crypto` attribute (if any) and profile.
fn answer_sdp(crypto: Option<&str>, proto: &str) -> String {
    let mut s = ANSWER_SDP.replace("RTP/AVP", proto);
    if let Some(c) = crypto {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s
}

const FAR_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";

#[test]
fn srtp_offer_carries_keys_per_policy() {
    use crate::media::srtp::SrtpMode;
    let s = Sim::new(srtp_params(SrtpMode::Required));
    let offer = s.sent_requests(Method::Invite)[0].sdp.clone().expect("sdp");
    assert!(offer.contains("RTP/SAVP 0 8 101"), "{offer}");
    assert!(offer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
    assert!(offer.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
    let s = Sim::new(srtp_params(SrtpMode::Optional));
    let offer = s.sent_requests(Method::Invite)[0].sdp.clone().expect("sdp");
    assert!(offer.contains("RTP/AVP 0 8 101") && offer.contains("a=crypto:1 "));
    let s = Sim::new(params(vec![], false));
    let offer = s.sent_requests(Method::Invite)[0].sdp.clone().expect("sdp");
    assert!(!offer.contains("crypto"));
}

#[test]
fn srtp_answer_keys_start_secure_media() {
    use crate::media::srtp::{MasterKey, SrtpMode, Suite};
    let mut s = Sim::new(srtp_params(SrtpMode::Required));
    let sdp = answer_sdp(
        Some(&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{FAR_KEY}")),
        "RTP/SAVP",
    );
    let r = s.invite_resp(200, Some(&sdp));
    s.input(r);
    let Some(MediaCommand::Start {
        srtp: Some(keys), ..
    }) = s.media().first().cloned()
    else {
        panic!("secure media start: {:?}", s.media())
    };
    assert_eq!(keys.suite, Suite::AesCm128HmacSha1_32);
    assert_eq!(
        keys.ours,
        MasterKey([2; 30]),
        "our key for the tag answered"
    );
    assert!(s.call.termination().is_none());
    assert!(s.log.iter().any(|o| matches!(o,
        Output::Event { kind: EventKind::MediaSecured { suite }, .. } if suite == "AES_CM_128_HMAC_SHA1_32")));
}

#[test]
fn srtp_required_refuses_a_plain_answer() {
    use crate::media::srtp::SrtpMode;
    for crypto in [
        None,
        // A tag we did not offer with that suite.
        Some(format!("1 AES_CM_128_HMAC_SHA1_32 inline:{FAR_KEY}")),
    ] {
        let mut s = Sim::new(srtp_params(SrtpMode::Required));
        let sdp = answer_sdp(crypto.as_deref(), "RTP/AVP");
        let r = s.invite_resp(200, Some(&sdp));
        s.input(r);
        assert!(
            !s.media()
                .iter()
                .any(|m| matches!(m, MediaCommand::Start { .. })),
            "no media in the clear"
        );
        let bye = s.sent_requests(Method::Bye);
        assert_eq!(bye.len(), 1, "hung up at once");
        let r = s.resp(200, Method::Bye, bye[0].cseq, None);
        s.input(r);
        let t = s.termination();
        assert_eq!(t.result, Outcome::Failed);
        assert!(t.reason.starts_with("srtp required"), "{}", t.reason);
    }
}

#[test]
fn srtp_optional_takes_a_plain_answer() {
    use crate::media::srtp::SrtpMode;
    let mut s = Sim::new(srtp_params(SrtpMode::Optional));
    let r = s.invite_resp(200, Some(ANSWER_SDP));
    s.input(r);
    assert!(matches!(
        s.media().first(),
        Some(MediaCommand::Start { srtp: None, .. })
    ));
    assert!(s.call.termination().is_none());
}

#[test]
fn srtp_reoffer_is_answered_with_our_key_and_a_plain_one_refused_when_required() {
    use crate::media::srtp::SrtpMode;
    let mut s = Sim::new(srtp_params(SrtpMode::Required));
    let attr = format!("2 AES_CM_128_HMAC_SHA1_32 inline:{FAR_KEY}");
    let sdp = answer_sdp(Some(&attr), "RTP/SAVP");
    let r = s.invite_resp(200, Some(&sdp));
    s.input(r);
    let starts = |s: &Sim| {
        s.media()
            .iter()
            .filter(|m| matches!(m, MediaCommand::Start { .. }))
            .count()
    };
    assert_eq!(starts(&s), 1);
    // Hold with the same key: answered RTP/SAVP with our key for that suite and their tag.
    let hold = answer_sdp(Some(&attr), "RTP/SAVP").replace("a=sendrecv", "a=sendonly");
    let r = s.request(Method::Invite, 2, Some(&hold));
    s.input(r);
    let ok = s.responses().last().cloned().expect("response");
    assert_eq!(ok.status, 200);
    let body = ok.sdp.expect("answer sdp");
    assert!(body.contains("RTP/SAVP"), "{body}");
    assert!(
        body.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"),
        "{body}"
    );
    assert!(!body.contains(FAR_KEY), "our key, not theirs");
    assert_eq!(starts(&s), 1, "same keys, same address: media goes on");
    // A re-offer without keys: refused, media untouched.
    let r = s.request(Method::Invite, 3, Some(ANSWER_SDP));
    s.input(r);
    assert_eq!(s.responses().last().map(|r| r.status), Some(488));
    assert_eq!(starts(&s), 1);
}
