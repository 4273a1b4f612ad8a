//! Ending a call: CANCEL before answer (§9.1), BYE after, transport errors.

use super::*;

impl Call {
    pub(super) fn on_transport_error(&mut self, now: Instant, e: String) {
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
            // Nothing heard yet: the INVITE could not reach the trunk (ICMP port
            // unreachable, TCP refused or reset). Fail now instead of at the ring timeout.
            State::Calling => self.end(
                now,
                Termination::new(Outcome::Failed, format!("trunk unreachable: {e}")),
            ),
            _ => self.end(
                now,
                Termination::new(Outcome::Failed, format!("transport error: {e}")),
            ),
        }
    }

    pub(super) fn hangup(&mut self, now: Instant, reason: String) {
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

    pub(super) fn cancel_request(&mut self, reason: &str) -> OutRequest {
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
            auth: Vec::new(),
            reason: Some(reason.to_string()),
            timer: None,
        }
    }

    pub(super) fn start_cancel(&mut self, now: Instant, reason: &str, why: Termination) {
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

    pub(super) fn bye_request(&mut self, d: &Dialog, reason: &str) -> OutRequest {
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
            auth: Vec::new(),
            reason: Some(reason.to_string()),
            timer: None,
        }
    }

    pub(super) fn start_bye(
        &mut self,
        now: Instant,
        dialog: Box<Dialog>,
        reason: &str,
        why: Termination,
    ) {
        let req = self.bye_request(&dialog, reason);
        self.digest.new_request();
        let note = EventKind::ByeSent {
            reason: reason.to_string(),
        };
        self.send(Outgoing::Request(req.clone()), Some(note));
        self.out.push_back(Output::Media(MediaCommand::Stop));
        for t in [
            Timer::MenuStep,
            Timer::MaxDuration,
            Timer::G,
            Timer::H,
            Timer::SessionRefresh,
            Timer::SessionExpiry,
            Timer::RefreshRetransmit,
            Timer::RefreshTimeout,
        ] {
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
}
