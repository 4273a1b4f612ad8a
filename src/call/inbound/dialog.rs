//! The inbound call's requests (retransmitted INVITE, ACK, CANCEL, BYE, re-INVITE, OPTIONS),
//! our BYE's responses and the timers.

use super::*;
use crate::call::timer::T2;

impl InboundCall {
    pub(super) fn on_request(&mut self, now: Instant, req: Request) {
        // A retransmitted in-dialog request gets the same response again (§17.2).
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
        match req.method {
            Method::Invite if req.branch == self.offer.branch => self.invite_again(),
            Method::Ack => self.on_ack(now, &req),
            Method::Cancel => self.on_cancel(now, &req),
            _ => self.in_dialog(now, req),
        }
    }

    /// The initial INVITE again (UDP retransmission): the last response again (§17.2.1).
    fn invite_again(&mut self) {
        match &self.state {
            State::Ringing => self.respond_invite(180, "Ringing", None),
            State::Completed { resp, .. } => {
                let resp = resp.clone();
                self.send(Outgoing::Response(resp), None);
            }
            _ => {}
        }
    }

    fn on_ack(&mut self, now: Instant, req: &Request) {
        match &self.state {
            // The ACK of a 2xx is its own transaction (new branch, same CSeq number); the ACK
            // of a non-2xx shares the INVITE's branch (§17.1.1.3).
            State::Completed { answered: true, .. } if req.cseq == self.offer.cseq => {
                self.timers.stop(InboundTimer::G);
                self.timers.stop(InboundTimer::H);
                self.state = State::Confirmed;
                self.emit(now, EventKind::AckReceived { cseq: req.cseq });
            }
            State::Completed {
                answered: false, ..
            } if req.branch == self.offer.branch => self.linger(now),
            State::Confirmed
                if self
                    .reinvite
                    .as_ref()
                    .is_some_and(|(cseq, ..)| *cseq == req.cseq) =>
            {
                self.reinvite = None;
                self.timers.stop(InboundTimer::G);
                self.timers.stop(InboundTimer::H);
            }
            _ => {}
        }
    }

    /// RFC 3261 §9.2: a CANCEL matching the INVITE's transaction gets 200; before the final
    /// response it ends the INVITE with 487, after it has no effect.
    fn on_cancel(&mut self, now: Instant, req: &Request) {
        if req.branch != self.offer.branch {
            self.reject(now, req, 481, "Call/Transaction Does Not Exist");
            return;
        }
        self.respond(req, 200, "OK", None);
        if matches!(self.state, State::Ringing) {
            self.emit(now, EventKind::CancelReceived);
            self.final_response(now, 487, "Request Terminated", None);
            self.end(
                now,
                Termination {
                    result: Outcome::Cancelled,
                    code: Some(487),
                    reason: "caller cancelled before answer".into(),
                    hangup_by: Some(Party::Remote),
                },
            );
        }
    }

    fn in_dialog(&mut self, now: Instant, req: Request) {
        let up = matches!(
            self.state,
            State::Confirmed | State::Completed { answered: true, .. } | State::Closing { .. }
        );
        if !up || req.to_tag.as_ref() != Some(&self.p.local_tag) {
            self.reject(now, &req, 481, "Call/Transaction Does Not Exist");
            return;
        }
        match req.method {
            Method::Bye => {
                self.respond(&req, 200, "OK", None);
                self.emit(now, EventKind::ByeReceived);
                // Crossing BYEs keep our reason (end() keeps the first termination).
                self.end(
                    now,
                    Termination {
                        result: Outcome::Answered,
                        code: None,
                        reason: "caller hung up".into(),
                        hangup_by: Some(Party::Remote),
                    },
                );
                self.linger(now);
            }
            Method::Invite | Method::Update if matches!(self.state, State::Closing { .. }) => {
                self.reject(now, &req, 481, "Call/Transaction Does Not Exist");
            }
            Method::Invite | Method::Update => self.on_reoffer(now, req),
            Method::Options => {
                self.respond(&req, 200, "OK", None);
                self.emit(now, EventKind::OptionsReceived);
            }
            Method::Info => {
                self.respond(&req, 200, "OK", None);
            }
            _ => self.reject(now, &req, 501, "Not Implemented"),
        }
    }

    /// A re-INVITE (or UPDATE) in the dialog: answered with our SDP for the new offer; media
    /// follows a new address or codec, and hold/unhold through the direction (RFC 3264 §8).
    fn on_reoffer(&mut self, now: Instant, req: Request) {
        let is_invite = req.method == Method::Invite;
        // RFC 3261 §14.2: a second re-INVITE while one is pending gets 491.
        if is_invite && self.reinvite.is_some() {
            self.reject(now, &req, 491, "Request Pending");
            return;
        }
        let neg = match req.sdp.as_deref() {
            // No offer: offer what we have in the 2xx (the ACK's answer changes nothing).
            None => Ok(self.negotiated),
            Some(text) => sdp::parse(text)
                .map_err(|e| e.to_string())
                .and_then(|d| sdp::negotiate(&d).map_err(|e| e.to_string())),
        };
        let neg = match neg {
            Ok(n) => n,
            Err(_) => {
                self.reject(now, &req, 488, "Not Acceptable Here");
                return;
            }
        };
        self.emit(
            now,
            EventKind::ReinviteReceived {
                direction: neg.direction.as_str().to_string(),
            },
        );
        let old = self.negotiated;
        self.negotiated = neg;
        if neg.remote != old.remote || neg.codec != old.codec || neg.codec_pt != old.codec_pt {
            self.out.push_back(Output::Media(media_start(&neg)));
        }
        let direction = sdp::answer_direction(neg.direction);
        if direction != self.direction {
            self.direction = direction;
            self.out
                .push_back(Output::Media(MediaCommand::Direction(direction)));
        }
        self.sdp_version += 1;
        let body = self.sdp_answer(&neg, direction);
        let resp = self.respond(&req, 200, "OK", Some(body));
        if is_invite {
            if !self.p.reliable {
                self.timers.set(InboundTimer::G, now + T1);
            }
            self.timers.set(InboundTimer::H, now + 64 * T1);
            self.reinvite = Some((req.cseq, resp, T1));
        }
    }

    pub(super) fn on_response(&mut self, now: Instant, r: Response) {
        let State::Closing { bye, .. } = &self.state else {
            return;
        };
        if r.method != Method::Bye || r.cseq != bye.cseq || r.status < 200 {
            return;
        }
        self.emit(now, EventKind::ByeResponse { code: r.status });
        self.linger(now);
    }

    pub(super) fn on_timer(&mut self, now: Instant, t: InboundTimer) {
        match t {
            InboundTimer::Answer => {
                if matches!(self.state, State::Ringing) {
                    self.answer(now);
                }
            }
            InboundTimer::G => self.retransmit_final(now),
            InboundTimer::H => match &self.state {
                State::Completed { answered: true, .. } => {
                    // RFC 3261 §13.3.1.4: no ACK for our 2xx: end the dialog with a BYE.
                    self.emit(now, EventKind::NoAck);
                    self.end(
                        now,
                        Termination::new(Outcome::Failed, "no ACK for our 200 OK"),
                    );
                    self.send_bye(now, "no ACK".into());
                }
                State::Completed { .. } => self.linger(now),
                _ => self.reinvite = None,
            },
            InboundTimer::E => {
                if let State::Closing { bye, interval } = &mut self.state {
                    let next = (*interval * 2).min(T2);
                    *interval = next;
                    let bye = bye.clone();
                    let cseq = bye.cseq;
                    self.send(
                        Outgoing::Request(bye),
                        Some(EventKind::Retransmit {
                            method: "BYE".into(),
                            cseq,
                        }),
                    );
                    self.timers.set(InboundTimer::E, now + next);
                }
            }
            InboundTimer::F => {
                if matches!(self.state, State::Closing { .. }) {
                    self.emit(
                        now,
                        EventKind::ByeFailed {
                            reason: "no response to our BYE".into(),
                        },
                    );
                    self.linger(now);
                }
            }
            InboundTimer::MaxDuration => {
                self.emit(now, EventKind::MaxDuration);
                self.send_bye(now, "maximum call duration".into());
            }
            InboundTimer::Linger => self.finish(),
        }
    }

    /// Timer G: the INVITE's final response (or our 2xx to a re-INVITE) again, the interval
    /// doubling up to T2 (§17.2.1).
    fn retransmit_final(&mut self, now: Instant) {
        let again = match &mut self.state {
            State::Completed { resp, interval, .. } => {
                *interval = (*interval * 2).min(T2);
                Some((resp.clone(), *interval))
            }
            State::Confirmed => self.reinvite.as_mut().map(|(_, resp, interval)| {
                *interval = (*interval * 2).min(T2);
                (resp.clone(), *interval)
            }),
            _ => None,
        };
        if let Some((resp, interval)) = again {
            self.send(Outgoing::Response(resp), None);
            self.timers.set(InboundTimer::G, now + interval);
        }
    }

    /// Our BYE (a non-INVITE client transaction, §17.1.2): From/To swap roles (§15.1.1),
    /// the request goes to the caller's Contact along the route set.
    pub(super) fn send_bye(&mut self, now: Instant, why: String) {
        if !matches!(
            self.state,
            State::Confirmed | State::Completed { answered: true, .. }
        ) {
            return;
        }
        let cseq = self.next_cseq;
        self.next_cseq += 1;
        let bye = OutRequest {
            timer: None,
            method: Method::Bye,
            cseq,
            branch: self.new_branch(),
            to_tag: Some(self.offer.from_tag.clone()),
            target: self.offer.contact.clone(),
            routes: self.offer.record_route.clone(),
            sdp: None,
            auth: Vec::new(),
            reason: Some(why.clone()),
        };
        self.send(
            Outgoing::Request(bye.clone()),
            Some(EventKind::ByeSent {
                reason: why.clone(),
            }),
        );
        self.end(
            now,
            Termination {
                result: Outcome::Answered,
                code: None,
                reason: why,
                hangup_by: Some(Party::Local),
            },
        );
        self.timers.clear();
        if !self.p.reliable {
            self.timers.set(InboundTimer::E, now + T1);
        }
        self.timers.set(InboundTimer::F, now + 64 * T1);
        self.reinvite = None;
        self.state = State::Closing { bye, interval: T1 };
    }

    /// Answers `req` and keeps the response for its retransmissions.
    fn respond(
        &mut self,
        req: &Request,
        status: u16,
        reason: &'static str,
        sdp: Option<String>,
    ) -> OutResponse {
        let resp = OutResponse {
            timer: None,
            handle: req.handle,
            status,
            reason,
            sdp,
        };
        self.answered
            .push((req.branch.clone(), req.method.clone(), resp.clone()));
        self.send(Outgoing::Response(resp.clone()), None);
        resp
    }

    fn reject(&mut self, now: Instant, req: &Request, code: u16, reason: &'static str) {
        self.respond(req, code, reason, None);
        self.emit(
            now,
            EventKind::RequestRejected {
                method: req.method.to_string(),
                code,
            },
        );
    }
}
