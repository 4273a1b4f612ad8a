//! Incident ids: `inc_` + 16 Crockford base32 characters, 10 of milliseconds since the Unix
//! epoch and 6 of a counter seeded at random, so ids sort by creation time as text.

use super::error::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "inc_";
/// Crockford's base32: no I, L, O, U, so an id read aloud is not misheard.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS: usize = 10;
const TAIL_CHARS: usize = 6;
const TAIL_MAX: u64 = (1 << (5 * TAIL_CHARS)) - 1;

/// The store's name for an incident, e.g. `inc_01JV3Q8Z2K7M4P9X`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct IncidentId(String);

impl IncidentId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id read back from the database, trusted as written.
    pub(super) fn from_db(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for IncidentId {
    type Err = StoreError;

    /// Accepts only the shape this module generates (e.g. from a URL path).
    fn from_str(s: &str) -> Result<Self, StoreError> {
        let ok = s.strip_prefix(PREFIX).is_some_and(|rest| {
            rest.len() == TIME_CHARS + TAIL_CHARS && rest.bytes().all(|b| ALPHABET.contains(&b))
        });
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(StoreError::BadId(s.to_string()))
        }
    }
}

fn encode(mut v: u64, chars: usize, out: &mut String) {
    let mut buf = vec![0u8; chars];
    for b in buf.iter_mut().rev() {
        *b = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    out.extend(buf.iter().map(|&b| b as char));
}

/// Makes ids that strictly increase within this process, even within one millisecond.
/// Shared by the jobs that run at once (PostgreSQL), hence the lock.
#[derive(Debug)]
pub(super) struct IdGen(std::sync::Mutex<IdState>);

#[derive(Debug)]
struct IdState {
    last_ms: u64,
    tail: u64,
}

impl IdGen {
    /// A generator whose first tail is random, so two processes rarely collide.
    pub fn new() -> Self {
        Self(std::sync::Mutex::new(IdState {
            last_ms: 0,
            tail: rand::random::<u64>() & (TAIL_MAX >> 1),
        }))
    }

    /// The next id for an incident created at `now`.
    pub fn next(&self, now: DateTime<Utc>) -> IncidentId {
        // A panic while holding the lock cannot leave the two numbers half-updated.
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        if ms > st.last_ms {
            st.last_ms = ms;
            st.tail = rand::random::<u64>() & (TAIL_MAX >> 1);
        } else if st.tail < TAIL_MAX {
            // Same millisecond (or the clock stepped back): keep order by counting on.
            st.tail += 1;
        } else {
            // The counter is spent: borrow the next millisecond.
            st.last_ms += 1;
            st.tail = 0;
        }
        let mut s = String::with_capacity(PREFIX.len() + TIME_CHARS + TAIL_CHARS);
        s.push_str(PREFIX);
        encode(st.last_ms, TIME_CHARS, &mut s);
        encode(st.tail, TAIL_CHARS, &mut s);
        IncidentId(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_parse() {
        let g = IdGen::new();
        let t = Utc::now();
        let ids: Vec<_> = (0..1000).map(|_| g.next(t)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let later = g.next(t + chrono::Duration::milliseconds(5));
        assert!(later > ids[999]);
        for id in &ids {
            assert_eq!(id.as_str().parse::<IncidentId>().ok().as_ref(), Some(id));
        }
        assert_eq!(ids[0].as_str().len(), 20);
    }

    #[test]
    fn rejects_foreign_ids() {
        for s in ["", "inc_", "inc_0123456789ABCDEI", "abc_0123456789ABCDEF"] {
            assert!(s.parse::<IncidentId>().is_err(), "{s}");
        }
    }
}
