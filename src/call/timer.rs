//! The call's named timers (quinn-proto style): RFC 3261 names where they exist, ours for the rest.

use std::time::{Duration, Instant};

/// RFC 3261 §17.1.1.1 T1: round-trip estimate.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 §17.1.2.2 T2: cap on non-INVITE retransmission interval.
pub const T2: Duration = Duration::from_secs(4);
/// RFC 3261 §17.1.1.2: Timer D is at least 32 s on unreliable transports.
pub const TIMER_D_UDP: Duration = Duration::from_secs(32);

/// No response at all (not even 100 Trying) to an INVITE within this: the trunk is taken as
/// unreachable and the attempt fails at once (issue 10: a dead trunk must not cost the ring
/// timeout). RFC 3261 §8.2.6.1 / §16.2: a proxy or UAS sends 100 well within 200 ms.
pub const TRYING_TIMEOUT: Duration = Duration::from_secs(2);

/// Every timer a call can arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// INVITE retransmission (UDP only).
    A,
    /// INVITE transaction timeout.
    B,
    /// Linger after the call ends to absorb retransmitted final responses.
    D,
    /// Non-INVITE (BYE, CANCEL) retransmission (UDP only).
    E,
    /// Non-INVITE transaction timeout.
    F,
    /// 2xx retransmission for a far-end re-INVITE until its ACK (RFC 3261 §13.3.1.4).
    G,
    /// Give up waiting for the ACK of our 2xx to a re-INVITE.
    H,
    /// Our own ring timeout: CANCEL when it fires.
    RingTimeout,
    /// No response to the current INVITE within [`TRYING_TIMEOUT`]: trunk unreachable.
    Trying,
    /// The current menu step (a wait) is over.
    MenuStep,
    /// The call has been up for its maximum duration: hang up.
    MaxDuration,
    /// After the briefing: if the far end stays silent this long, play it again.
    BriefingSilence,
    /// A contact judged on time to a person (its menu waits for a human): the SLA
    /// (`answer_within`, counted from the INVITE) runs out here if no person is on the line.
    HumanSla,
    /// RFC 4028: we are the refresher; refresh the session now (half its interval).
    SessionRefresh,
    /// RFC 4028 §10: no refresh arrived; the session is over (BYE).
    SessionExpiry,
    /// Our refresh request's retransmission (UDP; doubling like Timer A / E).
    RefreshRetransmit,
    /// Our refresh request got no final response (64*T1, like Timer B / F).
    RefreshTimeout,
}

const ALL: [Timer; 17] = [
    Timer::A,
    Timer::B,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::RingTimeout,
    Timer::Trying,
    Timer::MenuStep,
    Timer::MaxDuration,
    Timer::BriefingSilence,
    Timer::HumanSla,
    Timer::SessionRefresh,
    Timer::SessionExpiry,
    Timer::RefreshRetransmit,
    Timer::RefreshTimeout,
];

/// A deadline per named timer.
#[derive(Debug, Default)]
pub struct Timers {
    at: [Option<Instant>; ALL.len()],
}

impl Timers {
    /// Arms `t` to fire at `at`, replacing any earlier deadline.
    pub fn set(&mut self, t: Timer, at: Instant) {
        self.at[t as usize] = Some(at);
    }

    /// Whether `t` is armed.
    pub fn is_set(&self, t: Timer) -> bool {
        self.at[t as usize].is_some()
    }

    /// Disarms `t`.
    pub fn stop(&mut self, t: Timer) {
        self.at[t as usize] = None;
    }

    /// The earliest deadline of all armed timers.
    pub fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms and returns the first timer due at `now`, if any.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let t = ALL
            .iter()
            .filter(|t| self.at[**t as usize].is_some_and(|at| at <= now))
            .min_by_key(|t| self.at[**t as usize])?;
        self.at[*t as usize] = None;
        Some(*t)
    }

    /// Disarms every timer.
    pub fn clear(&mut self) {
        self.at = Default::default();
    }
}
