//! Ending a dialog whose call task is gone: after a crash the next start (or another replica)
//! sends the BYE that hotline never sent, from the dialog state persisted at answer. One BYE
//! non-INVITE client transaction (RFC 3261 §17.1.2): Timer E retransmits on unreliable
//! transports (T1 doubling up to T2, T2 once a provisional arrives), Timer F gives up at
//! 64*T1; a digest challenge is answered once (§22.2, a new CSeq). Pure and time-injected like
//! [`super::Call`]: the edge sends, feeds responses and wakes it at [`ByeTx::poll_timeout`].

use super::digest::{AuthFailure, AuthPolicy, DigestSession};
use super::event::EventKind;
use super::ids::{Branch, Method};
use super::io::{DialogState, OutRequest, Response};
use super::timer::{T1, T2};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How the BYE ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ByeEnd {
    /// A final response arrived (200: ended now; 481: the far end had already ended it).
    Answered { code: u16 },
    /// No final response (Timer F), or it could not be sent.
    Failed { reason: String },
}

/// What the edge must do.
#[derive(Clone, Debug, PartialEq)]
pub enum ByeOutput {
    /// Send this request; `note` goes on the call's timeline when the bytes leave.
    Send { req: OutRequest, note: EventKind },
    /// Something happened at `at`.
    Event { at: Instant, kind: EventKind },
    /// Over (emitted once).
    Done(ByeEnd),
}

/// One BYE client transaction. See the module docs.
#[derive(Debug)]
pub struct ByeTx {
    req: OutRequest,
    reliable: bool,
    /// Whose challenges may be answered (`[sip.auth] realm`, or only the trunk's); `None`:
    /// no credentials configured.
    auth: Option<AuthPolicy>,
    digest: DigestSession,
    authenticated: bool,
    interval: Duration,
    timer_e: Option<Instant>,
    timer_f: Instant,
    out: VecDeque<ByeOutput>,
    done: bool,
}

impl ByeTx {
    /// Queues the BYE for `dialog` and arms Timers E and F. `branch` must be new (a fresh
    /// transaction); `reason` goes in the Reason header.
    pub fn new(
        now: Instant,
        dialog: &DialogState,
        branch: Branch,
        reason: &str,
        reliable: bool,
        auth: Option<AuthPolicy>,
    ) -> Self {
        let req = OutRequest {
            method: Method::Bye,
            cseq: dialog.next_cseq,
            branch,
            to_tag: Some(dialog.remote_tag.clone()),
            target: dialog.target.clone(),
            routes: dialog.routes.clone(),
            sdp: None,
            auth: Vec::new(),
            reason: Some(reason.to_string()),
            timer: None,
        };
        let mut tx = Self {
            req,
            reliable,
            auth,
            digest: DigestSession::default(),
            authenticated: false,
            interval: T1,
            timer_e: None,
            timer_f: now,
            out: VecDeque::new(),
            done: false,
        };
        tx.send(now);
        tx
    }

    fn send(&mut self, now: Instant) {
        let note = EventKind::ByeSent {
            reason: self.req.reason.clone().unwrap_or_default(),
        };
        self.out.push_back(ByeOutput::Send {
            req: self.req.clone(),
            note,
        });
        self.interval = T1;
        self.timer_e = (!self.reliable).then(|| now + T1);
        self.timer_f = now + 64 * T1;
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<ByeOutput> {
        self.out.pop_front()
    }

    /// When to call [`ByeTx::handle_timeout`]; `None` once over.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        Some(self.timer_e.map_or(self.timer_f, |e| e.min(self.timer_f)))
    }

    /// True once over.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The CSeq of the request in flight.
    pub fn cseq(&self) -> u32 {
        self.req.cseq
    }

    fn finish(&mut self, end: ByeEnd) {
        self.done = true;
        self.timer_e = None;
        self.out.push_back(ByeOutput::Done(end));
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.done {
            return;
        }
        if now >= self.timer_f {
            let reason = "no response to BYE (timer F)".to_string();
            self.out.push_back(ByeOutput::Event {
                at: now,
                kind: EventKind::ByeFailed {
                    reason: reason.clone(),
                },
            });
            return self.finish(ByeEnd::Failed { reason });
        }
        if let Some(e) = self.timer_e
            && now >= e
        {
            let note = EventKind::Retransmit {
                method: "BYE".into(),
                cseq: self.req.cseq,
            };
            self.out.push_back(ByeOutput::Send {
                req: self.req.clone(),
                note,
            });
            self.interval = (self.interval * 2).min(T2);
            self.timer_e = Some(now + self.interval);
        }
    }

    /// A response with our Call-ID arrived at `now`.
    pub fn handle_response(&mut self, now: Instant, r: &Response) {
        // Ours only: this transaction's method, CSeq and Via branch (§17.1.3).
        if self.done
            || r.method != Method::Bye
            || r.cseq != self.req.cseq
            || r.branch.as_ref() != Some(&self.req.branch)
        {
            return;
        }
        match r.status {
            100..=199 => {
                // §17.1.2.2: Proceeding retransmits at T2.
                self.interval = T2;
                if let Some(e) = &mut self.timer_e {
                    *e = now + T2;
                }
            }
            401 | 407 if !self.authenticated && !r.challenges.is_empty() && self.auth.is_some() => {
                self.authenticated = true;
                self.out.push_back(ByeOutput::Event {
                    at: now,
                    kind: EventKind::challenged(r.status, &r.challenges),
                });
                let policy = self.auth.clone().unwrap_or_else(|| unreachable!("guarded"));
                match self.digest.on_challenge(&r.challenges, r.source, &policy) {
                    Ok(auth) => {
                        self.req.cseq += 1;
                        self.req.branch = Branch(format!("{}.auth", self.req.branch));
                        self.req.auth = auth;
                        self.send(now);
                    }
                    Err(e) => {
                        if let AuthFailure::Refused(reason) = &e {
                            self.out.push_back(ByeOutput::Event {
                                at: now,
                                kind: EventKind::ChallengeRefused {
                                    code: r.status,
                                    reason: reason.clone(),
                                },
                            });
                        }
                        self.finish(ByeEnd::Answered { code: r.status });
                    }
                }
            }
            code => {
                self.out.push_back(ByeOutput::Event {
                    at: now,
                    kind: EventKind::ByeResponse { code },
                });
                self.finish(ByeEnd::Answered { code });
            }
        }
    }

    /// The transport could not deliver the BYE.
    pub fn handle_transport_error(&mut self, now: Instant, error: &str) {
        if self.done {
            return;
        }
        let reason = format!("transport error: {error}");
        self.out.push_back(ByeOutput::Event {
            at: now,
            kind: EventKind::ByeFailed {
                reason: reason.clone(),
            },
        });
        self.finish(ByeEnd::Failed { reason });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Challenge, Tag};

    fn dialog() -> DialogState {
        DialogState {
            remote_tag: Tag("far".into()),
            target: Some("sip:uas@192.0.2.7:5060".into()),
            routes: vec!["<sip:proxy.example;lr>".into()],
            next_cseq: 2,
        }
    }

    fn trunk() -> std::net::SocketAddr {
        "192.0.2.7:5060".parse().expect("literal")
    }

    fn policy() -> Option<AuthPolicy> {
        Some(AuthPolicy {
            realms: Vec::new(),
            trunk: trunk(),
        })
    }

    fn resp(status: u16, cseq: u32) -> Response {
        Response {
            status,
            reason: String::new(),
            cseq,
            method: Method::Bye,
            branch: Some(Branch("z9hG4bKx".into())),
            to_tag: Some(Tag("far".into())),
            contact: None,
            record_route: Vec::new(),
            sdp: None,
            challenges: Vec::new(),
            source: Some(trunk()),
            timer: Default::default(),
        }
    }

    /// Runs the transaction to `until`, firing timers as they fall due; returns the send times
    /// (offsets from t0) and every output.
    fn run(tx: &mut ByeTx, t0: Instant, until: Duration) -> (Vec<Duration>, Vec<ByeOutput>) {
        let mut sends = Vec::new();
        let mut all = Vec::new();
        let mut now = t0;
        loop {
            while let Some(o) = tx.poll_output() {
                if let ByeOutput::Send { .. } = &o {
                    sends.push(now - t0);
                }
                all.push(o);
            }
            match tx.poll_timeout() {
                Some(t) if t - t0 <= until => {
                    now = t;
                    tx.handle_timeout(now);
                }
                _ => return (sends, all),
            }
        }
    }

    #[test]
    fn bye_in_the_dialog_with_its_route_set_and_next_cseq() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(
            t0,
            &dialog(),
            Branch("z9hG4bKx".into()),
            "restart",
            false,
            None,
        );
        let Some(ByeOutput::Send { req, note }) = tx.poll_output() else {
            panic!("the BYE goes out at once");
        };
        assert_eq!(req.method, Method::Bye);
        assert_eq!(req.cseq, 2);
        assert_eq!(req.to_tag, Some(Tag("far".into())));
        assert_eq!(req.target.as_deref(), Some("sip:uas@192.0.2.7:5060"));
        assert_eq!(req.routes, ["<sip:proxy.example;lr>"]);
        assert_eq!(req.reason.as_deref(), Some("restart"));
        assert_eq!(
            note,
            EventKind::ByeSent {
                reason: "restart".into()
            }
        );
    }

    #[test]
    fn udp_retransmits_on_timer_e_until_answered() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(t0, &dialog(), Branch("z9hG4bKx".into()), "r", false, None);
        let (sends, _) = run(&mut tx, t0, Duration::from_millis(3600));
        let ms: Vec<u128> = sends.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [0, 500, 1500, 3500]);
        let at = t0 + Duration::from_millis(3600);
        tx.handle_response(at, &resp(100, 2));
        // A provisional: T2 from now on.
        assert_eq!(tx.poll_timeout(), Some(at + T2));
        tx.handle_response(at, &resp(200, 99)); // another transaction's: ignored
        let mut forged = resp(200, 2);
        forged.branch = Some(Branch("z9hG4bKguess".into()));
        tx.handle_response(at, &forged); // not our branch: ignored
        forged.branch = None;
        tx.handle_response(at, &forged);
        assert!(!tx.is_done());
        tx.handle_response(at, &resp(200, 2));
        assert!(tx.is_done());
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        assert_eq!(
            outs,
            [
                ByeOutput::Event {
                    at,
                    kind: EventKind::ByeResponse { code: 200 }
                },
                ByeOutput::Done(ByeEnd::Answered { code: 200 })
            ]
        );
        assert_eq!(tx.poll_timeout(), None);
    }

    #[test]
    fn retransmissions_cap_at_t2_and_timer_f_gives_up_at_32s() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(t0, &dialog(), Branch("z9hG4bKx".into()), "r", false, None);
        let (sends, outs) = run(&mut tx, t0, Duration::from_secs(40));
        let gaps: Vec<u128> = sends
            .windows(2)
            .map(|w| (w[1] - w[0]).as_millis())
            .collect();
        assert_eq!(&gaps[..4], [500, 1000, 2000, 4000]);
        assert!(gaps[4..].iter().all(|g| *g == 4000), "{gaps:?}");
        assert_eq!(
            outs.last(),
            Some(&ByeOutput::Done(ByeEnd::Failed {
                reason: "no response to BYE (timer F)".into()
            }))
        );
        assert!(tx.is_done());
    }

    #[test]
    fn tcp_sends_once_and_waits_for_timer_f() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(t0, &dialog(), Branch("z9hG4bKx".into()), "r", true, None);
        let (sends, outs) = run(&mut tx, t0, Duration::from_secs(40));
        assert_eq!(sends, [Duration::ZERO]);
        assert!(matches!(
            outs.last(),
            Some(ByeOutput::Done(ByeEnd::Failed { .. }))
        ));
    }

    #[test]
    fn a_481_means_the_far_end_had_ended_it() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(t0, &dialog(), Branch("z9hG4bKx".into()), "r", false, None);
        tx.handle_response(t0, &resp(481, 2));
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        assert_eq!(
            outs.last(),
            Some(&ByeOutput::Done(ByeEnd::Answered { code: 481 }))
        );
    }

    #[test]
    fn a_challenge_is_answered_once_with_a_new_cseq() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(
            t0,
            &dialog(),
            Branch("z9hG4bKx".into()),
            "r",
            false,
            policy(),
        );
        let _ = tx.poll_output();
        let mut challenged = resp(407, 2);
        challenged.challenges = vec![Challenge {
            proxy: true,
            realm: "x".into(),
            nonce: "n".into(),
            opaque: None,
            algorithm: crate::call::DigestAlgorithm::Md5,
            qop: None,
            stale: false,
        }];
        tx.handle_response(t0, &challenged);
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        let ByeOutput::Send { req, .. } = &outs[1] else {
            panic!("{outs:?}");
        };
        assert_eq!(req.cseq, 3);
        assert_eq!(req.auth.len(), 1);
        assert_ne!(req.branch.0, "z9hG4bKx");
        // A second challenge is a final answer.
        challenged.cseq = 3;
        challenged.branch = Some(req.branch.clone());
        tx.handle_response(t0, &challenged);
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        assert_eq!(
            outs.last(),
            Some(&ByeOutput::Done(ByeEnd::Answered { code: 407 }))
        );
    }

    #[test]
    fn a_transport_error_ends_it() {
        let t0 = Instant::now();
        let mut tx = ByeTx::new(t0, &dialog(), Branch("z9hG4bKx".into()), "r", true, None);
        tx.handle_transport_error(t0, "connection refused");
        assert!(tx.is_done());
        let outs: Vec<_> = std::iter::from_fn(|| tx.poll_output()).collect();
        assert!(
            matches!(outs.last(), Some(ByeOutput::Done(ByeEnd::Failed { reason })) if reason.contains("refused"))
        );
    }
}
