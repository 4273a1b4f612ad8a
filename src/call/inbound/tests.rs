//! The inbound call core in simulated time: answer, ACK, CANCEL/487, BYE both ways,
//! re-INVITE, retransmissions and a lost ACK, without a socket or a sleep.

use super::*;
use crate::call::Response;

const OFFER_SDP: &str = "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n";

struct Sim {
    call: InboundCall,
    now: Instant,
    log: Vec<Output>,
    handles: u64,
}

fn params(reliable: bool) -> InboundParams {
    InboundParams {
        call_id: CallId("in-1".into()),
        local_tag: Tag("ours".into()),
        reliable,
        local_media: "127.0.0.1:21000".parse().expect("literal"),
        session_id: 9,
        answer_after: Duration::from_millis(500),
        max_duration: Duration::from_secs(600),
        branch_key: "k1".into(),
    }
}

fn offer(sdp: Option<&str>) -> Offer {
    Offer {
        handle: RequestHandle(1),
        branch: Branch("z9hG4bKinvite".into()),
        cseq: 1,
        from_tag: Tag("theirs".into()),
        contact: Some("sip:vendor@127.0.0.1:5090".into()),
        record_route: vec!["<sip:proxy@127.0.0.1;lr>".into()],
        sdp: sdp.map(str::to_string),
    }
}

impl Sim {
    fn new(reliable: bool, sdp: Option<&str>) -> Self {
        let now = Instant::now();
        let mut s = Self {
            call: InboundCall::new(params(reliable), offer(sdp), now),
            now,
            log: Vec::new(),
            handles: 10,
        };
        s.drain();
        s
    }

    fn drain(&mut self) -> Vec<Output> {
        let mut v = Vec::new();
        while let Some(o) = self.call.poll_output() {
            v.push(o);
        }
        self.log.extend(v.iter().cloned());
        v
    }

    fn advance(&mut self, d: Duration) -> Vec<Output> {
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

    fn req(&mut self, method: Method, cseq: u32, branch: &str, sdp: Option<&str>) -> Vec<Output> {
        self.handles += 1;
        // The initial transaction (INVITE, CANCEL, non-2xx ACK) has no To tag yet.
        let to_tag = (branch != "z9hG4bKinvite").then(|| Tag("ours".into()));
        let r = Request {
            timer: Default::default(),
            method,
            cseq,
            branch: Branch(branch.into()),
            to_tag,
            handle: RequestHandle(self.handles),
            sdp: sdp.map(str::to_string),
        };
        self.call.handle_input(self.now, InboundInput::Request(r));
        self.drain()
    }

    fn answer_and_ack(&mut self) {
        let out = self.advance(Duration::from_millis(500));
        assert_eq!(statuses(&out), vec![200]);
        self.req(Method::Ack, 1, "z9hG4bKack", None);
        assert!(self.call.is_confirmed());
    }
}

fn statuses(out: &[Output]) -> Vec<u16> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                msg: Outgoing::Response(r),
                ..
            } => Some(r.status),
            _ => None,
        })
        .collect()
}

fn requests(out: &[Output]) -> Vec<OutRequest> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                msg: Outgoing::Request(r),
                ..
            } => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event { kind, .. } => Some(kind.name()),
            _ => None,
        })
        .collect()
}

fn terminated(out: &[Output]) -> Option<Termination> {
    out.iter().find_map(|o| match o {
        Output::Terminated(t) => Some(t.clone()),
        _ => None,
    })
}

#[test]
fn answered_call_caller_hangs_up() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    assert_eq!(statuses(&s.log), vec![100, 180]);
    assert_eq!(events(&s.log), vec!["offer_received", "ringing_sent"]);
    let out = s.advance(Duration::from_millis(500));
    let sdp = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                msg: Outgoing::Response(r),
                ..
            } => r.sdp.clone(),
            _ => None,
        })
        .expect("200 with SDP");
    // RFC 3264 §6.1: the answer keeps the offer's first common codec and its DTMF type.
    assert!(sdp.contains("m=audio 21000 RTP/AVP 8 101"), "{sdp}");
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Media(MediaCommand::Start { remote, dtmf_pt: Some(_), .. })
            if remote.port() == 6000
    )));
    s.req(Method::Ack, 1, "z9hG4bKack", None);
    assert!(s.call.is_confirmed());
    // No retransmission once ACKed.
    assert!(statuses(&s.advance(Duration::from_secs(5))).is_empty());
    let out = s.req(Method::Bye, 2, "z9hG4bKbye", None);
    assert_eq!(statuses(&out), vec![200]);
    let t = terminated(&out).expect("ended");
    assert_eq!(t.result, Outcome::Answered);
    assert_eq!(t.hangup_by, Some(Party::Remote));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Media(MediaCommand::Stop)))
    );
    // A retransmitted BYE gets the same 200 while lingering; then the core finishes.
    assert_eq!(
        statuses(&s.req(Method::Bye, 2, "z9hG4bKbye", None)),
        vec![200]
    );
    s.advance(TIMER_D_UDP);
    assert!(s.call.is_finished());
}

#[test]
fn we_hang_up_with_bye_to_the_callers_contact() {
    let mut s = Sim::new(true, Some(OFFER_SDP));
    s.answer_and_ack();
    s.call
        .handle_input(s.now, InboundInput::Hangup("operator hung up".into()));
    let out = s.drain();
    let bye = requests(&out).pop().expect("BYE");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.to_tag, Some(Tag("theirs".into())));
    assert_eq!(bye.target.as_deref(), Some("sip:vendor@127.0.0.1:5090"));
    assert_eq!(bye.routes, vec!["<sip:proxy@127.0.0.1;lr>".to_string()]);
    assert_eq!(
        terminated(&out).expect("ended").hangup_by,
        Some(Party::Local)
    );
    s.call.handle_input(
        s.now,
        InboundInput::Response(Response {
            timer: Default::default(),
            status: 200,
            reason: "OK".into(),
            cseq: bye.cseq,
            method: Method::Bye,
            branch: Some(bye.branch),
            to_tag: Some(Tag("theirs".into())),
            contact: None,
            record_route: vec![],
            sdp: None,
            challenges: vec![],
            source: None,
        }),
    );
    s.drain();
    // TCP: no linger.
    assert!(s.call.is_finished());
}

#[test]
fn cancel_before_answer_gets_200_and_487() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    s.advance(Duration::from_millis(100));
    let out = s.req(Method::Cancel, 1, "z9hG4bKinvite", None);
    assert_eq!(statuses(&out), vec![200, 487]);
    let t = terminated(&out).expect("ended");
    assert_eq!((t.result, t.code), (Outcome::Cancelled, Some(487)));
    // Never answered: the answer timer is gone, no media started.
    let later = s.advance(Duration::from_secs(1));
    assert_eq!(
        statuses(&later),
        vec![487],
        "487 retransmitted until its ACK"
    );
    assert!(!s.log.iter().any(|o| matches!(o, Output::Media(_))));
    s.req(Method::Ack, 1, "z9hG4bKinvite", None);
    assert!(statuses(&s.advance(Duration::from_secs(4))).is_empty());
    s.advance(TIMER_D_UDP);
    assert!(s.call.is_finished());
}

#[test]
fn cancel_after_answer_has_no_effect() {
    let mut s = Sim::new(true, Some(OFFER_SDP));
    s.answer_and_ack();
    let out = s.req(Method::Cancel, 1, "z9hG4bKinvite", None);
    assert_eq!(statuses(&out), vec![200]);
    assert!(terminated(&out).is_none());
    assert!(s.call.is_confirmed());
}

#[test]
fn unknown_cancel_is_481() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    let out = s.req(Method::Cancel, 1, "z9hG4bKother", None);
    assert_eq!(statuses(&out), vec![481]);
    assert!(terminated(&out).is_none());
}

#[test]
fn lost_ack_retransmits_200_then_gives_up_with_bye() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    s.advance(Duration::from_millis(500));
    // Timer G: 500 ms, 1 s, 2 s, 4 s, 4 s... until Timer H (32 s).
    let out = s.advance(Duration::from_millis(3600));
    assert_eq!(statuses(&out), vec![200, 200, 200]);
    let out = s.advance(Duration::from_secs(29));
    let t = terminated(&out).expect("ended at Timer H");
    assert_eq!(t.result, Outcome::Failed);
    assert!(events(&out).contains(&"no_ack"));
    assert_eq!(requests(&out)[0].method, Method::Bye);
}

#[test]
fn retransmitted_invite_gets_the_last_response() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    assert_eq!(
        statuses(&s.req(Method::Invite, 1, "z9hG4bKinvite", Some(OFFER_SDP))),
        vec![180]
    );
    s.advance(Duration::from_millis(500));
    assert_eq!(
        statuses(&s.req(Method::Invite, 1, "z9hG4bKinvite", Some(OFFER_SDP))),
        vec![200]
    );
}

#[test]
fn reinvite_hold_is_answered_with_our_sdp_and_direction() {
    let mut s = Sim::new(false, Some(OFFER_SDP));
    s.answer_and_ack();
    let hold = OFFER_SDP.replace("a=sendrecv", "a=sendonly");
    let out = s.req(Method::Invite, 2, "z9hG4bKre1", Some(&hold));
    assert_eq!(statuses(&out), vec![200]);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Media(MediaCommand::Direction(Direction::RecvOnly))
    )));
    let sdp = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                msg: Outgoing::Response(r),
                ..
            } => r.sdp.clone(),
            _ => None,
        })
        .expect("answer");
    assert!(
        sdp.contains("a=recvonly") && sdp.contains("o=- 9 2 "),
        "{sdp}"
    );
    // A second re-INVITE before the ACK of the first: 491.
    assert_eq!(
        statuses(&s.req(Method::Invite, 3, "z9hG4bKre2", Some(OFFER_SDP))),
        vec![491]
    );
    // Unacknowledged: retransmitted (Timer G), stopped by the ACK.
    assert_eq!(statuses(&s.advance(Duration::from_millis(600))), vec![200]);
    s.req(Method::Ack, 2, "z9hG4bKack2", None);
    assert!(statuses(&s.advance(Duration::from_secs(5))).is_empty());
    assert!(s.call.is_confirmed());
}

#[test]
fn offer_without_audio_we_take_is_488() {
    let g729 = OFFER_SDP.replace("RTP/AVP 8 0 101", "RTP/AVP 18").replace(
        "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n",
        "a=rtpmap:18 G729/8000\r\n",
    );
    let s = Sim::new(true, Some(&g729));
    assert_eq!(statuses(&s.log), vec![100, 488]);
    let t = s.call.termination().expect("ended");
    assert_eq!((t.result, t.code), (Outcome::Rejected, Some(488)));
    let s = Sim::new(true, None);
    assert_eq!(statuses(&s.log), vec![100, 488]);
}

#[test]
fn in_dialog_request_with_a_wrong_tag_is_481() {
    let mut s = Sim::new(true, Some(OFFER_SDP));
    s.answer_and_ack();
    s.handles += 1;
    let r = Request {
        timer: Default::default(),
        method: Method::Bye,
        cseq: 2,
        branch: Branch("z9hG4bKx".into()),
        to_tag: Some(Tag("nope".into())),
        handle: RequestHandle(99),
        sdp: None,
    };
    s.call.handle_input(s.now, InboundInput::Request(r));
    assert_eq!(statuses(&s.drain()), vec![481]);
    assert!(s.call.is_confirmed());
}

#[test]
fn max_duration_hangs_up() {
    let mut s = Sim::new(true, Some(OFFER_SDP));
    s.answer_and_ack();
    let out = s.advance(Duration::from_secs(600));
    assert!(events(&out).contains(&"max_duration"));
    assert_eq!(requests(&out)[0].method, Method::Bye);
}

#[test]
fn local_reject_before_answer() {
    let mut s = Sim::new(true, Some(OFFER_SDP));
    s.call.handle_input(
        s.now,
        InboundInput::Reject {
            status: 480,
            reason: "Temporarily Unavailable",
        },
    );
    let out = s.drain();
    assert_eq!(statuses(&out), vec![480]);
    assert_eq!(terminated(&out).expect("ended").code, Some(480));
}
