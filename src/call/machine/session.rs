//! Session timers (RFC 4028) on a confirmed call: the interval the 2xx set, our refresh as
//! the refresher (re-INVITE, or UPDATE when the far end allows it, half-way through),
//! the far end's refreshes, a 422 answered once with its `Min-SE`, and the BYE when the far
//! end was to refresh and did not.

use super::*;
use crate::call::session_timer::{Refresher, SessionExpires, TimerAnswer, TimerHeaders};

/// The session interval in force and who keeps it alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Session {
    pub secs: u32,
    pub keeper: Keeper,
}

/// Our refresh request in flight.
#[derive(Debug)]
pub(super) struct RefreshTx {
    pub req: OutRequest,
    pub interval: Duration,
    /// This refresh already went again after a 422.
    pub retried: bool,
}

/// After a 491 (glare, RFC 3261 §14.1) the Call-ID's owner tries again in 2.1-4 s.
const GLARE_RETRY: Duration = Duration::from_millis(2500);

impl Call {
    /// The 2xx to our INVITE confirmed the call: start its session timer, if it set one
    /// (§7.2: a 2xx without `Session-Expires` means no session expiration).
    pub(super) fn session_answered(&mut self, now: Instant, h: &TimerHeaders) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        d.peer_update = h.allows_update;
        let Some(se) = h.session_expires else {
            return;
        };
        // §7.2: the refresher the 2xx names; absent, the UAC (us) refreshes.
        let keeper = match se.refresher {
            Some(Refresher::Uas) => Keeper::Them,
            _ => Keeper::Us,
        };
        let secs = se.secs.max(st::SHORTEST);
        d.session = Some(Session { secs, keeper });
        self.emit(
            now,
            EventKind::SessionTimer {
                secs,
                refresher: keeper.as_str().into(),
            },
        );
        self.arm_session(now);
    }

    /// (Re)arms the expiry, and our refresh when we are the refresher, from `now`.
    fn arm_session(&mut self, now: Instant) {
        let State::Confirmed(d) = &self.state else {
            return;
        };
        match d.session {
            Some(s) => {
                self.timers
                    .set(Timer::SessionExpiry, now + st::bye_after(s.secs));
                match s.keeper {
                    Keeper::Us => self
                        .timers
                        .set(Timer::SessionRefresh, now + st::refresh_after(s.secs)),
                    Keeper::Them => self.timers.stop(Timer::SessionRefresh),
                }
            }
            None => {
                self.timers.stop(Timer::SessionExpiry);
                self.timers.stop(Timer::SessionRefresh);
            }
        }
    }

    /// A 422 to our INVITE (§7.3): once, the INVITE goes again asking for at least the
    /// response's `Min-SE`. False when it cannot (no Min-SE, already retried, no timers).
    pub(super) fn retry_interval(&mut self, now: Instant, r: &Response) -> bool {
        let (Some(min_se), Some(timer)) = (r.timer.min_se, self.invite.req.timer.as_mut()) else {
            return false;
        };
        if self.interval_retried || min_se == 0 {
            return false;
        }
        self.interval_retried = true;
        timer.expires.secs = timer.expires.secs.max(min_se);
        timer.min_se = min_se;
        self.emit(now, EventKind::IntervalTooSmall { min_se });
        self.invite.req.cseq = self.next_cseq;
        self.next_cseq += 1;
        self.invite.req.branch = self.new_branch();
        self.state = State::Calling;
        self.send_invite(now);
        true
    }

    /// Refresh half-way through the interval (§7.4, §10).
    pub(super) fn send_refresh(&mut self, now: Instant) {
        let State::Confirmed(d) = &self.state else {
            return;
        };
        let (Some(s), None) = (d.session, &d.refresh) else {
            return;
        };
        let use_update = d.peer_update;
        self.refresh_request(now, s.secs, use_update, false);
    }

    fn refresh_request(&mut self, now: Instant, secs: u32, update: bool, retried: bool) {
        let sdp = if update { None } else { self.current_sdp() };
        let min_se = self
            .invite
            .req
            .timer
            .map_or(st::MIN_SE, |t| t.min_se)
            .min(secs);
        let cseq = self.next_cseq;
        self.next_cseq += 1;
        let branch = self.new_branch();
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let req = OutRequest {
            method: if update {
                Method::Update
            } else {
                Method::Invite
            },
            cseq,
            branch,
            to_tag: Some(d.remote_tag.clone()),
            target: d.target.clone(),
            routes: d.routes.clone(),
            sdp,
            auth: Vec::new(),
            reason: None,
            timer: Some(TimerRequest {
                expires: SessionExpires {
                    secs,
                    refresher: Some(Refresher::Uac),
                },
                min_se,
            }),
        };
        d.refresh = Some(RefreshTx {
            req: req.clone(),
            interval: T1,
            retried,
        });
        let note = EventKind::SessionRefreshSent {
            method: req.method.to_string(),
            secs,
        };
        self.send(Outgoing::Request(req), Some(note));
        if !self.p.reliable {
            self.timers.set(Timer::RefreshRetransmit, now + T1);
        }
        self.timers.set(Timer::RefreshTimeout, now + 64 * T1);
    }

    pub(super) fn retransmit_refresh(&mut self, now: Instant) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let Some(tx) = &mut d.refresh else {
            return;
        };
        let req = tx.req.clone();
        // INVITE doubles without a cap (Timer A); UPDATE is capped at T2 (Timer E).
        tx.interval *= 2;
        if req.method != Method::Invite {
            tx.interval = tx.interval.min(T2);
        }
        let next = now + tx.interval;
        let note = EventKind::Retransmit {
            method: req.method.to_string(),
            cseq: req.cseq,
        };
        self.send(Outgoing::Request(req), Some(note));
        self.timers.set(Timer::RefreshRetransmit, next);
    }

    pub(super) fn refresh_timed_out(&mut self, now: Instant) {
        self.dialog_lost(now, "no response to our session refresh".into());
    }

    /// RFC 3261 §12.2.1.2: a 481 or 408 (or silence) to an in-dialog request ends the dialog.
    fn dialog_lost(&mut self, now: Instant, reason: String) {
        if let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) {
            let why = Termination {
                result: Outcome::Answered,
                code: None,
                reason,
                hangup_by: Some(Party::Local),
            };
            self.start_bye(now, d, "session refresh failed", why);
        }
    }

    /// The far end was to refresh (or our refreshes failed) and the session ran out.
    pub(super) fn session_expired(&mut self, now: Instant) {
        let State::Confirmed(d) = &self.state else {
            return;
        };
        let Some(s) = d.session else {
            return;
        };
        self.emit(now, EventKind::SessionExpired { secs: s.secs });
        let reason = match s.keeper {
            Keeper::Them => format!(
                "session timer expired: no refresh from the far end within {}s",
                s.secs
            ),
            Keeper::Us => format!("session timer expired: our refresh failed ({}s)", s.secs),
        };
        if let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) {
            let why = Termination {
                result: Outcome::Answered,
                code: None,
                reason,
                hangup_by: Some(Party::Local),
            };
            self.start_bye(now, d, "session expired", why);
        }
    }

    /// A response to our refresh (a re-INVITE numbered after the INVITE that made the call,
    /// or an UPDATE) while the call is up. Earlier INVITEs' (a 401 or 422 retransmitted)
    /// stay with the INVITE transaction's handling.
    pub(super) fn is_refresh_response(&self, r: &Response) -> bool {
        matches!(self.state, State::Confirmed(_))
            && (r.method == Method::Update
                || (r.method == Method::Invite && r.cseq > self.invite.req.cseq))
    }

    pub(super) fn on_refresh_response(&mut self, now: Instant, r: Response) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let pending = d
            .refresh
            .as_ref()
            .is_some_and(|tx| tx.req.cseq == r.cseq && tx.req.method == r.method);
        if !pending {
            // A retransmitted 2xx to our re-INVITE: its ACK again (§13.2.2.4).
            if r.method == Method::Invite
                && (200..300).contains(&r.status)
                && let Some(ack) = d.refresh_ack.clone().filter(|a| a.cseq == r.cseq)
            {
                let note = EventKind::Retransmit {
                    method: "ACK".into(),
                    cseq: ack.cseq,
                };
                self.send(Outgoing::Request(ack), Some(note));
            }
            return;
        }
        if r.status < 200 {
            self.timers.stop(Timer::RefreshRetransmit);
            return;
        }
        let Some(tx) = d.refresh.take() else {
            return;
        };
        self.timers.stop(Timer::RefreshRetransmit);
        self.timers.stop(Timer::RefreshTimeout);
        if r.method == Method::Invite {
            let success = (200..300).contains(&r.status);
            let ack = OutRequest {
                method: Method::Ack,
                cseq: r.cseq,
                // §17.1.1.3: a non-2xx is ACKed in its transaction; a 2xx in a new one.
                branch: if success {
                    Branch(String::new())
                } else {
                    tx.req.branch.clone()
                },
                to_tag: Some(d.remote_tag.clone()),
                target: d.target.clone(),
                routes: d.routes.clone(),
                sdp: None,
                auth: Vec::new(),
                reason: None,
                timer: None,
            };
            let ack = if success {
                OutRequest {
                    branch: self.new_branch(),
                    ..ack
                }
            } else {
                ack
            };
            if success && let State::Confirmed(d) = &mut self.state {
                d.refresh_ack = Some(ack.clone());
            }
            self.send(Outgoing::Request(ack), None);
        }
        let secs = tx.req.timer.map_or(st::SESSION_EXPIRES, |t| t.expires.secs);
        match r.status {
            200..=299 => self.refreshed_by_us(now, &r, secs),
            422 if !tx.retried => match r.timer.min_se {
                Some(min_se) if min_se > 0 => {
                    self.emit(now, EventKind::IntervalTooSmall { min_se });
                    let update = tx.req.method == Method::Update;
                    self.refresh_request(now, secs.max(min_se), update, true);
                }
                _ => self.emit(now, EventKind::SessionRefreshFailed { code: 422 }),
            },
            491 => {
                self.emit(now, EventKind::SessionRefreshFailed { code: 491 });
                self.timers.set(Timer::SessionRefresh, now + GLARE_RETRY);
            }
            405 | 501 if tx.req.method == Method::Update => {
                // UPDATE refused after all: refresh with a re-INVITE at once.
                self.emit(now, EventKind::SessionRefreshFailed { code: r.status });
                if let State::Confirmed(d) = &mut self.state {
                    d.peer_update = false;
                }
                self.refresh_request(now, secs, false, tx.retried);
            }
            408 | 481 => {
                self.emit(now, EventKind::SessionRefreshFailed { code: r.status });
                let reason = format!("far end lost the dialog ({} to our refresh)", r.status);
                self.dialog_lost(now, reason);
            }
            // Anything else: the session goes on until it expires (the BYE then says why).
            code => self.emit(now, EventKind::SessionRefreshFailed { code }),
        }
    }

    /// Our refresh's 2xx: the interval it names (or ours) runs from now.
    fn refreshed_by_us(&mut self, now: Instant, r: &Response, asked: u32) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let (secs, keeper) = match r.timer.session_expires {
            Some(se) => (
                se.secs.max(st::SHORTEST),
                match se.refresher {
                    Some(Refresher::Uas) => Keeper::Them,
                    _ => Keeper::Us,
                },
            ),
            // Lenient: a 2xx that drops the header keeps the session we asked for alive.
            None => (asked, Keeper::Us),
        };
        d.session = Some(Session { secs, keeper });
        self.emit(
            now,
            EventKind::SessionRefreshed {
                by: Keeper::Us.as_str().into(),
                secs,
            },
        );
        // The re-INVITE's answer may move the media (RFC 3264 §8).
        if let Some(neg) = r
            .sdp
            .as_deref()
            .and_then(|t| sdp::parse(t).and_then(|d| sdp::negotiate(&d)).ok())
            && self.negotiated.is_some_and(|n| n.remote != neg.remote)
        {
            self.out
                .push_back(Output::Media(start_media(&neg, false, self.media_keys)));
            self.negotiated = Some(neg);
        }
        self.arm_session(now);
    }

    /// A far-end re-INVITE or UPDATE is a refresh too (§7.4, §9): its `Session-Expires`
    /// sets the interval and the refresher; our 2xx states both.
    pub(super) fn refreshed_by_them(
        &mut self,
        now: Instant,
        h: &TimerHeaders,
    ) -> Option<TimerAnswer> {
        let State::Confirmed(d) = &mut self.state else {
            return None;
        };
        let (secs, keeper) = match (h.session_expires, d.session) {
            (Some(se), _) => {
                // §9: the refresher the request names; absent, the UAS picks: the far end
                // when it supports timers, else us.
                let keeper = match se.refresher {
                    Some(Refresher::Uas) => Keeper::Us,
                    Some(Refresher::Uac) => Keeper::Them,
                    None if h.supports_timer => Keeper::Them,
                    None => Keeper::Us,
                };
                (se.secs.max(st::SHORTEST), keeper)
            }
            // A re-INVITE without the header still refreshes a running session; a far end
            // without timer support cannot be the refresher.
            (None, Some(s)) if !h.supports_timer => (s.secs, Keeper::Us),
            (None, Some(s)) => (s.secs, s.keeper),
            (None, None) => return None,
        };
        d.session = Some(Session { secs, keeper });
        self.emit(
            now,
            EventKind::SessionRefreshed {
                by: Keeper::Them.as_str().into(),
                secs,
            },
        );
        self.arm_session(now);
        // In this transaction we are the UAS: "uas" names us.
        let refresher = match keeper {
            Keeper::Us => Refresher::Uas,
            Keeper::Them => Refresher::Uac,
        };
        Some(TimerAnswer {
            expires: SessionExpires {
                secs,
                refresher: Some(refresher),
            },
            require: h.supports_timer,
        })
    }

    /// Our side of the session as it runs now, as an offer (a refresh re-INVITE): the
    /// negotiated format, our current direction, the SRTP key in use; the version is
    /// unchanged because nothing changed (RFC 3264 §8).
    pub(super) fn current_sdp(&self) -> Option<String> {
        let neg = self.negotiated?;
        let local = self.p.srtp.filter(|l| l.mode != SrtpMode::Off);
        let secure = match (local, self.media_keys) {
            (Some(l), Some(k)) => {
                Some((l.answer_offer(&super::requests::crypto_of(&k)).0, neg.savp))
            }
            _ => None,
        };
        Some(sdp::answer(
            self.p.local_media.ip(),
            self.p.local_media.port(),
            self.p.session_id,
            self.sdp_version,
            &neg,
            self.direction,
            secure.as_ref().map(|(c, savp)| (c, *savp)),
        ))
    }
}
