//! Requests from the far end inside our call: BYE, OPTIONS, INFO, re-INVITE/UPDATE (hold and
//! unhold, RFC 3264 §8), retransmissions answered with the same response (§17.2).

use super::*;

impl Call {
    pub(super) fn respond(
        &mut self,
        req: &Request,
        status: u16,
        reason: &'static str,
        sdp: Option<String>,
    ) {
        self.respond_full(req, status, reason, sdp, None)
    }

    pub(super) fn respond_full(
        &mut self,
        req: &Request,
        status: u16,
        reason: &'static str,
        sdp: Option<String>,
        timer: Option<st::TimerAnswer>,
    ) {
        let resp = OutResponse {
            handle: req.handle,
            status,
            reason,
            sdp,
            timer,
        };
        self.answered
            .push((req.branch.clone(), req.method.clone(), resp.clone()));
        self.send(Outgoing::Response(resp), None);
    }

    pub(super) fn on_request(&mut self, now: Instant, req: Request) {
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
    pub(super) fn on_reoffer(&mut self, now: Instant, req: Request) {
        if req.method == Method::Update && req.sdp.is_none() {
            // RFC 3311: an UPDATE without an offer gets no answer; as a session refresh
            // (RFC 4028 §9) it only restarts the timer.
            let timer = self.refreshed_by_them(now, &req.timer);
            self.respond_full(&req, 200, "OK", None, timer);
            return;
        }
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
        // SDES in a re-offer (RFC 4568 §7.1.4): answer its key with ours for that suite;
        // an offer without one keeps plain RTP unless SRTP is required.
        let local = self.p.srtp.filter(|l| l.mode != SrtpMode::Off);
        let (secure, keys) = match (req.sdp.as_deref(), local, neg.crypto) {
            // No SDP in the re-INVITE: our answer is an offer of what runs now.
            (None, Some(l), _) => match self.media_keys {
                Some(k) => (Some((l.answer_offer(&crypto_of(&k)).0, neg.savp)), Some(k)),
                None => (None, None),
            },
            (Some(_), Some(l), Some(theirs)) => {
                let (attr, keys) = l.answer_offer(&theirs);
                (Some((attr, neg.savp)), Some(keys))
            }
            (_, Some(l), None) if l.mode == SrtpMode::Required => {
                self.respond(&req, 488, "Not Acceptable Here", None);
                return;
            }
            (_, None, _) if neg.savp => {
                self.respond(&req, 488, "Not Acceptable Here", None);
                return;
            }
            _ => (None, None),
        };
        self.sdp_version += 1;
        let body = sdp::answer(
            self.p.local_media.ip(),
            self.p.local_media.port(),
            self.p.session_id,
            self.sdp_version,
            &neg,
            ours,
            secure.as_ref().map(|(c, savp)| (c, *savp)),
        );
        self.emit(
            now,
            EventKind::ReinviteReceived {
                direction: format!("{:?}", neg.direction).to_lowercase(),
            },
        );
        if neg.remote != current.remote || keys != self.media_keys {
            self.out
                .push_back(Output::Media(start_media(&neg, false, keys)));
            self.media_keys = keys;
        }
        self.out
            .push_back(Output::Media(MediaCommand::Direction(ours)));
        let sending = |d: Direction| matches!(d, Direction::SendRecv | Direction::SendOnly);
        let receiving = |d: Direction| matches!(d, Direction::SendRecv | Direction::RecvOnly);
        let held = |d: Direction| !(sending(d) && receiving(d));
        match (held(self.direction), held(ours)) {
            (false, true) => self.emit(
                now,
                EventKind::Hold {
                    direction: ours.as_str().into(),
                },
            ),
            (true, false) => self.emit(now, EventKind::Unhold),
            _ => {}
        }
        self.direction = ours;
        self.negotiated = Some(neg);
        let is_invite = req.method == Method::Invite;
        let timer = self.refreshed_by_them(now, &req.timer);
        self.respond_full(&req, 200, "OK", Some(body), timer);
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
}

/// The attribute that carried `keys` (to restate them in an answer without a new offer).
pub(super) fn crypto_of(keys: &SrtpKeys) -> Crypto {
    Crypto {
        tag: 1,
        suite: keys.suite,
        key: keys.theirs,
    }
}
