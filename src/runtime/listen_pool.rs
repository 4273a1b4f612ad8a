//! The listeners' own threads. Silero inference costs more than a call's 20 ms tick can spare
//! once hundreds of calls share two cores, so each call's pure `listen::Listener` runs on one
//! of a few dedicated OS threads (one per core) at a low scheduling priority (nice 10): the
//! tokio runtime's pacing wins the CPU when both want it (CFS weight 1024 against 110), and a
//! worker that falls behind catches up from its queue when the load passes; only after
//! [`QUEUE_FRAMES`] of backlog does it lose audio it has not heard yet, never a packet of the
//! call's. (SCHED_IDLE was tried: on a loaded box it starved the listeners for seconds, frames
//! were dropped mid-greeting and a person went unheard for 15 s.)
//!
//! A call holds a [`ListenHandle`]. Frames, the probing switch and the probe marks go on the
//! worker's queue in the order the call task gives them (each carries its instant, so the
//! listener sees exactly the sequence it would have seen inline). Feeding a frame never
//! blocks: with [`QUEUE_FRAMES`] of the call's audio already waiting, the frame is dropped and
//! counted. Events come back on the call's own channel, drained by the call task each tick;
//! the listener back-dates them, so a late decision still names the exact onset.

use crate::listen::{Event, Listener, PromptLibrary};
use crate::media::histogram::LogHistogram;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// Frames a call may have waiting for its worker: ten seconds of audio (320 KB per call). A
/// load spike is absorbed (events are back-dated, so only the decision is late); a worker
/// that far behind is starved by sustained overload, and newer frames are dropped until it
/// catches up.
pub const QUEUE_FRAMES: usize = 500;

/// The workers' nice value: below the runtime's (0), not starved by it.
const WORKER_NICE: i32 = 10;

enum Msg {
    Open(Box<Slot>),
    Frame {
        at: Instant,
        received: Instant,
        samples: Box<[i16]>,
    },
    Probing(bool),
    ProbeStarted(Instant),
    ProbeFinished(Instant),
    /// An operator's label (ground truth), in order with the frames around it.
    Labelled(Instant, crate::call::Label),
    Finish(tokio::sync::oneshot::Sender<Finished>),
    Close,
}

struct Job {
    call: u64,
    msg: Msg,
}

/// One call's listener on its worker.
struct Slot {
    listener: Listener,
    events: mpsc::Sender<Event>,
    queued: Arc<AtomicUsize>,
    lag: LogHistogram,
    heard: u64,
}

/// What a listener leaves at the end of its call.
pub struct Finished {
    /// The prompt library with this call's recordings, for the contact's next call.
    pub library: PromptLibrary,
    /// Receipt of each frame -> the listener done with it.
    pub lag: LogHistogram,
    /// Frames the listener heard.
    pub frames: u64,
    /// 32 ms chunks that ran the model, and those the energy gate skipped.
    pub model_chunks: u64,
    pub gated_chunks: u64,
}

/// The worker threads; calls are spread over them in turn.
pub struct ListenPool {
    workers: Vec<mpsc::Sender<Job>>,
    next: AtomicU64,
    queue_frames: usize,
}

impl ListenPool {
    /// `threads` workers (at least one), each call allowed `queue_frames` waiting frames.
    pub fn new(threads: usize, queue_frames: usize) -> std::io::Result<ListenPool> {
        let mut workers = Vec::new();
        for i in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name(format!("listen-{i}"))
                .spawn(move || work(rx))?;
            workers.push(tx);
        }
        Ok(ListenPool {
            workers,
            next: AtomicU64::new(0),
            queue_frames: queue_frames.max(1),
        })
    }

    /// The process's pool: one worker per core, started with the first call that listens.
    pub fn shared() -> Option<&'static ListenPool> {
        static POOL: OnceLock<Option<ListenPool>> = OnceLock::new();
        POOL.get_or_init(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            ListenPool::new(n, QUEUE_FRAMES)
                .inspect_err(|e| tracing::warn!(error = %e, "listener threads not started"))
                .ok()
        })
        .as_ref()
    }

    /// Hands `listener` to a worker; `None` if the worker is gone.
    pub fn open(&self, listener: Listener) -> Option<ListenHandle> {
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        let worker = self.workers[(call % self.workers.len() as u64) as usize].clone();
        let (events_tx, events) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let slot = Slot {
            listener,
            events: events_tx,
            queued: queued.clone(),
            lag: LogHistogram::default(),
            heard: 0,
        };
        worker
            .send(Job {
                call,
                msg: Msg::Open(Box::new(slot)),
            })
            .ok()?;
        Some(ListenHandle {
            call,
            worker,
            events,
            queued,
            limit: self.queue_frames,
            dropped: 0,
            finished: false,
        })
    }
}

/// A call's end of its listener. Nothing here blocks.
pub struct ListenHandle {
    call: u64,
    worker: mpsc::Sender<Job>,
    events: mpsc::Receiver<Event>,
    /// Frames sent and not yet heard.
    queued: Arc<AtomicUsize>,
    limit: usize,
    /// Frames dropped because the worker was behind (or gone).
    pub dropped: u64,
    finished: bool,
}

impl ListenHandle {
    fn send(&self, msg: Msg) -> bool {
        self.worker
            .send(Job {
                call: self.call,
                msg,
            })
            .is_ok()
    }

    /// Queues one frame whose first sample sounded at `at`; `false` if it was dropped
    /// (counted in [`ListenHandle::dropped`]).
    pub fn feed(&mut self, at: Instant, samples: &[i16]) -> bool {
        if self.queued.load(Ordering::Acquire) >= self.limit {
            self.dropped += 1;
            return false;
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        let sent = self.send(Msg::Frame {
            at,
            received: Instant::now(),
            samples: samples.into(),
        });
        if !sent {
            self.dropped += 1;
        }
        sent
    }

    pub fn set_probing(&self, on: bool) {
        self.send(Msg::Probing(on));
    }

    pub fn probe_started(&self, at: Instant) {
        self.send(Msg::ProbeStarted(at));
    }

    pub fn probe_finished(&self, at: Instant) {
        self.send(Msg::ProbeFinished(at));
    }

    /// An operator's label: "still a machine" teaches the listener the speech it took for
    /// the person; "a person is here" ends its decision.
    pub fn labelled(&self, at: Instant, label: crate::call::Label) {
        self.send(Msg::Labelled(at, label));
    }

    /// The next event the listener has produced, if any.
    pub fn try_event(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// Waits for the worker to hear every queued frame, then takes the listener back
    /// (`None` if its worker is gone).
    pub async fn finish(mut self) -> Option<Finished> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.finished = true;
        if !self.send(Msg::Finish(tx)) {
            return None;
        }
        rx.await.ok()
    }
}

impl Drop for ListenHandle {
    fn drop(&mut self) {
        if !self.finished {
            self.send(Msg::Close);
        }
    }
}

/// A worker: its calls' listeners, fed in the order the jobs arrive.
fn work(rx: mpsc::Receiver<Job>) {
    lower_priority();
    let mut calls: HashMap<u64, Slot> = HashMap::new();
    loop {
        let Job { call, msg } = match rx.try_recv() {
            Ok(job) => job,
            // Idle: look again in a moment. Nobody wakes a worker (that cost each call task a
            // syscall per frame, and the worker a context switch per frame).
            Err(mpsc::TryRecvError::Empty) => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
        };
        match msg {
            Msg::Open(slot) => {
                calls.insert(call, *slot);
            }
            Msg::Finish(reply) => {
                if let Some(slot) = calls.remove(&call) {
                    let _ = reply.send(slot.finish());
                }
            }
            Msg::Close => {
                calls.remove(&call);
            }
            msg => {
                let Some(slot) = calls.get_mut(&call) else {
                    continue;
                };
                if std::panic::catch_unwind(AssertUnwindSafe(|| slot.handle(msg))).is_err() {
                    // A listener bug ends this call's listening, not the worker's other calls.
                    tracing::error!(call, "listener panicked; the call goes on deaf");
                    calls.remove(&call);
                }
            }
        }
    }
}

/// How often an idle worker looks for work (its listeners' decisions wait at most this long
/// on top of their own hangovers).
const POLL: Duration = Duration::from_millis(10);

impl Slot {
    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Frame {
                at,
                received,
                samples,
            } => {
                for e in self.listener.push(at, &samples) {
                    let _ = self.events.send(e);
                }
                self.heard += 1;
                self.queued.fetch_sub(1, Ordering::AcqRel);
                self.lag.record(received.elapsed());
            }
            Msg::Probing(on) => self.listener.set_probing(on),
            Msg::ProbeStarted(at) => self.listener.probe_started(at),
            Msg::ProbeFinished(at) => self.listener.probe_finished(at),
            Msg::Labelled(at, crate::call::Label::Machine) => {
                let n = self.listener.operator_says_machine(at);
                tracing::info!(learned = n, "operator: still a machine");
            }
            Msg::Labelled(at, crate::call::Label::Person) => self.listener.operator_says_person(at),
            Msg::Open(_) | Msg::Finish(_) | Msg::Close => {}
        }
    }

    fn finish(self) -> Finished {
        let (model_chunks, gated_chunks) = (self.listener.model_chunks, self.listener.gated_chunks);
        Finished {
            library: self.listener.into_library(),
            lag: self.lag,
            frames: self.heard,
            model_chunks,
            gated_chunks,
        }
    }
}

/// This thread at a low priority (nice [`WORKER_NICE`]). Linux schedules threads, so only
/// this worker moves.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority takes plain integers; `who` 0 is the calling thread on Linux.
        let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, WORKER_NICE) };
        if r != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "listener thread keeps its priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = WORKER_NICE;
}

#[cfg(test)]
#[path = "listen_pool_tests.rs"]
mod tests;
