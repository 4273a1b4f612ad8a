//! Live state while a ladder runs: what `GET /v1/incidents/{id}/events` streams and what the
//! store shows mid-call.
//!
//! - [`LiveHub`]: per incident, events numbered 1, 2, ... in the order they happened here
//!   (ladder steps, call phases, joins, ownership, resolution), a bounded backlog for
//!   `Last-Event-ID` resumption and a broadcast to the streams open now. Publishing never
//!   waits: a lock held for a push, and a broadcast send.
//! - [`LiveCall`]: the call task's one hook. Each timeline push hands the newest record to a
//!   writer task through a `watch` (older versions are skipped) that saves it at most every
//!   [`WRITE_EVERY`], so the call task never awaits the store (the ended record is left to
//!   the ladder's final save); a phase change (and a join,
//!   leave or ownership) also goes to the hub at once.
//!
//! Only whitelisted fields leave through the hub: never a join-link token or a leg secret
//! (docs/security.md).

use crate::call::{CallRecord, EventKind, Phase};
use crate::store::Store;
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// A live call's record is saved at most this often (each save is one durable transaction).
pub const WRITE_EVERY: Duration = Duration::from_millis(250);
/// Events kept per incident for resumption.
const BACKLOG: usize = 512;
/// Incidents kept; the least recently published to is dropped first.
const INCIDENTS: usize = 1024;

/// One event of an incident's stream.
#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    /// 1, 2, ... per incident, in this process (the SSE `id`).
    pub id: u64,
    /// The SSE `event` name: `step`, `phase`, `operator`, `ownership`, `ladder`, `resolved`.
    pub event: &'static str,
    pub data: serde_json::Value,
}

struct Channel {
    next: u64,
    backlog: VecDeque<LiveEvent>,
    tx: broadcast::Sender<LiveEvent>,
    touched: Instant,
}

/// What a new stream starts with.
pub struct Subscription {
    /// The client's `Last-Event-ID` is not in the backlog (evicted, or from before a
    /// restart): it should re-read the incident; `replay` is the whole backlog.
    pub reset: bool,
    pub replay: Vec<LiveEvent>,
    pub rx: broadcast::Receiver<LiveEvent>,
}

/// The per-incident event streams. Cheap to clone.
#[derive(Clone, Default)]
pub struct LiveHub {
    inner: Arc<Mutex<HashMap<String, Channel>>>,
}

impl LiveHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn channel<'a>(map: &'a mut HashMap<String, Channel>, incident: &str) -> &'a mut Channel {
        if !map.contains_key(incident) && map.len() >= INCIDENTS {
            let oldest = map
                .iter()
                .filter(|(_, c)| c.tx.receiver_count() == 0)
                .min_by_key(|(_, c)| c.touched)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        map.entry(incident.to_string()).or_insert_with(|| Channel {
            next: 1,
            backlog: VecDeque::new(),
            tx: broadcast::channel(BACKLOG).0,
            touched: Instant::now(),
        })
    }

    /// Numbers the event, keeps it, and sends it to the open streams.
    pub fn publish(&self, incident: &str, event: &'static str, data: serde_json::Value) {
        let mut map = self.lock();
        let c = Self::channel(&mut map, incident);
        let e = LiveEvent {
            id: c.next,
            event,
            data,
        };
        c.next += 1;
        c.touched = Instant::now();
        if c.backlog.len() == BACKLOG {
            c.backlog.pop_front();
        }
        c.backlog.push_back(e.clone());
        // No stream open is fine.
        let _ = c.tx.send(e);
    }

    /// The newest event id of an incident (0: none yet).
    pub fn newest(&self, incident: &str) -> u64 {
        self.lock().get(incident).map_or(0, |c| c.next - 1)
    }

    /// Ends every open stream (the service is stopping: HTTP waits for open responses).
    pub fn close(&self) {
        for c in self.lock().values_mut() {
            c.tx = broadcast::channel(BACKLOG).0;
        }
    }

    /// Opens a stream: the events after `last` (all kept ones when `None` or unknown), then
    /// every new one. Atomic with `publish`: nothing is missed or sent twice.
    pub fn subscribe(&self, incident: &str, last: Option<u64>) -> Subscription {
        let mut map = self.lock();
        let c = Self::channel(&mut map, incident);
        let newest = c.next - 1;
        let oldest = c.backlog.front().map_or(c.next, |e| e.id);
        let known = last.is_none_or(|n| n <= newest && n + 1 >= oldest);
        let after = if known { last.unwrap_or(0) } else { 0 };
        Subscription {
            reset: !known,
            replay: c.backlog.iter().filter(|e| e.id > after).cloned().collect(),
            rx: c.tx.subscribe(),
        }
    }
}

/// What the call task needs to publish its live state (`hotline serve`).
#[derive(Clone)]
pub struct LiveSetup {
    pub store: Store,
    pub hub: LiveHub,
    /// The incident the call belongs to.
    pub incident: String,
}

/// One call's live publisher, owned by its task. See the module docs.
pub struct LiveCall {
    hub: LiveHub,
    incident: String,
    /// The phase last published.
    phase: Phase,
    tx: Option<watch::Sender<Option<CallRecord>>>,
    writer: Option<JoinHandle<()>>,
}

impl LiveCall {
    /// Starts the call's writer task.
    pub fn start(setup: LiveSetup) -> Self {
        let (tx, mut rx) = watch::channel::<Option<CallRecord>>(None);
        let store = setup.store;
        let writer = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let rec = rx.borrow_and_update().clone();
                if let Some(rec) = rec
                    && let Err(e) = store.save_call(&rec, None).await
                {
                    tracing::warn!(error = %e, "cannot store the live call state");
                }
                // Coalesce: whatever arrives meanwhile is one write, this much later.
                tokio::time::sleep(WRITE_EVERY).await;
            }
        });
        Self {
            hub: setup.hub,
            incident: setup.incident,
            phase: Phase::default(),
            tx: Some(tx),
            writer: Some(writer),
        }
    }

    /// The call task pushed `kind` onto `record`'s timeline.
    pub fn pushed(&mut self, record: &CallRecord, kind: &EventKind) {
        // The ended record is the ladder's to save (with its result, then sealed): until
        // then the row keeps `ended_at` empty, which is how a restart finds a cut call.
        if let Some(tx) = self.tx.as_ref().filter(|_| record.phase != Phase::Ended) {
            tx.send_replace(Some(record.clone()));
        }
        let call = json!({ "call_id": record.call_id, "contact": record.contact });
        let with = |extra: serde_json::Value| {
            let mut v = call.clone();
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            v
        };
        let (event, data) = match kind {
            EventKind::OperatorJoined {
                leg,
                name,
                via,
                listen_only,
            } => (
                "operator",
                with(
                    json!({ "action": "joined", "leg": leg, "name": name, "via": via,
                    "listen_only": listen_only }),
                ),
            ),
            EventKind::OperatorLeft { leg, reason } => (
                "operator",
                with(json!({ "action": "left", "leg": leg, "reason": reason })),
            ),
            EventKind::OperatorTookOver { leg } => (
                "operator",
                with(json!({ "action": "took_over", "leg": leg })),
            ),
            EventKind::Ownership {
                vendor_case,
                engineer,
                ..
            } => (
                "ownership",
                with(json!({ "vendor_case": vendor_case, "engineer": engineer })),
            ),
            _ => ("", serde_json::Value::Null),
        };
        if !event.is_empty() {
            self.hub.publish(&self.incident, event, data);
        }
        if record.phase != self.phase {
            self.phase = record.phase;
            // As the record serializes them, so they compare equal with the final record.
            let v = serde_json::to_value(record).unwrap_or_default();
            let pick = |k: &str| v.get(k).cloned().unwrap_or_default();
            let data = with(json!({
                "phase": pick("phase"),
                "since": pick("phase_since"),
                "stages": pick("stages"),
                "sla": pick("sla"),
            }));
            self.hub.publish(&self.incident, "phase", data);
        }
    }

    /// Stops the writer before the caller saves the final record: a save already handed to
    /// the store runs first (the store runs jobs in order), none starts after.
    pub async fn finish(&mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            w.abort();
            let _ = w.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[LiveEvent]) -> Vec<u64> {
        v.iter().map(|e| e.id).collect()
    }

    #[tokio::test]
    async fn streams_resume_after_their_last_id_and_reset_when_it_is_unknown() {
        let hub = LiveHub::default();
        for i in 0..3 {
            hub.publish("a", "step", json!({ "n": i }));
        }
        hub.publish("b", "step", json!({}));
        assert_eq!(hub.newest("a"), 3);
        assert_eq!(hub.newest("b"), 1, "numbered per incident");

        let all = hub.subscribe("a", None);
        assert!(!all.reset);
        assert_eq!(ids(&all.replay), [1, 2, 3]);
        let after2 = hub.subscribe("a", Some(2));
        assert_eq!((after2.reset, ids(&after2.replay)), (false, vec![3]));
        let current = hub.subscribe("a", Some(3));
        assert_eq!((current.reset, current.replay.len()), (false, 0));
        // From before a restart (or any id this process never gave): start over.
        let stale = hub.subscribe("a", Some(9));
        assert_eq!((stale.reset, ids(&stale.replay)), (true, vec![1, 2, 3]));

        // Live events follow the replay without a gap.
        let mut rx = current.rx;
        hub.publish("a", "phase", json!({ "phase": "ringing" }));
        let e = rx.recv().await.expect("event");
        assert_eq!((e.id, e.event), (4, "phase"));

        // Evicted from the backlog: a reset too.
        for _ in 0..BACKLOG {
            hub.publish("a", "step", json!({}));
        }
        let old = hub.subscribe("a", Some(2));
        assert!(old.reset);
        assert_eq!(old.replay.len(), BACKLOG);

        // A stop ends every open stream.
        hub.close();
        let mut rx = hub.subscribe("a", None).rx;
        hub.close();
        assert!(rx.recv().await.is_err());
    }
}
