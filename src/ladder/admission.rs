//! Admission under shared caps: who may start now when many ladders want the same vendor line,
//! the same dialplan or came in the same webhook delivery. Pure and time-injected (like the
//! ladder): the edge asks with a ticket and a set of limits, and is told "granted" or "queued";
//! each release says which queued tickets it let in, and how long each waited.
//!
//! Order: critical first, then arrival. Nothing is ever dropped: a ticket waits until every
//! limit it names has room. Work conserving: a later ticket whose own limits have room is let
//! in even while an earlier one waits on a limit the later one does not share.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One cap a ticket counts against: at most `cap` tickets holding `key` at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// e.g. `line:sip:support@dell.example`, `plan:dell`, `delivery:42`.
    pub key: String,
    /// At least 1 (a cap of 0 would never admit anything: it is read as 1).
    pub cap: u32,
}

impl Limit {
    pub fn new(key: impl Into<String>, cap: u32) -> Self {
        Self {
            key: key.into(),
            cap: cap.max(1),
        }
    }
}

/// Who goes first among waiting tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// A critical incident: ahead of every other waiting ticket.
    Critical,
    Normal,
}

/// The answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    Granted,
    /// Waiting; `position` counts from 1 among all waiting tickets, `full` is the first limit
    /// without room (its key and cap), for the words.
    Queued {
        position: usize,
        full: Limit,
    },
}

/// A queued ticket let in by a release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub ticket: u64,
    /// Time from its request to now.
    pub waited: Duration,
}

#[derive(Debug)]
struct Waiting {
    ticket: u64,
    limits: Vec<Limit>,
    priority: Priority,
    seq: u64,
    since: Instant,
}

/// The admission state: counters per key, the tickets holding them, the queue.
#[derive(Debug, Default)]
pub struct Admission {
    used: HashMap<String, u32>,
    held: HashMap<u64, Vec<String>>,
    /// Sorted by (priority, arrival).
    waiting: Vec<Waiting>,
    next_seq: u64,
}

impl Admission {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for room under every limit in `limits` for `ticket` (unique per request).
    pub fn request(
        &mut self,
        now: Instant,
        ticket: u64,
        limits: Vec<Limit>,
        priority: Priority,
    ) -> Admit {
        let seq = self.next_seq;
        self.next_seq += 1;
        let at = self
            .waiting
            .partition_point(|w| (w.priority, w.seq) <= (priority, seq));
        self.waiting.insert(
            at,
            Waiting {
                ticket,
                limits,
                priority,
                seq,
                since: now,
            },
        );
        // Only this ticket can be let in by its own arrival (nothing was released).
        if self.try_admit(at) {
            return Admit::Granted;
        }
        let w = &self.waiting[at];
        let full = w
            .limits
            .iter()
            .find(|l| self.used(&l.key) >= l.cap)
            .cloned()
            .unwrap_or_else(|| Limit::new("", 1));
        Admit::Queued {
            position: at + 1,
            full,
        }
    }

    /// `ticket` is done: a held ticket frees its room, a waiting one leaves the queue (its
    /// ladder stopped while it waited). Returns the tickets let in, in queue order.
    pub fn release(&mut self, now: Instant, ticket: u64) -> Vec<Grant> {
        if let Some(keys) = self.held.remove(&ticket) {
            for k in keys {
                if let Some(n) = self.used.get_mut(&k) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.used.remove(&k);
                    }
                }
            }
        } else {
            self.waiting.retain(|w| w.ticket != ticket);
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let (t, since) = (self.waiting[i].ticket, self.waiting[i].since);
            if self.try_admit(i) {
                out.push(Grant {
                    ticket: t,
                    waited: now.saturating_duration_since(since),
                });
            } else {
                i += 1;
            }
        }
        out
    }

    /// How many tickets hold `key` now.
    pub fn used(&self, key: &str) -> u32 {
        self.used.get(key).copied().unwrap_or(0)
    }

    /// Tickets waiting.
    pub fn queued(&self) -> usize {
        self.waiting.len()
    }

    /// A waiting ticket's place in the queue (from 1).
    pub fn position(&self, ticket: u64) -> Option<usize> {
        self.waiting
            .iter()
            .position(|w| w.ticket == ticket)
            .map(|p| p + 1)
    }

    /// True if `ticket` holds its room.
    pub fn holds(&self, ticket: u64) -> bool {
        self.held.contains_key(&ticket)
    }

    /// Lets waiting ticket `i` in if every limit has room; removes it from the queue then.
    fn try_admit(&mut self, i: usize) -> bool {
        let w = &self.waiting[i];
        if w.limits.iter().any(|l| self.used(&l.key) >= l.cap) {
            return false;
        }
        let w = self.waiting.remove(i);
        let keys: Vec<String> = w.limits.into_iter().map(|l| l.key).collect();
        for k in &keys {
            *self.used.entry(k.clone()).or_insert(0) += 1;
        }
        self.held.insert(w.ticket, keys);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cap: u32) -> Limit {
        Limit::new("line:sip:dell@vendor", cap)
    }

    #[test]
    fn one_call_per_line_the_rest_wait_in_order_and_none_is_dropped() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        assert_eq!(
            a.request(t0, 1, vec![line(1)], Priority::Normal),
            Admit::Granted
        );
        for t in 2..=5 {
            let got = a.request(t0, t, vec![line(1)], Priority::Normal);
            assert_eq!(
                got,
                Admit::Queued {
                    position: (t - 1) as usize,
                    full: line(1)
                }
            );
        }
        // Each release lets exactly the next one in, with its simulated wait.
        let mut order = Vec::new();
        for (i, held) in [1u64, 2, 3, 4].iter().enumerate() {
            let now = t0 + Duration::from_secs(30 * (i as u64 + 1));
            let g = a.release(now, *held);
            assert_eq!(g.len(), 1, "{g:?}");
            assert_eq!(g[0].waited, Duration::from_secs(30 * (i as u64 + 1)));
            order.push(g[0].ticket);
        }
        assert_eq!(order, [2, 3, 4, 5]);
        assert_eq!(a.queued(), 0);
        assert!(a.release(t0 + Duration::from_secs(200), 5).is_empty());
        assert_eq!(a.used("line:sip:dell@vendor"), 0);
    }

    #[test]
    fn critical_goes_before_earlier_normal_tickets() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        a.request(t0, 1, vec![line(1)], Priority::Normal);
        a.request(t0, 2, vec![line(1)], Priority::Normal);
        a.request(t0, 3, vec![line(1)], Priority::Normal);
        let got = a.request(t0, 4, vec![line(1)], Priority::Critical);
        assert!(matches!(got, Admit::Queued { position: 1, .. }), "{got:?}");
        let second_critical = a.request(t0, 5, vec![line(1)], Priority::Critical);
        assert!(matches!(second_critical, Admit::Queued { position: 2, .. }));
        let mut order = Vec::new();
        let mut held = 1;
        for s in 1..=4 {
            let g = a.release(t0 + Duration::from_secs(s), held);
            held = g[0].ticket;
            order.push(held);
        }
        assert_eq!(order, [4, 5, 2, 3], "critical first, then arrival");
    }

    #[test]
    fn a_full_line_does_not_hold_up_another_line() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let dell = |t| {
            (
                t,
                vec![Limit::new("line:dell", 1), Limit::new("plan:dell", 10)],
            )
        };
        let (t, l) = dell(1);
        assert_eq!(a.request(t0, t, l, Priority::Normal), Admit::Granted);
        for t in 2..100 {
            let (t, l) = dell(t);
            assert!(matches!(
                a.request(t0, t, l, Priority::Normal),
                Admit::Queued { .. }
            ));
        }
        // Another vendor's incident, posted during the storm, is let in at once.
        let hpe = vec![Limit::new("line:hpe", 1), Limit::new("plan:hpe", 10)];
        assert_eq!(a.request(t0, 500, hpe, Priority::Normal), Admit::Granted);
        assert_eq!(a.used("plan:dell"), 1);
    }

    #[test]
    fn caps_per_delivery_and_per_plan_both_hold() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let req = |a: &mut Admission, t: u64, d: &str| {
            let l = vec![
                Limit::new(format!("delivery:{d}"), 2),
                Limit::new("plan:dell", 3),
            ];
            a.request(t0, t, l, Priority::Normal)
        };
        assert_eq!(req(&mut a, 1, "a"), Admit::Granted);
        assert_eq!(req(&mut a, 2, "a"), Admit::Granted);
        assert!(
            matches!(req(&mut a, 3, "a"), Admit::Queued { full, .. } if full.key == "delivery:a")
        );
        assert_eq!(req(&mut a, 4, "b"), Admit::Granted);
        assert!(
            matches!(req(&mut a, 5, "b"), Admit::Queued { full, .. } if full.key == "plan:dell")
        );
        // Ticket 1 ends: 3 (delivery a has room, plan has room) goes; 5 still waits for the plan.
        let g = a.release(t0 + Duration::from_secs(5), 1);
        assert_eq!(g.iter().map(|g| g.ticket).collect::<Vec<_>>(), [3]);
        assert_eq!(a.position(5), Some(1));
    }

    #[test]
    fn a_ticket_withdrawn_while_waiting_frees_nothing_and_leaves_the_queue() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        a.request(t0, 1, vec![line(1)], Priority::Normal);
        a.request(t0, 2, vec![line(1)], Priority::Normal);
        a.request(t0, 3, vec![line(1)], Priority::Normal);
        assert!(a.release(t0, 2).is_empty(), "withdrawn: nobody let in");
        assert_eq!(a.used("line:sip:dell@vendor"), 1);
        assert_eq!(a.position(3), Some(1));
        let g = a.release(t0 + Duration::from_secs(1), 1);
        assert_eq!(g[0].ticket, 3);
        assert!(a.holds(3));
    }

    #[test]
    fn a_cap_of_zero_reads_as_one() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let l = || vec![Limit::new("line:x", 0)];
        assert_eq!(a.request(t0, 1, l(), Priority::Normal), Admit::Granted);
        assert!(matches!(
            a.request(t0, 2, l(), Priority::Normal),
            Admit::Queued { .. }
        ));
    }
}
