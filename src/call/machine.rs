//! The call core: one outbound call's whole SIP life as a pure, time-injected state machine
//! (str0m / quinn-proto style). No sockets, no clock: the edge feeds [`Input`]s with the time
//! the packet arrived, drains [`Output`]s, and wakes us at [`Call::poll_timeout`].
//!
//! It owns the INVITE client transaction (RFC 3261 §17.1.1, timers A/B), the CANCEL and BYE
//! non-INVITE transactions (§17.1.2, timers E/F), the dialog, answers to in-dialog requests
//! (§12.2.2, §14.2, timers G/H for a far-end re-INVITE) and the walk through the vendor's menu.

use super::event::EventKind;
use super::ids::{Branch, CallId, Method, Tag};
use super::io::{
    Input, MediaCommand, OutRequest, OutResponse, Outgoing, Output, Request, Response,
};
use super::menu::{MenuProgress, MenuStep};
use super::termination::{Outcome, Party, Termination};
use super::timer::{T1, T2, TIMER_D_UDP, Timer, Timers};
use crate::media::sdp::{self, Direction, Negotiated};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Everything a call needs to know before it starts.
#[derive(Clone, Debug)]
pub struct CallParams {
    pub call_id: CallId,
    pub local_tag: Tag,
    /// TCP: no retransmissions, no Timer D linger (RFC 3261 §17.1.1.2).
    pub reliable: bool,
    /// Our RTP address, put in the SDP offer.
    pub local_media: SocketAddr,
    /// SDP `o=` session id.
    pub session_id: u64,
    pub ring_timeout: Duration,
    /// Longest the call stays up after answer.
    pub max_duration: Duration,
    pub menu: Vec<MenuStep>,
    /// Whether credentials are configured to answer a 401/407.
    pub can_authenticate: bool,
    /// How the briefing (`play` of [`BRIEFING`]) repeats.
    pub briefing: BriefingPolicy,
}

/// The `play` source name of the incident briefing.
pub const BRIEFING: &str = "briefing";

/// When the briefing is played again: `*` from the far end restarts it; after it ends, if the
/// far end stays silent for `silence`, it is played again, up to `repeats` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BriefingPolicy {
    pub repeats: u8,
    pub repeat_on_star: bool,
    pub silence: Duration,
}

impl Default for BriefingPolicy {
    fn default() -> Self {
        Self {
            repeats: 0,
            repeat_on_star: true,
            silence: Duration::from_secs(3),
        }
    }
}

#[derive(Debug)]
struct InviteTx {
    req: OutRequest,
    /// Current Timer A interval.
    interval: Duration,
    /// A challenge has been answered once already: a second one is a failure.
    authenticated: bool,
    /// We want this INVITE gone (ring timeout before any provisional, or hangup): CANCEL
    /// as soon as a provisional response makes it legal (RFC 3261 §9.1).
    cancel_wanted: bool,
    cancel_sent: bool,
}

/// A non-INVITE client transaction we may retransmit (CANCEL or BYE).
#[derive(Debug)]
struct NonInviteTx {
    req: OutRequest,
    interval: Duration,
}

#[derive(Debug)]
struct Dialog {
    remote_tag: Tag,
    target: Option<String>,
    routes: Vec<String>,
    /// The ACK for the 2xx, re-sent whenever the 2xx is retransmitted (lost ACK).
    ack: OutRequest,
    menu: MenuProgress,
    /// Silence repeats of the briefing still allowed.
    repeats_left: u8,
    /// The far end spoke since the briefing last ended.
    heard: bool,
    /// Our 2xx to a far-end re-INVITE, retransmitted (Timer G) until its ACK.
    reinvite: Option<(u32, OutResponse, Duration)>,
}

#[derive(Debug)]
enum State {
    /// INVITE sent, nothing heard back.
    Calling,
    /// A provisional response arrived.
    Proceeding { remote_tag: Option<Tag> },
    /// CANCEL sent; waiting for the 487 (or a crossing 2xx).
    Cancelling { tx: NonInviteTx, why: Termination },
    /// 2xx received and ACKed: the call is up.
    Confirmed(Box<Dialog>),
    /// BYE sent; waiting for its response.
    Closing {
        dialog: Box<Dialog>,
        tx: NonInviteTx,
        why: Termination,
    },
    /// Over; lingering to absorb retransmissions until Timer D.
    Ended,
}

/// One outbound call. See the module docs.
#[derive(Debug)]
pub struct Call {
    p: CallParams,
    state: State,
    timers: Timers,
    out: VecDeque<Output>,
    invite: InviteTx,
    /// Our next CSeq for new requests in this dialog.
    next_cseq: u32,
    branches: u32,
    /// The SDP answer we negotiated (kept to answer a far-end re-INVITE).
    negotiated: Option<Negotiated>,
    /// Early media was started from a 183's SDP.
    early: Option<Negotiated>,
    sdp_version: u64,
    /// Responses we gave to inbound requests, replayed on their retransmissions.
    answered: Vec<(Branch, Method, OutResponse)>,
    termination: Option<Termination>,
    finished: bool,
    /// Waiting after the briefing to hear the far end (Timer::BriefingSilence armed).
    briefing_wait: bool,
    /// An operator is (or was) on the bridge: the menu no longer hangs up.
    operator_on_line: bool,
}

impl Call {
    /// Starts the call: queues the INVITE and arms its timers.
    pub fn new(p: CallParams, now: Instant) -> Self {
        let offer = sdp::offer(p.local_media.ip(), p.local_media.port(), p.session_id, 1);
        let mut call = Self {
            state: State::Calling,
            timers: Timers::default(),
            out: VecDeque::new(),
            invite: InviteTx {
                req: OutRequest {
                    method: Method::Invite,
                    cseq: 1,
                    branch: Branch(String::new()),
                    to_tag: None,
                    target: None,
                    routes: Vec::new(),
                    sdp: Some(offer),
                    auth: None,
                    reason: None,
                },
                interval: T1,
                authenticated: false,
                cancel_wanted: false,
                cancel_sent: false,
            },
            next_cseq: 2,
            branches: 0,
            negotiated: None,
            early: None,
            sdp_version: 1,
            answered: Vec::new(),
            termination: None,
            finished: false,
            briefing_wait: false,
            operator_on_line: false,
            p,
        };
        call.invite.req.branch = call.new_branch();
        call.send_invite(now);
        call.timers
            .set(Timer::RingTimeout, now + call.p.ring_timeout);
        call
    }

    /// The call's id.
    pub fn call_id(&self) -> &CallId {
        &self.p.call_id
    }

    /// How the call ended, once it has.
    pub fn termination(&self) -> Option<&Termination> {
        self.termination.as_ref()
    }

    /// True once the call has ended and stopped lingering: the task may drop it.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next output to act on.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`Call::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(t) = self.timers.pop_expired(now) {
            self.on_timer(now, t);
        }
    }

    /// Feeds one input that happened at `now`.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Response(r) => self.on_response(now, r),
            Input::Request(r) => self.on_request(now, r),
            Input::TransportError(e) => self.on_transport_error(now, e),
            Input::DtmfFinished => self.step_finished(now, |s| matches!(s, MenuStep::Dtmf { .. })),
            Input::PlaybackFinished => self.playback_finished(now),
            Input::DtmfReceived(digit) => self.dtmf_received(now, digit),
            Input::RemoteActivity => {
                if let State::Confirmed(d) = &mut self.state {
                    d.heard = true;
                    if self.briefing_wait {
                        self.timers.stop(Timer::BriefingSilence);
                        self.step_finished(now, |s| matches!(s, MenuStep::Play(_)));
                    }
                }
            }
            Input::Hangup(reason) => self.hangup(now, reason),
            Input::CancelIfRinging(reason) => {
                if matches!(self.state, State::Calling | State::Proceeding { .. }) {
                    self.hangup(now, reason)
                }
            }
            Input::OperatorJoined => self.operator_on_line = true,
            Input::TakeOver => self.take_over(now),
        }
    }

    fn new_branch(&mut self) -> Branch {
        self.branches += 1;
        // The call id is random per call, so id + counter is unique in space and time.
        Branch(format!(
            "z9hG4bK{}.{}",
            self.p.call_id.0.replace('@', "."),
            self.branches
        ))
    }

    fn emit(&mut self, at: Instant, kind: EventKind) {
        self.out.push_back(Output::Event { at, kind });
    }

    fn send(&mut self, msg: Outgoing, note: Option<EventKind>) {
        self.out.push_back(Output::Send { msg, note });
    }

    fn send_invite(&mut self, now: Instant) {
        let note = EventKind::InviteSent {
            cseq: self.invite.req.cseq,
            authenticated: self.invite.req.auth.is_some(),
        };
        self.send(Outgoing::Request(self.invite.req.clone()), Some(note));
        self.invite.interval = T1;
        if !self.p.reliable {
            self.timers.set(Timer::A, now + T1);
        }
        self.timers.set(Timer::B, now + 64 * T1);
    }

    fn respond(&mut self, req: &Request, status: u16, reason: &'static str, sdp: Option<String>) {
        let resp = OutResponse {
            handle: req.handle,
            status,
            reason,
            sdp,
        };
        self.answered
            .push((req.branch.clone(), req.method.clone(), resp.clone()));
        self.send(Outgoing::Response(resp), None);
    }

    fn on_response(&mut self, now: Instant, r: Response) {
        match r.method {
            Method::Invite => self.on_invite_response(now, r),
            Method::Cancel => {
                if let State::Cancelling { .. } = self.state
                    && r.status >= 200
                {
                    self.timers.stop(Timer::E);
                    self.timers.stop(Timer::F);
                }
            }
            Method::Bye => self.on_bye_response(now, r),
            _ => {}
        }
    }

    fn on_invite_response(&mut self, now: Instant, r: Response) {
        match r.status {
            100..=199 => self.on_provisional(now, r),
            200..=299 => self.on_success(now, r),
            _ => self.on_failure(now, r),
        }
    }

    fn on_provisional(&mut self, now: Instant, r: Response) {
        if r.cseq != self.invite.req.cseq {
            return;
        }
        match &mut self.state {
            State::Calling => {
                self.state = State::Proceeding {
                    remote_tag: r.to_tag.clone(),
                };
            }
            State::Proceeding { remote_tag } => {
                if remote_tag.is_none() {
                    *remote_tag = r.to_tag.clone();
                }
            }
            State::Cancelling { .. } => {}
            State::Ended => {
                // We gave up before any provisional arrived; now a CANCEL is legal (§9.1).
                if self.invite.cancel_wanted && !self.invite.cancel_sent {
                    let cancel = self.cancel_request("no response within ring timeout");
                    self.invite.cancel_sent = true;
                    let note = EventKind::CancelSent {
                        reason: "late provisional after giving up".into(),
                    };
                    self.send(Outgoing::Request(cancel), Some(note));
                }
                return;
            }
            State::Confirmed(_) | State::Closing { .. } => return,
        }
        // §17.1.1.2: a provisional response stops retransmissions and Timer B.
        self.timers.stop(Timer::A);
        self.timers.stop(Timer::B);
        self.emit(
            now,
            EventKind::Provisional {
                code: r.status,
                reason: r.reason.clone(),
            },
        );
        if let Some(text) = &r.sdp
            && self.early.is_none()
            && !matches!(self.state, State::Cancelling { .. })
            && let Ok(neg) = sdp::parse(text).and_then(|d| sdp::negotiate(&d))
        {
            self.emit(now, EventKind::EarlyMedia);
            self.out.push_back(Output::Media(start_media(&neg, true)));
            self.early = Some(neg);
        }
        if self.invite.cancel_wanted && !self.invite.cancel_sent {
            let why = Termination::new(Outcome::Cancelled, "hung up before answer");
            self.start_cancel(now, "hangup", why);
        }
    }

    fn on_success(&mut self, now: Instant, r: Response) {
        let Some(remote_tag) = r.to_tag.clone() else {
            // RFC 3261 §8.2.6.2: a 2xx always carries a To tag; without one there is no dialog.
            return;
        };
        let routes: Vec<String> = r.record_route.iter().rev().cloned().collect();
        let ack = OutRequest {
            method: Method::Ack,
            cseq: r.cseq,
            branch: self.new_branch(),
            to_tag: Some(remote_tag.clone()),
            target: r.contact.clone(),
            routes: routes.clone(),
            sdp: None,
            auth: self.invite.req.auth.clone(),
            reason: None,
        };
        let same_dialog = |d: &Dialog| d.remote_tag == remote_tag;
        match &self.state {
            State::Confirmed(d) | State::Closing { dialog: d, .. } if same_dialog(d) => {
                // A retransmitted 2xx: our ACK was lost (§13.2.2.4). Re-send the same ACK.
                let ack = d.ack.clone();
                let note = EventKind::Retransmit {
                    method: "ACK".into(),
                    cseq: ack.cseq,
                };
                self.send(Outgoing::Request(ack), Some(note));
                return;
            }
            State::Calling | State::Proceeding { .. } if r.cseq == self.invite.req.cseq => {}
            State::Cancelling { .. } => {
                // The 200-after-CANCEL race: the far end answered as our CANCEL crossed it.
                // The INVITE is answered; ACK it, then BYE (RFC 3261 §9.1, §15).
                let State::Cancelling { why, .. } =
                    std::mem::replace(&mut self.state, State::Ended)
                else {
                    unreachable!("matched Cancelling above")
                };
                let mut why = why;
                why.reason = format!("{}; 200 OK crossed the CANCEL, hung up", why.reason);
                self.timers.stop(Timer::B);
                self.emit(now, EventKind::Answered { code: r.status });
                let dialog = self.dialog(remote_tag, r.contact, routes, ack);
                self.send_ack(&dialog);
                self.start_bye(now, dialog, "cancelled", why);
                return;
            }
            _ => {
                // A 2xx for a call we already ended (or a forked second answer): ACK it and
                // hang it up, so no line is left open at the vendor.
                let dialog = self.dialog(remote_tag, r.contact, routes, ack);
                self.send_ack(&dialog);
                let bye = self.bye_request(&dialog, "call already ended");
                self.send(
                    Outgoing::Request(bye),
                    Some(EventKind::ByeSent {
                        reason: "stray answer".into(),
                    }),
                );
                return;
            }
        }
        for t in [Timer::A, Timer::B, Timer::RingTimeout] {
            self.timers.stop(t);
        }
        self.emit(now, EventKind::Answered { code: r.status });
        let dialog = self.dialog(remote_tag, r.contact, routes, ack);
        self.send_ack(&dialog);
        let neg = match r
            .sdp
            .as_deref()
            .map(|s| sdp::parse(s).and_then(|d| sdp::negotiate(&d)))
        {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => None,
            None => self.early,
        };
        let Some(neg) = neg else {
            let why = Termination {
                result: Outcome::Failed,
                code: Some(r.status),
                reason: "answer SDP unusable (no common codec)".into(),
                hangup_by: Some(Party::Local),
            };
            self.start_bye(now, dialog, "488 Not Acceptable Here", why);
            return;
        };
        self.out.push_back(Output::Media(start_media(&neg, false)));
        self.negotiated = Some(neg);
        self.timers
            .set(Timer::MaxDuration, now + self.p.max_duration);
        self.state = State::Confirmed(dialog);
        self.advance_menu(now);
    }

    fn dialog(
        &self,
        remote_tag: Tag,
        target: Option<String>,
        routes: Vec<String>,
        ack: OutRequest,
    ) -> Box<Dialog> {
        Box::new(Dialog {
            remote_tag,
            target,
            routes,
            ack,
            menu: MenuProgress::Next(0),
            repeats_left: self.p.briefing.repeats,
            heard: false,
            reinvite: None,
        })
    }

    fn send_ack(&mut self, d: &Dialog) {
        let note = EventKind::AckSent { cseq: d.ack.cseq };
        self.send(Outgoing::Request(d.ack.clone()), Some(note));
    }

    fn on_failure(&mut self, now: Instant, r: Response) {
        // §17.1.1.3: the ACK for a non-2xx final is part of the INVITE transaction: same
        // branch, same CSeq number, the response's To tag, the original Request-URI.
        let ack = OutRequest {
            method: Method::Ack,
            cseq: r.cseq,
            branch: r
                .branch
                .clone()
                .unwrap_or_else(|| self.invite.req.branch.clone()),
            to_tag: r.to_tag.clone(),
            target: None,
            routes: Vec::new(),
            sdp: None,
            auth: None,
            reason: None,
        };
        let current = r.cseq == self.invite.req.cseq;
        let live = matches!(
            self.state,
            State::Calling | State::Proceeding { .. } | State::Cancelling { .. }
        );
        let note = (current && live).then_some(EventKind::AckSent { cseq: r.cseq });
        self.send(Outgoing::Request(ack), note);
        if !(current && live) {
            return; // a retransmitted final response: the ACK above is all it needs
        }
        self.timers.stop(Timer::A);
        self.timers.stop(Timer::B);
        if let (401 | 407, Some(ch)) = (r.status, &r.challenge)
            && !matches!(self.state, State::Cancelling { .. })
        {
            self.emit(now, EventKind::Challenged { code: r.status });
            if !self.p.can_authenticate {
                let t = Termination {
                    result: Outcome::Failed,
                    code: Some(r.status),
                    reason: "authentication required but no credentials configured".into(),
                    hangup_by: None,
                };
                return self.end(now, t);
            }
            if self.invite.authenticated {
                let t = Termination {
                    result: Outcome::Failed,
                    code: Some(r.status),
                    reason: "credentials rejected (challenged again after answering)".into(),
                    hangup_by: None,
                };
                return self.end(now, t);
            }
            // Answer the challenge once, in a new INVITE transaction (§22.2).
            self.invite.authenticated = true;
            self.invite.req.auth = Some(ch.clone());
            self.invite.req.cseq = self.next_cseq;
            self.next_cseq += 1;
            self.invite.req.branch = self.new_branch();
            self.state = State::Calling;
            self.send_invite(now);
            return;
        }
        self.emit(
            now,
            EventKind::FinalResponse {
                code: r.status,
                reason: r.reason.clone(),
            },
        );
        let t = match std::mem::replace(&mut self.state, State::Ended) {
            State::Cancelling { why, .. } if r.status == 487 => Termination {
                code: Some(487),
                ..why
            },
            _ => Termination::from_final(r.status, &r.reason),
        };
        self.end(now, t);
    }

    fn on_bye_response(&mut self, now: Instant, r: Response) {
        if r.status < 200 {
            return;
        }
        let State::Closing { tx, .. } = &self.state else {
            return;
        };
        if tx.req.cseq != r.cseq {
            return;
        }
        self.emit(now, EventKind::ByeResponse { code: r.status });
        let State::Closing { why, .. } = std::mem::replace(&mut self.state, State::Ended) else {
            unreachable!("matched Closing above")
        };
        self.end(now, why);
    }

    fn on_request(&mut self, now: Instant, req: Request) {
        // A retransmitted request gets the same response again (§17.2).
        if req.method != Method::Ack
            && let Some((_, _, resp)) = self
                .answered
                .iter()
                .find(|(b, m, _)| *b == req.branch && *m == req.method)
        {
            let resp = resp.clone();
            self.send(Outgoing::Response(resp), None);
            return;
        }
        let in_dialog = matches!(self.state, State::Confirmed(_) | State::Closing { .. })
            && req.to_tag.as_ref() == Some(&self.p.local_tag);
        if req.method == Method::Ack {
            if let State::Confirmed(d) = &mut self.state
                && d.reinvite
                    .as_ref()
                    .is_some_and(|(cseq, ..)| *cseq == req.cseq)
            {
                d.reinvite = None;
                self.timers.stop(Timer::G);
                self.timers.stop(Timer::H);
            }
            return;
        }
        if !in_dialog {
            let name = req.method.to_string();
            self.respond(&req, 481, "Call/Transaction Does Not Exist", None);
            self.emit(
                now,
                EventKind::RequestRejected {
                    method: name,
                    code: 481,
                },
            );
            return;
        }
        match req.method {
            Method::Bye => {
                self.respond(&req, 200, "OK", None);
                self.emit(now, EventKind::ByeReceived);
                let t = Termination {
                    result: Outcome::Answered,
                    code: None,
                    reason: "far end hung up".into(),
                    hangup_by: Some(Party::Remote),
                };
                let t = match std::mem::replace(&mut self.state, State::Ended) {
                    // Our BYE and theirs crossed: keep our reason.
                    State::Closing { why, .. } => why,
                    _ => t,
                };
                self.end(now, t);
            }
            Method::Options => {
                self.respond(&req, 200, "OK", None);
                self.emit(now, EventKind::OptionsReceived);
            }
            Method::Info => self.respond(&req, 200, "OK", None),
            Method::Invite | Method::Update => self.on_reoffer(now, req),
            _ => {
                let name = req.method.to_string();
                self.respond(&req, 501, "Not Implemented", None);
                self.emit(
                    now,
                    EventKind::RequestRejected {
                        method: name,
                        code: 501,
                    },
                );
            }
        }
    }

    /// A far-end re-INVITE or UPDATE (hold / unhold / re-target), RFC 3264 §8.
    fn on_reoffer(&mut self, now: Instant, req: Request) {
        let Some(current) = self.negotiated else {
            self.respond(&req, 488, "Not Acceptable Here", None);
            return;
        };
        let (neg, ours) = match req.sdp.as_deref() {
            None => (current, Direction::SendRecv),
            Some(text) => match sdp::parse(text).and_then(|d| {
                let dir = d.direction;
                sdp::negotiate(&d).map(|n| (n, dir))
            }) {
                Ok((n, offered)) => (n, sdp::answer_direction(offered)),
                Err(_) => {
                    self.respond(&req, 488, "Not Acceptable Here", None);
                    return;
                }
            },
        };
        self.sdp_version += 1;
        let body = sdp::answer(
            self.p.local_media.ip(),
            self.p.local_media.port(),
            self.p.session_id,
            self.sdp_version,
            &neg,
            ours,
        );
        self.emit(
            now,
            EventKind::ReinviteReceived {
                direction: format!("{:?}", neg.direction).to_lowercase(),
            },
        );
        if neg.remote != current.remote {
            self.out.push_back(Output::Media(start_media(&neg, false)));
        }
        self.out
            .push_back(Output::Media(MediaCommand::Direction(ours)));
        self.negotiated = Some(neg);
        let is_invite = req.method == Method::Invite;
        self.respond(&req, 200, "OK", Some(body));
        if is_invite && let State::Confirmed(d) = &mut self.state {
            let resp = self.answered.last().map(|(_, _, r)| r.clone());
            if let Some(resp) = resp {
                d.reinvite = Some((req.cseq, resp, T1));
                if !self.p.reliable {
                    self.timers.set(Timer::G, now + T1);
                }
                self.timers.set(Timer::H, now + 64 * T1);
            }
        }
    }

    fn on_transport_error(&mut self, now: Instant, e: String) {
        match std::mem::replace(&mut self.state, State::Ended) {
            State::Ended => {}
            State::Closing { why, .. } => self.end(now, why),
            State::Confirmed(_) => self.end(
                now,
                Termination {
                    result: Outcome::Answered,
                    code: None,
                    reason: format!("transport error: {e}"),
                    hangup_by: None,
                },
            ),
            _ => self.end(
                now,
                Termination::new(Outcome::Failed, format!("transport error: {e}")),
            ),
        }
    }

    fn hangup(&mut self, now: Instant, reason: String) {
        match std::mem::replace(&mut self.state, State::Ended) {
            State::Calling => {
                self.invite.cancel_wanted = true;
                self.end(now, Termination::new(Outcome::Cancelled, reason));
            }
            State::Proceeding { .. } => {
                let why = Termination::new(Outcome::Cancelled, reason.clone());
                self.start_cancel(now, &reason, why);
            }
            State::Confirmed(dialog) => {
                let why = Termination {
                    result: Outcome::Answered,
                    code: None,
                    reason: reason.clone(),
                    hangup_by: Some(Party::Local),
                };
                self.start_bye(now, dialog, &reason, why);
            }
            other => self.state = other,
        }
    }

    fn cancel_request(&mut self, reason: &str) -> OutRequest {
        // §9.1: CANCEL copies the INVITE's Request-URI, Call-ID, To, From, CSeq number and
        // top Via branch; no To tag.
        OutRequest {
            method: Method::Cancel,
            cseq: self.invite.req.cseq,
            branch: self.invite.req.branch.clone(),
            to_tag: None,
            target: None,
            routes: Vec::new(),
            sdp: None,
            auth: None,
            reason: Some(reason.to_string()),
        }
    }

    fn start_cancel(&mut self, now: Instant, reason: &str, why: Termination) {
        let req = self.cancel_request(reason);
        self.invite.cancel_sent = true;
        let note = EventKind::CancelSent {
            reason: reason.to_string(),
        };
        self.send(Outgoing::Request(req.clone()), Some(note));
        if !self.p.reliable {
            self.timers.set(Timer::E, now + T1);
        }
        self.timers.set(Timer::F, now + 64 * T1);
        // §9.1: if no final response to the INVITE arrives within 64*T1 of the CANCEL,
        // consider the INVITE cancelled.
        self.timers.set(Timer::B, now + 64 * T1);
        self.timers.stop(Timer::A);
        self.timers.stop(Timer::RingTimeout);
        self.state = State::Cancelling {
            tx: NonInviteTx { req, interval: T1 },
            why,
        };
    }

    fn bye_request(&mut self, d: &Dialog, reason: &str) -> OutRequest {
        let cseq = self.next_cseq;
        self.next_cseq += 1;
        OutRequest {
            method: Method::Bye,
            cseq,
            branch: self.new_branch(),
            to_tag: Some(d.remote_tag.clone()),
            target: d.target.clone(),
            routes: d.routes.clone(),
            sdp: None,
            auth: None,
            reason: Some(reason.to_string()),
        }
    }

    fn start_bye(&mut self, now: Instant, dialog: Box<Dialog>, reason: &str, why: Termination) {
        let req = self.bye_request(&dialog, reason);
        let note = EventKind::ByeSent {
            reason: reason.to_string(),
        };
        self.send(Outgoing::Request(req.clone()), Some(note));
        self.out.push_back(Output::Media(MediaCommand::Stop));
        for t in [Timer::MenuStep, Timer::MaxDuration, Timer::G, Timer::H] {
            self.timers.stop(t);
        }
        if !self.p.reliable {
            self.timers.set(Timer::E, now + T1);
        }
        self.timers.set(Timer::F, now + 64 * T1);
        self.state = State::Closing {
            dialog,
            tx: NonInviteTx { req, interval: T1 },
            why,
        };
    }

    fn on_timer(&mut self, now: Instant, t: Timer) {
        match t {
            Timer::A => {
                if matches!(self.state, State::Calling) {
                    let req = self.invite.req.clone();
                    let note = EventKind::Retransmit {
                        method: "INVITE".into(),
                        cseq: req.cseq,
                    };
                    self.send(Outgoing::Request(req), Some(note));
                    self.invite.interval *= 2;
                    self.timers.set(Timer::A, now + self.invite.interval);
                }
            }
            Timer::B => match std::mem::replace(&mut self.state, State::Ended) {
                State::Cancelling { why, .. } => self.end(now, why),
                State::Calling | State::Proceeding { .. } => {
                    let t = Termination {
                        result: Outcome::Failed,
                        code: Some(408),
                        reason: "no response to INVITE (timer B)".into(),
                        hangup_by: None,
                    };
                    self.end(now, t)
                }
                other => self.state = other,
            },
            Timer::RingTimeout => {
                let secs = self.p.ring_timeout.as_secs_f64();
                match std::mem::replace(&mut self.state, State::Ended) {
                    State::Proceeding { .. } => {
                        let why = Termination::new(
                            Outcome::NoAnswer,
                            format!("no answer within ring timeout ({secs}s)"),
                        );
                        self.start_cancel(now, "ring timeout", why);
                    }
                    State::Calling => {
                        // No provisional yet: a CANCEL is not allowed (§9.1). Give up now and
                        // CANCEL if a provisional still turns up while we linger.
                        self.invite.cancel_wanted = true;
                        let t = Termination::new(
                            Outcome::Failed,
                            format!("no response within ring timeout ({secs}s)"),
                        );
                        self.end(now, t);
                    }
                    other => self.state = other,
                }
            }
            Timer::E => {
                let tx = match &mut self.state {
                    State::Cancelling { tx, .. } | State::Closing { tx, .. } => tx,
                    _ => return,
                };
                let req = tx.req.clone();
                tx.interval = (tx.interval * 2).min(T2);
                let next = now + tx.interval;
                let note = EventKind::Retransmit {
                    method: req.method.to_string(),
                    cseq: req.cseq,
                };
                self.send(Outgoing::Request(req), Some(note));
                self.timers.set(Timer::E, next);
            }
            Timer::F => match std::mem::replace(&mut self.state, State::Ended) {
                State::Closing { why, .. } => self.end(now, why),
                // CANCEL unanswered: Timer B still decides when the INVITE is given up.
                other => self.state = other,
            },
            Timer::G => {
                let State::Confirmed(d) = &mut self.state else {
                    return;
                };
                let Some((_, resp, interval)) = &mut d.reinvite else {
                    return;
                };
                let resp = resp.clone();
                *interval = (*interval * 2).min(T2);
                let next = now + *interval;
                self.send(Outgoing::Response(resp), None);
                self.timers.set(Timer::G, next);
            }
            Timer::H => {
                // §13.3.1.4: no ACK for our 2xx: end the dialog with a BYE.
                if let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) {
                    let why = Termination {
                        result: Outcome::Answered,
                        code: None,
                        reason: "no ACK for re-INVITE answer".into(),
                        hangup_by: Some(Party::Local),
                    };
                    self.start_bye(now, d, "no ACK", why);
                }
            }
            Timer::D => self.finished = true,
            Timer::MenuStep => self.step_finished(now, |s| matches!(s, MenuStep::Wait(_))),
            Timer::BriefingSilence => {
                self.briefing_wait = false;
                let heard = matches!(&self.state, State::Confirmed(d) if d.heard);
                if heard {
                    self.step_finished(now, |s| matches!(s, MenuStep::Play(_)));
                } else if let State::Confirmed(d) = &mut self.state {
                    d.repeats_left = d.repeats_left.saturating_sub(1);
                    self.replay_briefing(now, "far end silent");
                }
            }
            Timer::MaxDuration => {
                if let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) {
                    self.emit(now, EventKind::MaxDuration);
                    let why = Termination {
                        result: Outcome::Answered,
                        code: None,
                        reason: "maximum call duration reached".into(),
                        hangup_by: Some(Party::Local),
                    };
                    self.start_bye(now, d, "max duration", why);
                }
            }
        }
    }

    fn running_briefing(&self) -> bool {
        match &self.state {
            State::Confirmed(d) => matches!(d.menu, MenuProgress::Running(i)
                if matches!(self.p.menu.get(i), Some(MenuStep::Play(s)) if s == BRIEFING)),
            _ => false,
        }
    }

    /// A playback ended. After the briefing, wait for the far end to speak before moving on;
    /// play it again if the line stays silent (policy permitting).
    fn playback_finished(&mut self, now: Instant) {
        if self.running_briefing()
            && let State::Confirmed(d) = &mut self.state
            && d.repeats_left > 0
        {
            d.heard = false;
            self.briefing_wait = true;
            self.timers
                .set(Timer::BriefingSilence, now + self.p.briefing.silence);
            return;
        }
        self.step_finished(now, |s| matches!(s, MenuStep::Play(_)));
    }

    /// An operator takes over: the menu ends where it is (no replay, no closing hangup).
    fn take_over(&mut self, now: Instant) {
        self.operator_on_line = true;
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        if d.menu == MenuProgress::Done {
            return;
        }
        d.menu = MenuProgress::Done;
        self.briefing_wait = false;
        self.timers.stop(Timer::BriefingSilence);
        self.timers.stop(Timer::MenuStep);
        self.out
            .push_back(Output::Media(MediaCommand::StopPlayback));
        self.emit(now, EventKind::MenuDone);
    }

    fn replay_briefing(&mut self, now: Instant, why: &str) {
        self.briefing_wait = false;
        self.timers.stop(Timer::BriefingSilence);
        self.emit(
            now,
            EventKind::BriefingRepeated {
                reason: why.to_string(),
            },
        );
        self.out.push_back(Output::Media(MediaCommand::Play {
            source: BRIEFING.to_string(),
        }));
    }

    fn dtmf_received(&mut self, now: Instant, digit: char) {
        if digit != '*' || !self.p.briefing.repeat_on_star {
            return;
        }
        let State::Confirmed(d) = &self.state else {
            return;
        };
        // Only while the briefing step is current (playing, or waiting after it).
        let current = matches!(d.menu, MenuProgress::Running(i)
            if matches!(self.p.menu.get(i), Some(MenuStep::Play(s)) if s == BRIEFING));
        if current {
            self.replay_briefing(now, "star pressed");
        }
    }

    /// The running menu step finished if it is of the kind `is`; go on with the next one.
    fn step_finished(&mut self, now: Instant, is: impl Fn(&MenuStep) -> bool) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        if let MenuProgress::Running(i) = d.menu
            && self.p.menu.get(i).is_some_and(is)
        {
            d.menu = MenuProgress::Next(i + 1);
            self.advance_menu(now);
        }
    }

    fn advance_menu(&mut self, now: Instant) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let MenuProgress::Next(i) = d.menu else {
            return;
        };
        let Some(step) = self.p.menu.get(i).cloned() else {
            d.menu = MenuProgress::Done;
            self.emit(now, EventKind::MenuDone);
            return;
        };
        d.menu = MenuProgress::Running(i);
        self.emit(
            now,
            EventKind::MenuStep {
                index: i,
                step: step.describe(),
            },
        );
        match step {
            MenuStep::Wait(dur) => self.timers.set(Timer::MenuStep, now + dur),
            MenuStep::Dtmf {
                digits,
                duration_ms,
            } => self.out.push_back(Output::Media(MediaCommand::SendDtmf {
                digits,
                duration_ms,
            })),
            MenuStep::Play(source) => self
                .out
                .push_back(Output::Media(MediaCommand::Play { source })),
            MenuStep::Hangup if self.operator_on_line => {
                // People are talking on the bridge: they end the call, not the menu.
                if let State::Confirmed(d) = &mut self.state {
                    d.menu = MenuProgress::Done;
                }
                self.emit(now, EventKind::MenuDone);
            }
            MenuStep::Hangup => {
                let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) else {
                    unreachable!("checked Confirmed above")
                };
                self.emit(now, EventKind::MenuDone);
                let why = Termination {
                    result: Outcome::Answered,
                    code: None,
                    reason: "menu finished".into(),
                    hangup_by: Some(Party::Local),
                };
                self.start_bye(now, d, "menu finished", why);
            }
        }
    }

    fn end(&mut self, now: Instant, t: Termination) {
        if self.termination.is_some() {
            return;
        }
        self.state = State::Ended;
        self.timers.clear();
        self.out.push_back(Output::Media(MediaCommand::Stop));
        self.emit(now, EventKind::Ended { result: t.result });
        self.out.push_back(Output::Terminated(t.clone()));
        self.termination = Some(t);
        if self.p.reliable {
            self.finished = true;
        } else {
            self.timers.set(Timer::D, now + TIMER_D_UDP);
        }
    }
}

fn start_media(n: &Negotiated, early: bool) -> MediaCommand {
    MediaCommand::Start {
        early,
        remote: n.remote,
        codec: n.codec,
        codec_pt: n.codec_pt,
        dtmf_pt: n.dtmf_pt,
    }
}
