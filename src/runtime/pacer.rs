//! The 20 ms send schedule. Deadlines advance by exactly 20 ms from the first one, so the
//! stream never drifts from the wall clock. Two figures: the send jitter (how far each gap
//! between packets is from 20 ms: what the far end's jitter buffer sees) and the lateness
//! against the grid (includes the runtime timer's 1 ms granularity).

pub use crate::media::histogram::Histogram;
use std::time::{Duration, Instant};

/// One packet time.
pub const PTIME: Duration = Duration::from_millis(20);
/// Behind by more than this many frames, frames are produced (recorded) but not sent: a burst
/// of stale audio helps no one.
const MAX_BURST: u32 = 5;

/// What to do for one due frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Due {
    /// Produce and send the frame scheduled at this instant.
    Send(Instant),
    /// Produce (record) the frame but do not send it: too far behind.
    Skip,
}

/// The schedule.
#[derive(Debug, Default)]
pub struct Pacer {
    next: Option<Instant>,
    /// |gap between consecutive sends - 20 ms|.
    pub jitter: Histogram,
    /// Send time - scheduled time.
    pub lateness: Histogram,
    last_sent: Option<Instant>,
    pub skipped: u64,
}

impl Pacer {
    /// Starts the grid at `at` (the first frame goes out at once).
    pub fn start(&mut self, at: Instant) {
        if self.next.is_none() {
            self.next = Some(at);
        }
    }

    /// Stops the grid.
    pub fn stop(&mut self) {
        self.next = None;
        self.last_sent = None;
    }

    /// Notes that the frame scheduled at `scheduled` left at `at`.
    pub fn sent(&mut self, scheduled: Instant, at: Instant) {
        self.lateness
            .record(at.saturating_duration_since(scheduled));
        if let Some(prev) = self.last_sent.replace(at) {
            let gap = at.saturating_duration_since(prev);
            self.jitter.record(gap.abs_diff(PTIME));
        }
    }

    /// A frame was produced but not sent (hold, or skipped): the next gap is not 20 ms.
    pub fn not_sent(&mut self) {
        self.last_sent = None;
    }

    /// The next deadline.
    pub fn next(&self) -> Option<Instant> {
        self.next
    }

    /// The next due frame at `now`, advancing the grid.
    pub fn poll(&mut self, now: Instant) -> Option<Due> {
        let next = self.next?;
        if next > now {
            return None;
        }
        self.next = Some(next + PTIME);
        let behind = (now - next).as_micros() / PTIME.as_micros();
        if behind as u32 > MAX_BURST {
            self.skipped += 1;
            Some(Due::Skip)
        } else {
            Some(Due::Send(next))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_does_not_drift_and_skips_when_far_behind() {
        let t0 = Instant::now();
        let mut p = Pacer::default();
        p.start(t0);
        assert_eq!(p.poll(t0), Some(Due::Send(t0)));
        assert_eq!(p.poll(t0), None);
        // Woken 3 ms late for the next frame: still scheduled at exactly t0 + 20 ms.
        assert_eq!(
            p.poll(t0 + PTIME + Duration::from_millis(3)),
            Some(Due::Send(t0 + PTIME))
        );
        // A 10-minute call: the 30 000th deadline is exactly 600 s after the first.
        let mut p = Pacer::default();
        p.start(t0);
        let mut last = t0;
        for i in 0..30_000u32 {
            let now = t0 + PTIME * i;
            if let Some(Due::Send(at)) = p.poll(now) {
                last = at;
            }
        }
        assert_eq!(last, t0 + PTIME * 29_999);
        // Far behind: frames are skipped, not burst.
        let mut p = Pacer::default();
        p.start(t0);
        let late = t0 + Duration::from_millis(200);
        assert_eq!(p.poll(late), Some(Due::Skip));
    }
}
