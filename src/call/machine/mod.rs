//! The call core: one outbound call's whole SIP life as a pure, time-injected state machine
//! (str0m / quinn-proto style). No sockets, no clock: the edge feeds [`Input`]s with the time
//! the packet arrived, drains [`Output`]s, and wakes us at [`Call::poll_timeout`].
//!
//! It owns the INVITE client transaction (RFC 3261 §17.1.1, timers A/B), the CANCEL and BYE
//! non-INVITE transactions (§17.1.2, timers E/F), the dialog, answers to in-dialog requests
//! (§12.2.2, §14.2, timers G/H for a far-end re-INVITE) and the walk through the vendor's menu.

mod listening;
mod media;
mod menu_walk;
mod requests;
mod responses;
mod session;
mod teardown;
mod truth;

use super::digest::{AuthFailure, AuthPolicy, DigestSession};
use super::event::EventKind;
use super::ids::{Branch, CallId, Method, Tag};
use super::io::{
    DialogState, Input, MediaCommand, OutRequest, OutResponse, Outgoing, Output, Request, Response,
};
use super::menu::{MenuProgress, MenuStep};
use super::session_timer::{self as st, Keeper, TimerRequest};
use super::termination::{Outcome, Party, Termination};
use super::timer::{T1, T2, TIMER_D_UDP, Timer, Timers};
use crate::media::sampled::SampledCount;
use crate::media::sdp::{self, Direction, Negotiated};
use crate::media::srtp::{Crypto, LocalSrtp, SrtpKeys, SrtpMode};
use media::start_media;
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
    /// Which configured limit `ring_timeout` is, named in the reason when it fires.
    pub ring_limit: RingLimit,
    /// Longest the call stays up after answer.
    pub max_duration: Duration,
    pub menu: Vec<MenuStep>,
    /// Whose 401/407 we answer with the configured credentials; `None`: no credentials.
    pub auth: Option<AuthPolicy>,
    /// How the briefing (`play` of [`BRIEFING`]) repeats.
    pub briefing: BriefingPolicy,
    /// SDES-SRTP: the policy and our keys (from the I/O edge's CSPRNG); `None`: plain RTP.
    pub srtp: Option<LocalSrtp>,
    /// Random bits (at least 64, from the I/O edge) in every branch we create: a branch is
    /// never derivable from the Call-ID, which the timeline, logs and notify messages show
    /// (RFC 3261 §8.1.1.7; security review finding 3).
    pub branch_key: String,
    /// A contact judged on time to a person (its menu has `wait = "human"`): its SLA
    /// `answer_within`, counted from the INVITE ([`Timer::HumanSla`]). `None`: judged on the
    /// 200 OK.
    pub human_sla: Option<Duration>,
    /// RFC 4028: the session interval our INVITE asks for (`Supported: timer`,
    /// `Session-Expires`, `Min-SE`), seconds; `None`: no session timers offered.
    pub session_expires: Option<u32>,
}

/// The limit that stops the ringing: the contact's `ring_timeout`, or (in a ladder, when it
/// is shorter) its SLA `answer_within`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RingLimit {
    #[default]
    RingTimeout,
    AnswerWithin,
}

impl RingLimit {
    /// "ring_timeout 45s" / "SLA answer_within 15s".
    pub fn describe(self, d: Duration) -> String {
        let secs = d.as_secs_f64();
        match self {
            RingLimit::RingTimeout => format!("ring_timeout {secs}s"),
            RingLimit::AnswerWithin => format!("SLA answer_within {secs}s"),
        }
    }
}

/// The `play` source name of the incident briefing.
pub const BRIEFING: &str = "briefing";
/// The source a `2` during the briefing plays: the rest of the default briefing.
pub const BRIEFING_DETAILS: &str = "briefing_details";
/// The source played as the probe line during `wait = "human"`.
pub const PROBE: &str = "probe";

/// When the briefing is played again: `*` from the far end restarts it; after it ends, if the
/// far end stays silent for `silence`, it is played again, up to `repeats` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BriefingPolicy {
    pub repeats: u8,
    pub repeat_on_star: bool,
    pub silence: Duration,
    /// `2` from the far end plays [`BRIEFING_DETAILS`] (the default briefing has them).
    pub details_on_2: bool,
}

impl Default for BriefingPolicy {
    fn default() -> Self {
        Self {
            repeats: 0,
            repeat_on_star: true,
            silence: Duration::from_secs(3),
            details_on_2: false,
        }
    }
}

#[derive(Debug)]
struct InviteTx {
    req: OutRequest,
    /// Current Timer A interval.
    interval: Duration,
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
    /// `wait = "prompt"`: a prompt has been heard since (or was sounding at) the step start.
    prompt_heard: bool,
    /// RFC 4028: the session interval and who refreshes it; `None`: no session timer.
    session: Option<session::Session>,
    /// `Allow` of the 2xx named UPDATE: refreshes go as UPDATE without SDP (RFC 3311).
    peer_update: bool,
    /// Our refresh in flight (re-INVITE or UPDATE).
    refresh: Option<session::RefreshTx>,
    /// The ACK of our last re-INVITE's 2xx, re-sent if the 2xx is retransmitted.
    refresh_ack: Option<OutRequest>,
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
    /// Our client transactions (branch, method): a response must answer one of them.
    sent: VecDeque<(Branch, Method)>,
    /// Responses dropped because they answer none of our transactions.
    rejected: SampledCount,
    /// The SDP answer we negotiated (kept to answer a far-end re-INVITE).
    negotiated: Option<Negotiated>,
    /// Early media was started from a 183's SDP.
    early: Option<Negotiated>,
    /// The SRTP keys media runs with now (`None`: plain RTP).
    media_keys: Option<SrtpKeys>,
    sdp_version: u64,
    /// Responses we gave to inbound requests, replayed on their retransmissions.
    answered: Vec<(Branch, Method, OutResponse)>,
    termination: Option<Termination>,
    finished: bool,
    /// An operator is (or was) on the bridge: the menu no longer hangs up.
    operator_on_line: bool,
    /// Nonces and nonce counts of the digest challenges answered in this call.
    digest: DigestSession,
    /// The listener reports speech right now.
    speaking: bool,
    /// A person was detected (by the listener, or labelled by an operator).
    human: bool,
    /// A person was detected on the line (`wait = "human"` finished on them).
    person: bool,
    /// Our media direction now (hold / unhold by the far end).
    direction: Direction,
    /// A 422 was answered once already (RFC 4028 §7.3: retry once with its Min-SE).
    interval_retried: bool,
}

impl Call {
    /// Starts the call: queues the INVITE and arms its timers.
    pub fn new(p: CallParams, now: Instant) -> Self {
        let (crypto, savp) = match &p.srtp {
            Some(l) => (l.offered(), l.mode == SrtpMode::Required),
            None => (Vec::new(), false),
        };
        let offer = sdp::offer_with(
            p.local_media.ip(),
            p.local_media.port(),
            p.session_id,
            1,
            &crypto,
            savp,
        );
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
                    auth: Vec::new(),
                    reason: None,
                    timer: p.session_expires.map(|secs| TimerRequest {
                        expires: st::SessionExpires {
                            secs,
                            refresher: None,
                        },
                        min_se: st::MIN_SE,
                    }),
                },
                interval: T1,
                cancel_wanted: false,
                cancel_sent: false,
            },
            next_cseq: 2,
            branches: 0,
            sent: VecDeque::new(),
            rejected: SampledCount::default(),
            negotiated: None,
            early: None,
            media_keys: None,
            sdp_version: 1,
            answered: Vec::new(),
            termination: None,
            finished: false,
            operator_on_line: false,
            digest: DigestSession::default(),
            speaking: false,
            human: false,
            person: false,
            direction: Direction::SendRecv,
            interval_retried: false,
            p,
        };
        call.invite.req.branch = call.new_branch();
        call.send_invite(now);
        call.timers
            .set(Timer::RingTimeout, now + call.p.ring_timeout);
        if let Some(sla) = call.p.human_sla {
            call.timers.set(Timer::HumanSla, now + sla);
        }
        call
    }

    /// The call's id.
    pub fn call_id(&self) -> &CallId {
        &self.p.call_id
    }

    /// The confirmed dialog (remote tag, target, route set, our next CSeq): what another
    /// process needs to end this call with a BYE if this one dies. `None` unless answered
    /// and not yet closing.
    pub fn dialog_state(&self) -> Option<DialogState> {
        match &self.state {
            State::Confirmed(d) => Some(DialogState {
                remote_tag: d.remote_tag.clone(),
                target: d.target.clone(),
                routes: d.routes.clone(),
                next_cseq: self.next_cseq,
            }),
            _ => None,
        }
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
            Input::TrunkUnreachable(e) => {
                if matches!(self.state, State::Calling) {
                    self.on_transport_error(now, e)
                }
            }
            Input::DtmfFinished => self.step_finished(now, |s| matches!(s, MenuStep::Dtmf { .. })),
            Input::PlaybackFinished => self.playback_finished(now),
            Input::DtmfReceived(digit) => self.dtmf_received(now, digit),
            Input::RemoteActivity => {
                if let State::Confirmed(d) = &mut self.state {
                    d.heard = true;
                    if self.timers.is_set(Timer::BriefingSilence) {
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
            Input::ReplayBriefing(why) => self.operator_replay(now, &why),
            Input::Heard(h) => self.heard(now, h),
            Input::Labelled { label, by } => self.labelled(now, label, by),
        }
    }

    fn new_branch(&mut self) -> Branch {
        self.branches += 1;
        // A random key per call + a counter: unique in space and time, and unguessable.
        Branch(format!("z9hG4bK{}.{}", self.p.branch_key, self.branches))
    }

    /// How many responses were dropped for answering none of our transactions.
    pub fn rejected_responses(&self) -> u64 {
        self.rejected.count()
    }

    fn emit(&mut self, at: Instant, kind: EventKind) {
        self.out.push_back(Output::Event { at, kind });
    }

    fn send(&mut self, msg: Outgoing, note: Option<EventKind>) {
        if let Outgoing::Request(r) = &msg
            && r.method != Method::Ack
            && !self
                .sent
                .iter()
                .any(|(b, m)| *b == r.branch && *m == r.method)
        {
            // A call makes a handful of transactions; keep the newest few dozen.
            if self.sent.len() == 32 {
                self.sent.pop_front();
            }
            self.sent.push_back((r.branch.clone(), r.method.clone()));
        }
        self.out.push_back(Output::Send { msg, note });
    }

    fn send_invite(&mut self, now: Instant) {
        let note = EventKind::InviteSent {
            cseq: self.invite.req.cseq,
            authenticated: !self.invite.req.auth.is_empty(),
        };
        self.send(Outgoing::Request(self.invite.req.clone()), Some(note));
        self.invite.interval = T1;
        if !self.p.reliable {
            self.timers.set(Timer::A, now + T1);
        }
        self.timers.set(Timer::B, now + 64 * T1);
        self.timers
            .set(Timer::Trying, now + super::timer::TRYING_TIMEOUT);
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
            Timer::Trying => {
                if let State::Calling = self.state {
                    // Like a ring timeout before any provisional: no CANCEL is allowed yet
                    // (§9.1); send one if a provisional still turns up while we linger.
                    self.invite.cancel_wanted = true;
                    let secs = super::timer::TRYING_TIMEOUT.as_secs_f64();
                    let t = Termination::new(
                        Outcome::Failed,
                        format!("trunk unreachable: no response to INVITE within {secs}s"),
                    );
                    self.end(now, t);
                }
            }
            Timer::RingTimeout => {
                let limit = self.p.ring_limit.describe(self.p.ring_timeout);
                match std::mem::replace(&mut self.state, State::Ended) {
                    State::Proceeding { .. } => {
                        let why = Termination::new(
                            Outcome::NoAnswer,
                            format!("{limit} reached: no answer"),
                        );
                        self.start_cancel(now, &format!("{limit} reached"), why);
                    }
                    State::Calling => {
                        // No provisional yet: a CANCEL is not allowed (§9.1). Give up now and
                        // CANCEL if a provisional still turns up while we linger.
                        self.invite.cancel_wanted = true;
                        let t = Termination::new(
                            Outcome::Failed,
                            format!("{limit} reached: no response"),
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
            Timer::SessionRefresh => self.send_refresh(now),
            Timer::SessionExpiry => self.session_expired(now),
            Timer::RefreshRetransmit => self.retransmit_refresh(now),
            Timer::RefreshTimeout => self.refresh_timed_out(now),
            Timer::MenuStep => self.wait_over(now),
            Timer::HumanSla => self.human_sla_over(now),
            Timer::BriefingSilence => {
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
