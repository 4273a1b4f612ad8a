//! A counter that says which occurrences are worth a timeline event: the first few, then one
//! at each power of ten. A flood of forged SIP or stray RTP (security review finding 3: 10,330
//! events from one flood) then costs a handful of events, and the count is still exact.

/// Counts occurrences; [`SampledCount::note`] returns the running count when this one should
/// be recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampledCount {
    count: u64,
}

/// Occurrences always recorded before sampling starts.
const FIRST: u64 = 5;

impl SampledCount {
    /// One more occurrence; `Some(count)` if it should be recorded.
    pub fn note(&mut self) -> Option<u64> {
        self.count += 1;
        let n = self.count;
        let mut m = n;
        while m >= 10 && m.is_multiple_of(10) {
            m /= 10;
        }
        let power_of_ten = n >= 10 && m == 1;
        (n <= FIRST || power_of_ten).then_some(n)
    }

    /// Occurrences so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_five_then_powers_of_ten() {
        let mut c = SampledCount::default();
        let kept: Vec<u64> = (0..20_000).filter_map(|_| c.note()).collect();
        assert_eq!(kept, vec![1, 2, 3, 4, 5, 10, 100, 1000, 10_000]);
        assert_eq!(c.count(), 20_000);
    }
}
