//! The inbound call's named timers: RFC 3261 names (§17.2.1 G/H, §17.1.2 E/F) and ours.

use std::time::Instant;

/// Every timer an inbound call can arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboundTimer {
    /// Ringing is over: answer (the edge's audio is ready).
    Answer,
    /// Final-response retransmission until its ACK (UDP only).
    G,
    /// Give up waiting for the ACK.
    H,
    /// Our BYE's retransmission (UDP only).
    E,
    /// Our BYE's transaction timeout.
    F,
    /// The call has been up for its maximum duration: hang up.
    MaxDuration,
    /// After the end: absorb retransmitted requests, then finish.
    Linger,
}

const ALL: [InboundTimer; 7] = [
    InboundTimer::Answer,
    InboundTimer::G,
    InboundTimer::H,
    InboundTimer::E,
    InboundTimer::F,
    InboundTimer::MaxDuration,
    InboundTimer::Linger,
];

/// A deadline per named timer.
#[derive(Debug, Default)]
pub(super) struct InboundTimers {
    at: [Option<Instant>; ALL.len()],
}

impl InboundTimers {
    pub(super) fn set(&mut self, t: InboundTimer, at: Instant) {
        self.at[t as usize] = Some(at);
    }

    pub(super) fn stop(&mut self, t: InboundTimer) {
        self.at[t as usize] = None;
    }

    pub(super) fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms and returns the first timer due at `now`, if any.
    pub(super) fn pop_expired(&mut self, now: Instant) -> Option<InboundTimer> {
        let t = ALL
            .iter()
            .filter(|t| self.at[**t as usize].is_some_and(|at| at <= now))
            .min_by_key(|t| self.at[**t as usize])?;
        self.at[*t as usize] = None;
        Some(*t)
    }

    pub(super) fn clear(&mut self) {
        self.at = Default::default();
    }
}
