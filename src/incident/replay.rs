//! Signed deliveries seen recently: in timestamp mode a signature is only good once within
//! the timestamp window (a captured delivery cannot be sent again to re-fire an incident
//! that was resolved meanwhile). Pure and time-injected; bounded.

use std::collections::{HashMap, VecDeque};

/// Most signatures remembered; beyond it the oldest are forgotten (they are also the first
/// to fall out of the window).
const MAX_SEEN: usize = 100_000;

/// See the module docs.
#[derive(Default)]
pub struct ReplayCache {
    seen: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
}

impl ReplayCache {
    /// Records `signature` at `now` (Unix seconds); false if it was seen within `window`.
    pub fn first_time(&mut self, signature: &str, now: i64, window: i64) -> bool {
        while let Some((at, _)) = self.order.front() {
            if now - at <= window && self.order.len() < MAX_SEEN {
                break;
            }
            if let Some((_, s)) = self.order.pop_front() {
                self.seen.remove(&s);
            }
        }
        if self.seen.contains_key(signature) {
            return false;
        }
        self.seen.insert(signature.to_string(), now);
        self.order.push_back((now, signature.to_string()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_good_once_within_the_window() {
        let mut c = ReplayCache::default();
        assert!(c.first_time("a", 1000, 600));
        assert!(!c.first_time("a", 1200, 600));
        assert!(c.first_time("b", 1200, 600));
        // Long after the window the entry is forgotten (the timestamp check refuses it then).
        assert!(c.first_time("a", 3000, 600));
    }
}
