//! Responses to our requests: the INVITE client transaction (provisional, 2xx with its ACK,
//! non-2xx with the in-transaction ACK, digest challenges, RFC 3261 §17.1.1) and BYE answers.

use super::*;

impl Call {
    pub(super) fn on_response(&mut self, now: Instant, r: Response) {
        // RFC 3261 §17.1.3: a response matches a client transaction by its top Via branch
        // and CSeq method. Anything else is not ours (a forgery, or a stray): dropped.
        let ours = r
            .branch
            .as_ref()
            .is_some_and(|b| self.sent.iter().any(|(sb, sm)| sb == b && *sm == r.method));
        if !ours {
            if let Some(count) = self.rejected.note() {
                self.emit(
                    now,
                    EventKind::ResponseRejected {
                        code: r.status,
                        from: None,
                        why: "answers none of our transactions (branch)".into(),
                        count,
                    },
                );
            }
            return;
        }
        if self.is_refresh_response(&r) {
            return self.on_refresh_response(now, r);
        }
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

    pub(super) fn on_invite_response(&mut self, now: Instant, r: Response) {
        if r.cseq == self.invite.req.cseq {
            // Any response shows the trunk is there.
            self.timers.stop(Timer::Trying);
        }
        match r.status {
            100..=199 => self.on_provisional(now, r),
            200..=299 => self.on_success(now, r),
            _ => self.on_failure(now, r),
        }
    }

    pub(super) fn on_provisional(&mut self, now: Instant, r: Response) {
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
            // Early media without the keys SRTP requires stays off (the answer decides).
            && let Ok(keys) = self.answer_keys(&neg)
        {
            self.emit(now, EventKind::EarlyMedia);
            if let Some(k) = &keys {
                self.emit(
                    now,
                    EventKind::MediaSecured {
                        suite: k.suite.name().into(),
                    },
                );
            }
            self.out
                .push_back(Output::Media(start_media(&neg, true, keys)));
            self.media_keys = keys;
            self.early = Some(neg);
        }
        if self.invite.cancel_wanted && !self.invite.cancel_sent {
            let why = Termination::new(Outcome::Cancelled, "hung up before answer");
            self.start_cancel(now, "hangup", why);
        }
    }

    pub(super) fn on_success(&mut self, now: Instant, r: Response) {
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
            timer: None,
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
        let keys = match self.answer_keys(&neg) {
            Ok(k) => k,
            Err(reason) => {
                let why = Termination {
                    result: Outcome::Failed,
                    code: Some(r.status),
                    reason,
                    hangup_by: Some(Party::Local),
                };
                self.start_bye(now, dialog, "488 Not Acceptable Here", why);
                return;
            }
        };
        if let Some(k) = &keys
            && self.media_keys.is_none()
        {
            self.emit(
                now,
                EventKind::MediaSecured {
                    suite: k.suite.name().into(),
                },
            );
        }
        self.out
            .push_back(Output::Media(start_media(&neg, false, keys)));
        self.media_keys = keys;
        self.negotiated = Some(neg);
        self.timers
            .set(Timer::MaxDuration, now + self.p.max_duration);
        self.state = State::Confirmed(dialog);
        self.session_answered(now, &r.timer);
        self.advance_menu(now);
    }

    pub(super) fn dialog(
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
            prompt_heard: false,
            session: None,
            peer_update: false,
            refresh: None,
            refresh_ack: None,
        })
    }

    pub(super) fn send_ack(&mut self, d: &Dialog) {
        let note = EventKind::AckSent { cseq: d.ack.cseq };
        self.send(Outgoing::Request(d.ack.clone()), Some(note));
    }

    pub(super) fn on_failure(&mut self, now: Instant, r: Response) {
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
            auth: Vec::new(),
            reason: None,
            timer: None,
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
        if matches!(r.status, 401 | 407)
            && !r.challenges.is_empty()
            && !matches!(self.state, State::Cancelling { .. })
        {
            return self.on_challenge(now, r);
        }
        if r.status == 422
            && !matches!(self.state, State::Cancelling { .. })
            && self.retry_interval(now, &r)
        {
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

    /// A 401/407 to our INVITE (RFC 3261 §22.2): answer it in a new INVITE transaction, or
    /// end the call saying why no digest was sent.
    fn on_challenge(&mut self, now: Instant, r: Response) {
        self.emit(now, EventKind::challenged(r.status, &r.challenges));
        let failed = |reason: String| Termination {
            result: Outcome::Failed,
            code: Some(r.status),
            reason,
            hangup_by: None,
        };
        let Some(policy) = &self.p.auth else {
            let why = "authentication required but no credentials configured".to_string();
            return self.end(now, failed(why));
        };
        match self.digest.on_challenge(&r.challenges, r.source, policy) {
            Ok(auth) => {
                self.invite.req.auth = auth;
                self.invite.req.cseq = self.next_cseq;
                self.next_cseq += 1;
                self.invite.req.branch = self.new_branch();
                self.state = State::Calling;
                self.send_invite(now);
            }
            Err(AuthFailure::Refused(reason)) => {
                self.emit(
                    now,
                    EventKind::ChallengeRefused {
                        code: r.status,
                        reason: reason.clone(),
                    },
                );
                self.end(now, failed(reason));
            }
            Err(AuthFailure::Rejected(reason)) => self.end(now, failed(reason)),
        }
    }

    /// A 401/407 to our BYE: answered like the INVITE's (same realm policy, nc counting on
    /// under a nonce already used). True if a new BYE went out.
    fn answer_bye_challenge(&mut self, now: Instant, r: &Response) -> bool {
        let Some(policy) = self.p.auth.clone() else {
            return false;
        };
        self.emit(now, EventKind::challenged(r.status, &r.challenges));
        let auth = match self.digest.on_challenge(&r.challenges, r.source, &policy) {
            Ok(auth) => auth,
            Err(AuthFailure::Refused(reason)) => {
                let code = r.status;
                self.emit(now, EventKind::ChallengeRefused { code, reason });
                return false;
            }
            Err(AuthFailure::Rejected(_)) => return false,
        };
        let cseq = self.next_cseq;
        self.next_cseq += 1;
        let branch = self.new_branch();
        let State::Closing { tx, .. } = &mut self.state else {
            return false;
        };
        tx.req.cseq = cseq;
        tx.req.branch = branch;
        tx.req.auth = auth;
        tx.interval = T1;
        let req = tx.req.clone();
        let note = EventKind::ByeSent {
            reason: "answering a digest challenge".into(),
        };
        self.send(Outgoing::Request(req), Some(note));
        if !self.p.reliable {
            self.timers.set(Timer::E, now + T1);
        }
        self.timers.set(Timer::F, now + 64 * T1);
        true
    }

    pub(super) fn on_bye_response(&mut self, now: Instant, r: Response) {
        if r.status < 200 {
            return;
        }
        let State::Closing { tx, .. } = &self.state else {
            return;
        };
        if tx.req.cseq != r.cseq {
            return;
        }
        if matches!(r.status, 401 | 407)
            && !r.challenges.is_empty()
            && self.answer_bye_challenge(now, &r)
        {
            return;
        }
        self.emit(now, EventKind::ByeResponse { code: r.status });
        let State::Closing { why, .. } = std::mem::replace(&mut self.state, State::Ended) else {
            unreachable!("matched Closing above")
        };
        self.end(now, why);
    }
}
