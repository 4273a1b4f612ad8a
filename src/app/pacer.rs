//! The 20 ms send schedule. Deadlines advance by exactly 20 ms from the first one, so the
//! stream never drifts from the wall clock; lateness against that grid is the send jitter.

use std::time::{Duration, Instant};

/// One packet time.
pub const PTIME: Duration = Duration::from_millis(20);
/// Behind by more than this many frames, frames are produced (recorded) but not sent: a burst
/// of stale audio helps no one.
const MAX_BURST: u32 = 5;

/// Lateness histogram in 10 µs buckets up to 20 ms (the rest in the last bucket).
#[derive(Clone, Debug)]
pub struct Histogram {
    buckets: Vec<u32>,
    count: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: vec![0; 2001],
            count: 0,
            max_us: 0,
        }
    }
}

impl Histogram {
    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros() as u64;
        let i = ((us / 10) as usize).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
        self.max_us = self.max_us.max(us);
    }

    /// Merges another histogram into this one.
    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&o.buckets) {
            *a += b;
        }
        self.count += o.count;
        self.max_us = self.max_us.max(o.max_us);
    }

    /// The q-quantile in microseconds (bucket upper bound).
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += *n as u64;
            if seen >= target {
                return (i as u64 + 1) * 10;
            }
        }
        self.max_us
    }

    /// Largest sample.
    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.count
    }
}

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
    pub jitter: Histogram,
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

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::default();
        for us in 0..100u64 {
            h.record(Duration::from_micros(us * 10));
        }
        assert_eq!(h.quantile_us(0.5), 500);
        assert_eq!(h.quantile_us(0.99), 990);
        assert_eq!(h.max_us(), 990);
    }
}
