//! Trunks for the ladder: which trunk a contact is tried on next (failover), whether a
//! call's end is the trunk's fault (try the same contact on the next trunk at once), and each
//! trunk's health from its OPTIONS pings. Pure and time-injected: the runtime sends the
//! pings and feeds the replies in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::call::{Outcome, Termination};

/// A ping without any reply within this long counts as a failure.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a call's end is its trunk's fault (the same contact goes to the next trunk at once),
/// or None when it is the vendor's answer (busy, no answer, refused) or ours to withdraw.
///
/// Trunk faults: nothing reachable there (ICMP port unreachable, TCP reset or refused, TLS
/// failure: the call core's "trunk unreachable: …"), no 100 Trying within the Trying timer
/// (also "trunk unreachable: …"), no response at all (timer B), a transport error, and 503
/// Service Unavailable (RFC 3261 §21.5.4: the server, i.e. the trunk, is overloaded or down;
/// a vendor's "all agents busy" comes as 486/600 or an announcement, not as 503).
pub fn trunk_fault(end: &Termination) -> Option<String> {
    let reason = end.reason.as_str();
    if end.result == Outcome::Failed
        && [
            "trunk unreachable",
            "transport error",
            "no response to INVITE",
        ]
        .iter()
        .any(|p| reason.starts_with(p))
    {
        return Some(reason.to_string());
    }
    if end.code == Some(503) {
        return Some(format!("503 {reason}"));
    }
    None
}

/// The trunks to try for one contact, in order: its preference (contact, else dialplan, else
/// every trunk in file order), trunks known to be down moved behind the ones that are not
/// (skipped while another is left; never dropped: a P0 still tries a trunk thought down
/// rather than none).
pub fn failover_order(preference: &[String], all: &[String], health: &Health) -> Vec<String> {
    let wanted: Vec<String> = if preference.is_empty() {
        all.to_vec()
    } else {
        preference.to_vec()
    };
    let (up, down): (Vec<String>, Vec<String>) =
        wanted.into_iter().partition(|t| !health.is_down(t));
    up.into_iter().chain(down).collect()
}

/// One trunk's health as its pings and calls tell it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrunkHealth {
    /// Up after any reply, down after a failed ping or a trunk fault on a call; None before
    /// the first ping's outcome.
    pub up: Option<bool>,
    /// The last reply: when and its status code.
    pub last_reply: Option<(Instant, u16)>,
    /// The last ping's round trip.
    pub rtt: Option<Duration>,
    /// Why it is down, when it is.
    pub reason: Option<String>,
    /// A ping in flight: sent at.
    pinged: Option<Instant>,
    /// When the next ping is due.
    next_ping: Option<Instant>,
}

/// Every trunk's health, pure: the runtime asks which pings are due, sends them, and feeds
/// each reply (any SIP response means the trunk is there, even 404/405; 503 means it is not)
/// or failure.
#[derive(Debug, Default)]
pub struct Health {
    trunks: HashMap<String, TrunkHealth>,
    interval: HashMap<String, Duration>,
}

impl Health {
    /// Health for `trunks` (name, OPTIONS interval; None: never pinged, its health comes
    /// from its calls only); the first pings are due at `now`.
    pub fn new(now: Instant, trunks: &[(String, Option<Duration>)]) -> Self {
        let mut h = Self::default();
        h.sync(now, trunks);
        h
    }

    /// The trunks in force changed (a reload): new ones are added (first ping due at `now`),
    /// gone ones dropped, intervals updated; the others keep what is known of them.
    pub fn sync(&mut self, now: Instant, trunks: &[(String, Option<Duration>)]) {
        self.trunks
            .retain(|name, _| trunks.iter().any(|(n, _)| n == name));
        self.interval.clear();
        for (name, every) in trunks {
            let t = self
                .trunks
                .entry(name.clone())
                .or_insert_with(|| TrunkHealth {
                    next_ping: every.map(|_| now),
                    ..TrunkHealth::default()
                });
            match every {
                Some(every) => {
                    self.interval.insert(name.clone(), *every);
                    if t.next_ping.is_none() && t.pinged.is_none() {
                        t.next_ping = Some(now);
                    }
                }
                None => {
                    t.next_ping = None;
                    t.pinged = None;
                }
            }
        }
    }

    /// True when `trunk` is known to be down.
    pub fn is_down(&self, trunk: &str) -> bool {
        self.trunks.get(trunk).and_then(|t| t.up) == Some(false)
    }

    /// One trunk's health.
    pub fn get(&self, trunk: &str) -> Option<&TrunkHealth> {
        self.trunks.get(trunk)
    }

    /// Every trunk's health, by name.
    pub fn all(&self) -> impl Iterator<Item = (&str, &TrunkHealth)> {
        self.trunks.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The trunks whose ping is due at `now`; each is marked in flight.
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        for (name, t) in &mut self.trunks {
            if t.pinged.is_none() && t.next_ping.is_some_and(|at| at <= now) {
                t.pinged = Some(now);
                t.next_ping = None;
                out.push(name.clone());
            }
        }
        out.sort();
        out
    }

    /// The next moment something is due: a ping to send or a ping's timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.trunks
            .values()
            .filter_map(|t| match t.pinged {
                Some(at) => Some(at + PING_TIMEOUT),
                None => t.next_ping,
            })
            .min()
    }

    /// Pings unanswered for [`PING_TIMEOUT`] fail; returns the trunks that went down.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<String> {
        let late: Vec<String> = self
            .trunks
            .iter()
            .filter(|(_, t)| t.pinged.is_some_and(|at| now >= at + PING_TIMEOUT))
            .map(|(n, _)| n.clone())
            .collect();
        let mut went_down = Vec::new();
        for name in late {
            let secs = PING_TIMEOUT.as_secs();
            if self.on_failure(now, &name, &format!("no reply to OPTIONS within {secs}s")) {
                went_down.push(name);
            }
        }
        went_down.sort();
        went_down
    }

    /// A reply to `trunk`'s ping (or to any request sent there): up unless it is 503.
    /// Returns true when this changed it from down (or unknown) to up.
    pub fn on_reply(&mut self, now: Instant, trunk: &str, code: u16) -> bool {
        if code == 503 {
            return self.on_failure(now, trunk, "503 to OPTIONS");
        }
        let every = self.every(trunk);
        let Some(t) = self.trunks.get_mut(trunk) else {
            return false;
        };
        if let Some(sent) = t.pinged.take() {
            t.rtt = Some(now.saturating_duration_since(sent));
        }
        t.last_reply = Some((now, code));
        t.reason = None;
        t.next_ping = every.map(|e| now + e);
        let was = t.up.replace(true);
        was != Some(true)
    }

    /// A call through `trunk` got an answer of the far end (any response that is not a
    /// trunk fault): up, the ping schedule untouched. Returns true when it was not up.
    pub fn on_call_reply(&mut self, trunk: &str) -> bool {
        let Some(t) = self.trunks.get_mut(trunk) else {
            return false;
        };
        t.reason = None;
        t.up.replace(true) != Some(true)
    }

    /// A failed ping or a trunk fault on a call (see [`trunk_fault`]): down. Returns true when
    /// this changed it from up (or unknown) to down.
    pub fn on_failure(&mut self, now: Instant, trunk: &str, reason: &str) -> bool {
        let every = self.every(trunk);
        let Some(t) = self.trunks.get_mut(trunk) else {
            return false;
        };
        t.pinged = None;
        t.reason = Some(reason.to_string());
        // A down trunk is pinged at the interval too (capped at 30 s): it is skipped until
        // it answers again. A trunk without pings stays down until a call gets through
        // (`on_reply`) or failover tries it last.
        t.next_ping = every.map(|e| now + e.min(Duration::from_secs(30)));
        let was = t.up.replace(false);
        was != Some(false)
    }

    /// The trunk's ping interval (None: not pinged).
    fn every(&self, trunk: &str) -> Option<Duration> {
        self.interval.get(trunk).copied()
    }
}

#[cfg(test)]
#[path = "trunks_tests.rs"]
mod tests;
