//! The async side of `ladder::Admission`: a `Gate` hands out `Slot`s; a slot either holds its
//! room at once or waits (in order: critical first, then arrival) and is woken when a release
//! lets it in. Dropping a slot releases its room or withdraws it from the queue, so a ladder
//! that stops while it waits, or a call task that ends, frees what it held without ceremony.
//! Paced limits (a trunk's `max_cps`) need no task of their own: the waiting slots sleep until
//! `Admission::poll_timeout` and let in whoever the time admits.

use crate::ladder::{Admission, Admit, Limit, Priority};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

#[derive(Default)]
struct Inner {
    adm: Admission,
    wake: HashMap<u64, oneshot::Sender<Duration>>,
    next: u64,
}

/// One admission queue (the service has one for ladders and one for calls).
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<Mutex<Inner>>,
}

/// Why a slot waits: its place in the queue and the first full limit.
#[derive(Clone, Debug)]
pub struct Queued {
    pub position: usize,
    pub full: Limit,
}

/// Room under a gate's limits, held until dropped.
pub struct Slot {
    gate: Arc<Mutex<Inner>>,
    ticket: u64,
    rx: Option<oneshot::Receiver<Duration>>,
    /// Set when the request had to wait.
    pub queued: Option<Queued>,
    asked: Instant,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gate {
    /// Asks for room under `limits`; the slot holds it at once or waits in the queue.
    pub fn request(&self, limits: Vec<Limit>, priority: Priority) -> Slot {
        let mut g = lock(&self.inner);
        let ticket = g.next;
        g.next += 1;
        let now = Instant::now();
        let (rx, queued) = match g.adm.request(now, ticket, limits, priority) {
            Admit::Granted => (None, None),
            Admit::Queued { position, full } => {
                let (tx, rx) = oneshot::channel();
                g.wake.insert(ticket, tx);
                (Some(rx), Some(Queued { position, full }))
            }
        };
        Slot {
            gate: self.inner.clone(),
            ticket,
            rx,
            queued,
            asked: now,
        }
    }

    /// Requests waiting now.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        lock(&self.inner).adm.queued()
    }
}

impl Slot {
    /// Waits until the slot holds its room; returns how long it waited (zero when it never
    /// queued). Cancel safe: awaiting again goes on waiting.
    pub async fn granted(&mut self) -> Duration {
        let Some(rx) = self.rx.as_mut() else {
            return Duration::ZERO;
        };
        loop {
            let due = lock(&self.gate).adm.poll_timeout();
            let timer = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                got = &mut *rx => {
                    let waited = got.unwrap_or_else(|_| self.asked.elapsed());
                    self.rx = None;
                    return waited;
                }
                () = timer => tick(&self.gate, Instant::now()),
            }
        }
    }

    /// True while it waits.
    #[cfg(test)]
    pub fn is_waiting(&self) -> bool {
        self.rx.is_some()
    }
}

/// Time passed: wakes every slot pacing now lets in (any waiting slot may run this; a
/// second run at the same moment finds nothing to do).
fn tick(gate: &Mutex<Inner>, now: Instant) {
    let mut g = lock(gate);
    for grant in g.adm.handle_timeout(now) {
        if let Some(tx) = g.wake.remove(&grant.ticket) {
            let _ = tx.send(grant.waited);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut g = lock(&self.gate);
        g.wake.remove(&self.ticket);
        for grant in g.adm.release(Instant::now(), self.ticket) {
            if let Some(tx) = g.wake.remove(&grant.ticket) {
                // A receiver already gone belongs to a slot being dropped: it releases then.
                let _ = tx.send(grant.waited);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dropped_slot_wakes_the_next_and_a_withdrawn_one_frees_nothing() {
        let gate = Gate::default();
        let line = || vec![Limit::new("line:a", 1)];
        let first = gate.request(line(), Priority::Normal);
        assert!(first.queued.is_none());
        let second = gate.request(line(), Priority::Normal);
        let mut third = gate.request(line(), Priority::Normal);
        assert_eq!(third.queued.as_ref().map(|q| q.position), Some(2));
        drop(second); // withdrawn while waiting
        assert_eq!(gate.waiting(), 1);
        drop(first);
        let waited = tokio::time::timeout(Duration::from_secs(1), third.granted())
            .await
            .expect("woken by the release");
        assert!(waited < Duration::from_secs(1));
        assert!(!third.is_waiting());
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn paced_slots_go_at_most_per_second_without_a_release() {
        let gate = Gate::default();
        let trunk = || vec![Limit::new("trunk:carrier", 100).paced(2)];
        let t0 = Instant::now();
        let mut slots: Vec<Slot> = (0..5)
            .map(|_| gate.request(trunk(), Priority::Normal))
            .collect();
        assert_eq!(gate.waiting(), 3);
        let mut at = Vec::new();
        for s in &mut slots {
            tokio::time::timeout(Duration::from_secs(4), s.granted())
                .await
                .expect("paced in by the timer");
            at.push(t0.elapsed());
        }
        // Two at once, two after one second, the fifth after two.
        assert!(at[1] < Duration::from_millis(200), "{at:?}");
        assert!(
            at[2] >= Duration::from_secs(1) && at[3] < Duration::from_millis(1300),
            "{at:?}"
        );
        assert!(at[4] >= Duration::from_secs(2), "{at:?}");
    }
}
