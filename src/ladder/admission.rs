//! Admission under shared caps: who may start now when many ladders want the same vendor line,
//! the same dialplan or came in the same webhook delivery. Pure and time-injected (like the
//! ladder): the edge asks with a ticket and a set of limits, and is told "granted" or "queued";
//! each release says which queued tickets it let in, and how long each waited.
//!
//! A limit may also pace starts (`per_second`: a trunk's calls per second): at most that many
//! tickets let in under its key within any one second; a ticket held back only by pacing is
//! let in by [`Admission::handle_timeout`] at [`Admission::poll_timeout`].
//!
//! Order: critical first, then arrival. Nothing is ever dropped: a ticket waits until every
//! limit it names has room. Work conserving: a later ticket whose own limits have room is let
//! in even while an earlier one waits on a limit the later one does not share.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// One cap a ticket counts against: at most `cap` tickets holding `key` at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    /// e.g. `line:sip:support@dell.example`, `plan:dell`, `delivery:42`.
    pub key: String,
    /// At least 1 (a cap of 0 would never admit anything: it is read as 1).
    pub cap: u32,
    /// Also at most this many admissions under `key` within any one second (a trunk's
    /// `max_cps`); None: no pacing. At least 1.
    pub per_second: Option<u32>,
}

impl Limit {
    pub fn new(key: impl Into<String>, cap: u32) -> Self {
        Self {
            key: key.into(),
            cap: cap.max(1),
            per_second: None,
        }
    }

    /// The same limit, pacing admissions to `per_second` (0 is read as 1).
    pub fn paced(mut self, per_second: u32) -> Self {
        self.per_second = Some(per_second.max(1));
        self
    }
}

/// The pacing window: at most `per_second` admissions within any [`PACE_WINDOW`].
const PACE_WINDOW: Duration = Duration::from_secs(1);

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
    /// Admission times within the last [`PACE_WINDOW`], per paced key.
    starts: HashMap<String, VecDeque<Instant>>,
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
        if self.try_admit(now, at) {
            return Admit::Granted;
        }
        let w = &self.waiting[at];
        let full = w
            .limits
            .iter()
            .find(|l| !self.has_room(now, l))
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
        self.admit_waiting(now)
    }

    /// When a ticket held back only by pacing may go: the earliest moment a paced key that a
    /// waiting ticket names gets room again. None when nothing waits on pacing.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.waiting
            .iter()
            // A ticket at a full cap waits for a release, not for time.
            .filter(|w| w.limits.iter().all(|l| self.used(&l.key) < l.cap))
            .filter_map(|w| w.limits.iter().filter_map(|l| self.paced_room_at(l)).max())
            .min()
    }

    /// When paced `limit` has room again: the start that must leave the window has left it.
    /// None when it is not paced or has room whatever the time.
    fn paced_room_at(&self, limit: &Limit) -> Option<Instant> {
        let per_second = limit.per_second? as usize;
        let starts = self.starts.get(&limit.key)?;
        let leaving = starts.len().checked_sub(per_second)?;
        starts.get(leaving).map(|t| *t + PACE_WINDOW)
    }

    /// Time passed: lets in the waiting tickets whose pacing now has room (queue order).
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Grant> {
        self.admit_waiting(now)
    }

    /// Lets in every waiting ticket that has room now, in queue order.
    fn admit_waiting(&mut self, now: Instant) -> Vec<Grant> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let (t, since) = (self.waiting[i].ticket, self.waiting[i].since);
            if self.try_admit(now, i) {
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

    /// True if `limit` has room for one more now: under its cap and, when paced, fewer than
    /// `per_second` admissions within the last second.
    fn has_room(&self, now: Instant, limit: &Limit) -> bool {
        if self.used(&limit.key) >= limit.cap {
            return false;
        }
        let Some(per_second) = limit.per_second else {
            return true;
        };
        let recent = self.starts.get(&limit.key).map_or(0, |s| {
            s.iter()
                .filter(|t| now.saturating_duration_since(**t) < PACE_WINDOW)
                .count()
        });
        recent < per_second as usize
    }

    /// Lets waiting ticket `i` in if every limit has room; removes it from the queue then.
    fn try_admit(&mut self, now: Instant, i: usize) -> bool {
        let w = &self.waiting[i];
        if w.limits.iter().any(|l| !self.has_room(now, l)) {
            return false;
        }
        let w = self.waiting.remove(i);
        for l in w.limits.iter().filter(|l| l.per_second.is_some()) {
            let starts = self.starts.entry(l.key.clone()).or_default();
            while starts
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= PACE_WINDOW)
            {
                starts.pop_front();
            }
            starts.push_back(now);
        }
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

    #[test]
    fn pacing_lets_per_second_in_then_the_rest_on_the_timer() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let trunk = || vec![Limit::new("trunk:carrier", 100).paced(2)];
        assert_eq!(a.request(t0, 1, trunk(), Priority::Normal), Admit::Granted);
        let t = t0 + Duration::from_millis(300);
        assert_eq!(a.request(t, 2, trunk(), Priority::Normal), Admit::Granted);
        assert!(matches!(
            a.request(t, 3, trunk(), Priority::Normal),
            Admit::Queued { full, .. } if full.per_second == Some(2)
        ));
        // Room again when the first start leaves the one-second window.
        assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert!(a.handle_timeout(t0 + Duration::from_millis(999)).is_empty());
        let g = a.handle_timeout(t0 + Duration::from_secs(1));
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].ticket, g[0].waited), (3, Duration::from_millis(700)));
        assert_eq!(a.poll_timeout(), None, "nothing waits");
    }

    #[test]
    fn a_ticket_at_a_full_cap_asks_for_no_timer() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let trunk = || vec![Limit::new("trunk:x", 1).paced(1)];
        a.request(t0, 1, trunk(), Priority::Normal);
        a.request(t0, 2, trunk(), Priority::Normal);
        assert_eq!(a.poll_timeout(), None, "waits for a release, not for time");
        // Released within the second: still paced, then the timer lets it in.
        assert!(a.release(t0 + Duration::from_millis(100), 1).is_empty());
        assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(a.handle_timeout(t0 + Duration::from_secs(1))[0].ticket, 2);
    }

    /// The storm in simulated time: 500 tickets at once on a trunk of 10 channels and 5 cps,
    /// every call 3 s long. None dropped, never more than 10 held, never more than 5 starts in
    /// any second, every critical one started before any normal one that had to wait.
    #[test]
    fn storm_on_a_trunk_of_10_channels_and_5_cps() {
        let t0 = Instant::now();
        let mut a = Admission::new();
        let trunk = || vec![Limit::new("trunk:carrier", 10).paced(5)];
        let critical = |t: u64| t.is_multiple_of(7);
        let mut starts: Vec<(Instant, u64)> = Vec::new();
        let mut ends: Vec<(Instant, u64)> = Vec::new();
        for t in 0..500u64 {
            let p = if critical(t) {
                Priority::Critical
            } else {
                Priority::Normal
            };
            if a.request(t0, t, trunk(), p) == Admit::Granted {
                starts.push((t0, t));
                ends.push((t0 + Duration::from_secs(3), t));
            }
        }
        let mut now = t0;
        let mut max_held = a.used("trunk:carrier");
        while a.queued() > 0 || !ends.is_empty() {
            ends.sort();
            let next_end = ends.first().map(|e| e.0);
            let next = [next_end, a.poll_timeout()].into_iter().flatten().min();
            now = next.expect("something to wait for while tickets wait");
            let mut granted = a.handle_timeout(now);
            while ends.first().is_some_and(|e| e.0 <= now) {
                let (_, t) = ends.remove(0);
                granted.extend(a.release(now, t));
            }
            for g in granted {
                starts.push((now, g.ticket));
                ends.push((now + Duration::from_secs(3), g.ticket));
            }
            max_held = max_held.max(a.used("trunk:carrier"));
        }
        assert_eq!(starts.len(), 500, "none dropped");
        assert!(max_held <= 10, "{max_held} held at once");
        for (i, (at, _)) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .take_while(|(t, _)| t.duration_since(*at) < Duration::from_secs(1))
                .count();
            assert!(in_window <= 5, "{in_window} starts within a second");
        }
        let first_normal_waiting = starts
            .iter()
            .skip(5)
            .position(|(_, t)| !critical(*t))
            .unwrap();
        let criticals_after = starts
            .iter()
            .skip(5 + first_normal_waiting)
            .filter(|(_, t)| critical(*t))
            .count();
        assert_eq!(criticals_after, 0, "critical first");
        // 500 starts at 5 per second take about 100 s of simulated time.
        let span = now.duration_since(t0);
        assert!(span >= Duration::from_secs(99), "{span:?}");
    }
}
