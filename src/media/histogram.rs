//! A fixed-bucket latency histogram (10 µs buckets up to 20 ms): cheap to record per packet,
//! mergeable across calls for the bench.

use std::time::Duration;

/// Latency histogram in 10 µs buckets up to 20 ms (the rest in the last bucket).
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

/// A latency histogram for spans from microseconds to seconds (a worker's lag): buckets a
/// quarter octave wide (each bound 19 % above the last), 1 µs to ~70 s in 105 buckets.
#[derive(Clone, Debug, Default)]
pub struct LogHistogram {
    buckets: Vec<u32>,
    count: u64,
    max_us: u64,
}

/// Buckets per octave.
const PER_OCTAVE: f64 = 4.0;
const LOG_BUCKETS: usize = 105;

impl LogHistogram {
    fn bucket(us: u64) -> usize {
        ((us.max(1) as f64).log2() * PER_OCTAVE).ceil() as usize
    }

    /// Adds one sample.
    pub fn record(&mut self, d: Duration) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; LOG_BUCKETS];
        }
        let us = d.as_micros() as u64;
        self.buckets[Self::bucket(us).min(LOG_BUCKETS - 1)] += 1;
        self.count += 1;
        self.max_us = self.max_us.max(us);
    }

    /// Merges another histogram into this one.
    pub fn merge(&mut self, o: &LogHistogram) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; LOG_BUCKETS];
        }
        for (a, b) in self.buckets.iter_mut().zip(&o.buckets) {
            *a += b;
        }
        self.count += o.count;
        self.max_us = self.max_us.max(o.max_us);
    }

    /// The q-quantile in microseconds (its bucket's upper bound, at most the maximum).
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += *n as u64;
            if seen >= target {
                let bound = 2f64.powf(i as f64 / PER_OCTAVE).floor() as u64;
                return bound.min(self.max_us);
            }
        }
        self.max_us
    }

    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_histogram_quantiles_within_a_quarter_octave() {
        let mut h = LogHistogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile_us(0.5);
        assert!((50_000..=50_000 * 119 / 100).contains(&p50), "{p50}");
        assert_eq!(h.quantile_us(1.0), 100_000);
        let mut all = LogHistogram::default();
        all.merge(&h);
        all.merge(&LogHistogram::default());
        assert_eq!(all.count(), 100);
        assert_eq!(all.max_us(), 100_000);
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
