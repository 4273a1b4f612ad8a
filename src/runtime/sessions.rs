//! Console sign-in sessions. The cookie holds a random session id, never the token: signing
//! out ends the session on the server, so a copied cookie stops working too. A session keeps
//! only the SHA-256 of the token it was opened with and is checked against the running
//! `[[http.tokens]]` on every request, so a token removed by a reload ends its sessions.
//! Sessions live in memory: a restart signs everyone out.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "hotline_session";

/// How long a session lasts from sign-in (a shift, not forever).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Most sessions open at once; the oldest are dropped beyond it (a login loop cannot grow
/// memory without bound).
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug)]
struct Session {
    token_sha256: [u8; 32],
    expires: Instant,
}

/// The open sessions, keyed by the SHA-256 of the session id (the id itself is only in the
/// browser's cookie).
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<[u8; 32], Session>>,
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Opens a session for the token with this hash; returns the id for the cookie.
    pub fn open(&self, token_sha256: [u8; 32], now: Instant) -> String {
        // The thread's CSPRNG (ChaCha, seeded from the OS).
        let raw: [u8; 32] = rand::random();
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, s| s.expires > now);
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) = open.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            open.remove(&oldest);
        }
        open.insert(
            key(&id),
            Session {
                token_sha256,
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The token hash behind a live session; `None` for an unknown, closed or expired id.
    pub fn token_sha256(&self, id: &str, now: Instant) -> Option<[u8; 32]> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let k = key(id);
        match open.get(&k) {
            Some(s) if s.expires > now => Some(s.token_sha256),
            Some(_) => {
                open.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out).
    pub fn close(&self, id: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key(id));
    }

    /// Sessions open now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// No session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_or_expired_session_lets_nobody_in() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let id = s.open([7; 32], t0);
        assert_eq!(id.len(), 64);
        assert_eq!(s.token_sha256(&id, t0), Some([7; 32]));
        assert_eq!(s.token_sha256("not-a-session", t0), None);
        s.close(&id);
        assert_eq!(s.token_sha256(&id, t0), None, "signed out");

        let id = s.open([8; 32], t0);
        assert_eq!(s.token_sha256(&id, t0 + SESSION_TTL), None, "expired");
        assert!(s.is_empty(), "an expired session is forgotten");
    }

    #[test]
    fn ids_are_random() {
        let s = Sessions::default();
        let t0 = Instant::now();
        assert_ne!(s.open([1; 32], t0), s.open([1; 32], t0));
    }
}
