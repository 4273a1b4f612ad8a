//! The inbound call core: one call *to* hotline (a vendor calling back) as a pure,
//! time-injected state machine, the UAS twin of [`super::Call`]. No sockets, no clock.
//!
//! It owns the INVITE server transaction (RFC 3261 §17.2.1: 100 at once, 180, the final
//! response retransmitted on unreliable transports until its ACK, Timer G/H), CANCEL before
//! answer (§9.2: 200 to the CANCEL, 487 to the INVITE), the dialog (§12.1.1: the route set is
//! the Record-Route in received order, the remote target the caller's Contact), BYE either way
//! (our BYE as a non-INVITE client transaction, Timer E/F) and re-INVITEs answered with our
//! SDP (hold and unhold, §14.2).
//!
//! Who may call in, and what the call is matched to, is decided before a core exists (the
//! callback screening and matching in `crate::ladder`: `screen`, `match_caller`); a core only exists for an admitted call.

mod dialog;
mod timers;

#[cfg(test)]
mod tests;

use super::event::EventKind;
use super::ids::{Branch, CallId, Method, RequestHandle, Tag};
use super::io::{MediaCommand, OutRequest, OutResponse, Outgoing, Output, Request, Response};
use super::termination::{Outcome, Party, Termination};
use super::timer::{T1, TIMER_D_UDP};
use crate::media::sdp::{self, Direction, Negotiated};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
pub use timers::InboundTimer;
use timers::InboundTimers;

/// An initial INVITE as the SIP edge read it: what the core needs to answer it and to build
/// the dialog (RFC 3261 §12.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub handle: RequestHandle,
    /// The INVITE's top Via branch: a CANCEL and a non-2xx ACK carry the same one.
    pub branch: Branch,
    pub cseq: u32,
    /// The caller's From tag: the dialog's remote tag.
    pub from_tag: Tag,
    /// The caller's Contact URI: the remote target of our BYE.
    pub contact: Option<String>,
    /// Record-Route values in received order (the UAS route set keeps that order).
    pub record_route: Vec<String>,
    /// The `application/sdp` body; an INVITE without one is refused (488: hotline does not
    /// make offers in a 2xx).
    pub sdp: Option<String>,
}

/// What an inbound call needs to know before it starts.
#[derive(Clone, Debug)]
pub struct InboundParams {
    pub call_id: CallId,
    /// Our To tag (random, from the I/O edge).
    pub local_tag: Tag,
    /// TCP/TLS: no retransmissions, no linger (RFC 3261 §17.2.1).
    pub reliable: bool,
    /// Our RTP address, put in the SDP answer.
    pub local_media: SocketAddr,
    /// SDP `o=` session id.
    pub session_id: u64,
    /// How long the caller hears ringing before hotline answers (time for the edge's prompt
    /// audio to be ready; zero answers at once).
    pub answer_after: Duration,
    /// Longest the call stays up after answer.
    pub max_duration: Duration,
    /// Random bits (from the I/O edge) in every branch we create (see `CallParams`).
    pub branch_key: String,
}

/// Inputs to [`InboundCall::handle_input`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboundInput {
    /// A request with this call's Call-ID (a retransmitted INVITE, ACK, CANCEL, BYE, re-INVITE…).
    Request(Request),
    /// A response to our BYE.
    Response(Response),
    /// Refuse before answer (the edge's reason, e.g. 480 while shutting down).
    Reject { status: u16, reason: &'static str },
    /// Hang up now: an answered call gets our BYE, an unanswered one a 480.
    Hangup(String),
    /// The transport could not deliver what we sent.
    TransportError(String),
}

/// Where the INVITE server transaction and the dialog are.
#[derive(Debug)]
enum State {
    /// 100 and 180 sent; waiting for [`InboundTimer::Answer`].
    Ringing,
    /// A final response sent; retransmitted (UDP) until its ACK. `answered`: it was our 200.
    Completed {
        resp: OutResponse,
        interval: Duration,
        answered: bool,
    },
    /// 200 ACKed (or a request of the dialog proved it arrived): the call is up.
    Confirmed,
    /// Our BYE is out; waiting for its response.
    Closing { bye: OutRequest, interval: Duration },
    /// Over; lingering to absorb retransmissions.
    Ended,
}

/// One inbound call. See the module docs.
#[derive(Debug)]
pub struct InboundCall {
    p: InboundParams,
    offer: Offer,
    state: State,
    timers: InboundTimers,
    out: VecDeque<Output>,
    /// The codec, payload types and remote address agreed from the caller's offer.
    negotiated: Negotiated,
    /// Our SDP `o=` version: bumped for each answer to a re-offer.
    sdp_version: u64,
    /// Our current direction (a hold re-INVITE changes it).
    direction: Direction,
    /// Our 2xx to a re-INVITE, retransmitted until its ACK: (cseq, response, interval).
    reinvite: Option<(u32, OutResponse, Duration)>,
    /// Responses we gave to in-dialog requests, replayed on their retransmissions.
    answered: Vec<(Branch, Method, OutResponse)>,
    next_cseq: u32,
    branches: u32,
    termination: Option<Termination>,
    finished: bool,
    /// Media was started (at our 200): the end stops it.
    media_on: bool,
}

impl InboundCall {
    /// Takes an admitted INVITE: answers 100 and then 180 (or 488 when its offer cannot be
    /// answered) and arms the answer timer.
    pub fn new(p: InboundParams, offer: Offer, now: Instant) -> Self {
        let negotiated = offer
            .sdp
            .as_deref()
            .ok_or_else(|| "no SDP offer".to_string())
            .and_then(|text| sdp::parse(text).map_err(|e| e.to_string()))
            .and_then(|d| {
                if d.secure_profile() {
                    Err("RTP/SAVP offered: inbound calls take plain RTP".into())
                } else {
                    sdp::negotiate(&d).map_err(|e| e.to_string())
                }
            });
        let placeholder = Negotiated {
            codec: crate::media::g711::Codec::Pcmu,
            codec_pt: crate::media::rtp::PayloadType(0),
            dtmf_pt: None,
            remote: p.local_media,
            direction: Direction::SendRecv,
            crypto: None,
            savp: false,
            rtcp_mux: false,
            rtcp_port: None,
        };
        let mut call = Self {
            negotiated: *negotiated.as_ref().unwrap_or(&placeholder),
            state: State::Ringing,
            timers: InboundTimers::default(),
            out: VecDeque::new(),
            sdp_version: 1,
            direction: Direction::SendRecv,
            reinvite: None,
            answered: Vec::new(),
            next_cseq: 1,
            branches: 0,
            termination: None,
            finished: false,
            media_on: false,
            offer,
            p,
        };
        call.emit(
            now,
            EventKind::OfferReceived {
                cseq: call.offer.cseq,
            },
        );
        call.respond_invite(100, "Trying", None);
        match negotiated {
            Err(why) => {
                call.emit(now, EventKind::OfferRefused { why: why.clone() });
                call.final_response(now, 488, "Not Acceptable Here", None);
                call.end(
                    now,
                    Termination {
                        result: Outcome::Rejected,
                        code: Some(488),
                        reason: format!("offer not answerable: {why}"),
                        hangup_by: None,
                    },
                );
            }
            Ok(_) => {
                call.respond_invite(180, "Ringing", None);
                call.emit(now, EventKind::RingingSent);
                call.timers
                    .set(InboundTimer::Answer, now + call.p.answer_after);
            }
        }
        call
    }

    /// The call's id.
    pub fn call_id(&self) -> &CallId {
        &self.p.call_id
    }

    /// What was agreed for the audio stream (valid once answered).
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// True while the dialog is up (answered, ACKed, not closing).
    pub fn is_confirmed(&self) -> bool {
        matches!(self.state, State::Confirmed)
            || matches!(self.state, State::Completed { answered: true, .. })
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

    /// When to call [`InboundCall::handle_timeout`] next.
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
    pub fn handle_input(&mut self, now: Instant, input: InboundInput) {
        match input {
            InboundInput::Request(r) => self.on_request(now, r),
            InboundInput::Response(r) => self.on_response(now, r),
            InboundInput::Reject { status, reason } => {
                if matches!(self.state, State::Ringing) {
                    self.final_response(now, status, reason, None);
                    self.end(
                        now,
                        Termination {
                            result: Outcome::Rejected,
                            code: Some(status),
                            reason: reason.to_string(),
                            hangup_by: Some(Party::Local),
                        },
                    );
                }
            }
            InboundInput::Hangup(why) => self.hang_up(now, why),
            InboundInput::TransportError(e) => {
                if self.termination.is_none() {
                    self.end(now, Termination::new(Outcome::Failed, e));
                }
                self.finish();
            }
        }
    }

    fn emit(&mut self, at: Instant, kind: EventKind) {
        self.out.push_back(Output::Event { at, kind });
    }

    fn send(&mut self, msg: Outgoing, note: Option<EventKind>) {
        self.out.push_back(Output::Send { msg, note });
    }

    fn new_branch(&mut self) -> Branch {
        self.branches += 1;
        Branch(format!("z9hG4bK{}in{}", self.p.branch_key, self.branches))
    }

    /// A response to the initial INVITE.
    fn respond_invite(&mut self, status: u16, reason: &'static str, sdp: Option<String>) {
        let resp = OutResponse {
            timer: None,
            handle: self.offer.handle,
            status,
            reason,
            sdp,
        };
        self.send(Outgoing::Response(resp), None);
    }

    /// The INVITE's final response: sent, and retransmitted until its ACK (Timer G on UDP,
    /// Timer H either way, RFC 3261 §17.2.1 and §13.3.1.4 for a 2xx).
    fn final_response(
        &mut self,
        now: Instant,
        status: u16,
        reason: &'static str,
        sdp: Option<String>,
    ) {
        self.timers.stop(InboundTimer::Answer);
        let resp = OutResponse {
            timer: None,
            handle: self.offer.handle,
            status,
            reason,
            sdp,
        };
        self.send(Outgoing::Response(resp.clone()), None);
        if !self.p.reliable {
            self.timers.set(InboundTimer::G, now + T1);
        }
        self.timers.set(InboundTimer::H, now + 64 * T1);
        self.state = State::Completed {
            resp,
            interval: T1,
            answered: (200..300).contains(&status),
        };
    }

    /// Our SDP answer (RFC 3264 §6.1) to `neg` with our current version.
    fn sdp_answer(&self, neg: &Negotiated, direction: Direction) -> String {
        sdp::answer(
            self.p.local_media.ip(),
            self.p.local_media.port(),
            self.p.session_id,
            self.sdp_version,
            neg,
            direction,
            None,
        )
    }

    fn answer(&mut self, now: Instant) {
        let neg = self.negotiated;
        self.direction = sdp::answer_direction(neg.direction);
        let body = self.sdp_answer(&neg, self.direction);
        self.final_response(now, 200, "OK", Some(body));
        self.emit(now, EventKind::AnsweredLocal { code: 200 });
        self.media_on = true;
        self.out.push_back(Output::Media(media_start(&neg)));
        self.timers
            .set(InboundTimer::MaxDuration, now + self.p.max_duration);
    }

    fn hang_up(&mut self, now: Instant, why: String) {
        match self.state {
            State::Ringing => {
                self.final_response(now, 480, "Temporarily Unavailable", None);
                self.end(
                    now,
                    Termination {
                        result: Outcome::Cancelled,
                        code: Some(480),
                        reason: why,
                        hangup_by: Some(Party::Local),
                    },
                );
            }
            State::Confirmed | State::Completed { answered: true, .. } => self.send_bye(now, why),
            _ => {}
        }
    }

    fn end(&mut self, now: Instant, t: Termination) {
        if self.termination.is_some() {
            return;
        }
        self.timers.stop(InboundTimer::MaxDuration);
        self.emit(now, EventKind::Ended { result: t.result });
        if std::mem::take(&mut self.media_on) {
            self.out.push_back(Output::Media(MediaCommand::Stop));
        }
        self.termination = Some(t.clone());
        self.out.push_back(Output::Terminated(t));
    }

    /// Over: linger to absorb retransmissions (UDP), or finish at once (TCP).
    fn linger(&mut self, now: Instant) {
        self.state = State::Ended;
        self.timers.clear();
        if self.p.reliable {
            self.finish();
        } else {
            self.timers.set(InboundTimer::Linger, now + TIMER_D_UDP);
        }
    }

    fn finish(&mut self) {
        self.state = State::Ended;
        self.timers.clear();
        self.finished = true;
    }
}

/// Media for what was negotiated: plain RTP (inbound takes no SRTP), RTCP on RTP port + 1 or
/// the offer's `a=rtcp:` (our answer does not offer rtcp-mux).
fn media_start(neg: &Negotiated) -> MediaCommand {
    MediaCommand::Start {
        early: false,
        remote: neg.remote,
        codec: neg.codec,
        codec_pt: neg.codec_pt,
        dtmf_pt: neg.dtmf_pt,
        srtp: None,
        rtcp: crate::media::rtcp::RtcpPeer::of(&Negotiated {
            rtcp_mux: false,
            ..*neg
        }),
    }
}
