//! The pool against the listener fed inline: the same events in the same order (probe marks
//! between the frames they were given between), drops counted when a worker is behind, and
//! the prompt library back at the end. The listener's VAD is the level-scripted fake of
//! `listen/tests.rs` (the decision logic, not the model, is what the pool must not change).

use super::*;
use crate::listen::vad::{CHUNK, FnVad};
use crate::listen::{FRAME, Listener, PromptLibrary, Thresholds, Vad};
use std::time::Duration;

fn fake() -> Box<dyn Vad> {
    Box::new(FnVad(|c: &[f32; CHUNK]| {
        let rms = (c.iter().map(|x| x * x).sum::<f32>() / CHUNK as f32).sqrt();
        if rms > 0.12 { 0.95 } else { 0.05 }
    }))
}

fn rng(seed: u32) -> impl FnMut() -> u32 {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    }
}

/// Quiet noise: music to the fake VAD.
fn music(seed: u32, secs: f32) -> Vec<i16> {
    let mut r = rng(seed);
    (0..(secs * 8000.0) as usize)
        .map(|_| ((r() as f32 / u32::MAX as f32 - 0.5) * 0.06 * 32767.0) as i16)
        .collect()
}

/// Loud tones changing every 60 ms: speech to the fake VAD, with peaks to fingerprint.
fn speech(seed: u32, secs: f32) -> Vec<i16> {
    let mut r = rng(seed);
    let mut f = [0.0f32; 3];
    (0..(secs * 8000.0) as usize)
        .map(|i| {
            if i % 480 == 0 {
                for x in f.iter_mut() {
                    *x = 200.0 + (r() % 3000) as f32;
                }
            }
            let t = i as f32 / 8000.0;
            let v: f32 = f
                .iter()
                .map(|f| (std::f32::consts::TAU * f * t).sin())
                .sum();
            (v * 0.15 * 32767.0) as i16
        })
        .collect()
}

fn quiet(secs: f32) -> Vec<i16> {
    vec![0; (secs * 8000.0) as usize]
}

/// What the call task does, as steps: frames, probe marks, the probing switch.
enum Step {
    Audio(Vec<i16>),
    Probing(bool),
    ProbeStarted,
    ProbeFinished,
}

/// Hold music, an announcement, music, a person greeting, the probe in their pause, a reply.
fn script() -> Vec<Step> {
    vec![
        Step::Probing(true),
        Step::Audio(music(1, 4.0)),
        Step::Audio(speech(7, 2.0)),
        Step::Audio(music(2, 3.0)),
        Step::Audio(speech(2, 1.5)),
        Step::Audio(quiet(0.6)),
        Step::ProbeStarted,
        Step::Audio(quiet(1.4)),
        Step::ProbeFinished,
        Step::Audio(quiet(0.5)),
        Step::Audio(speech(3, 1.0)),
    ]
}

/// Runs the script through `feed` (a frame at its instant) and `mark` (a step at the
/// instant of the next frame).
fn play(t0: Instant, mut feed: impl FnMut(Instant, &[i16]), mut mark: impl FnMut(&Step, Instant)) {
    let mut n = 0u64;
    for step in script() {
        let now = t0 + Duration::from_millis(20 * n);
        match &step {
            Step::Audio(a) => {
                for f in a.chunks_exact(FRAME) {
                    feed(t0 + Duration::from_millis(20 * n), f);
                    n += 1;
                }
            }
            s => mark(s, now),
        }
    }
}

fn listener() -> Listener {
    Listener::new(fake(), PromptLibrary::default(), Thresholds::default())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

#[test]
fn the_pool_hears_what_the_inline_listener_hears_in_the_same_order() {
    let t0 = Instant::now();
    let mut inline = listener();
    let mut want = Vec::new();
    let inline_cell = std::cell::RefCell::new(&mut inline);
    play(
        t0,
        |at, f| want.extend(inline_cell.borrow_mut().push(at, f)),
        |s, at| {
            let mut l = inline_cell.borrow_mut();
            match s {
                Step::Probing(on) => l.set_probing(*on),
                Step::ProbeStarted => l.probe_started(at),
                Step::ProbeFinished => l.probe_finished(at),
                Step::Audio(_) => {}
            }
        },
    );
    assert!(
        want.iter().any(|e| matches!(e, Event::Human { .. })),
        "the script finds a person inline: {want:?}"
    );
    let want_library = inline.into_library().len();

    // Room for the whole script: nothing may be dropped here.
    let pool = ListenPool::new(1, 100_000).expect("pool");
    let h = std::cell::RefCell::new(pool.open(listener()).expect("open"));
    play(
        t0,
        |at, f| assert!(h.borrow_mut().feed(at, f), "no drop"),
        |s, at| {
            let h = h.borrow();
            match s {
                Step::Probing(on) => h.set_probing(*on),
                Step::ProbeStarted => h.probe_started(at),
                Step::ProbeFinished => h.probe_finished(at),
                Step::Audio(_) => {}
            }
        },
    );
    let h = h.into_inner();
    let frames: u64 = script()
        .iter()
        .map(|s| match s {
            Step::Audio(a) => (a.len() / FRAME) as u64,
            _ => 0,
        })
        .sum();
    // Finishing waits for every queued frame; the events are all out by then.
    let (events, h) = split(h);
    let done = runtime().block_on(h.finish()).expect("finished");
    let got: Vec<Event> = events.try_iter().collect();
    assert_eq!(got, want, "same events, same order");
    assert_eq!(done.frames, frames);
    assert_eq!(done.library.len(), want_library, "library returned");
    assert!(want_library >= 1, "the announcement was learned");
    assert_eq!(done.lag.count(), frames);
}

/// The handle's event receiver apart from the handle (so events can be read after finish).
fn split(mut h: ListenHandle) -> (mpsc::Receiver<Event>, ListenHandle) {
    let (_, dummy) = mpsc::channel();
    let events = std::mem::replace(&mut h.events, dummy);
    (events, h)
}

#[test]
fn a_worker_behind_drops_frames_counts_them_and_never_blocks() {
    // A model stuck on its first chunk until the gate opens: the worker is behind for as
    // long as the test wants, and a feed that waited for it would never return.
    let (open_gate, gate) = mpsc::channel::<()>();
    let stuck = FnVad(move |_: &[f32; CHUNK]| {
        let _ = gate.recv();
        0.05
    });
    let pool = ListenPool::new(1, 4).expect("pool");
    let mut h = pool
        .open(Listener::new(
            Box::new(stuck),
            PromptLibrary::default(),
            Thresholds::default(),
        ))
        .expect("open");
    let t0 = Instant::now();
    let audio = music(5, 2.0);
    let fed = (audio.len() / FRAME) as u64;
    let mut accepted = 0;
    for (i, f) in audio.chunks_exact(FRAME).enumerate() {
        accepted += h.feed(t0 + Duration::from_millis(20 * i as u64), f) as u64;
    }
    // At most the queue (4) plus the frames heard before the model stuck (2) got through.
    assert!(accepted <= 6, "accepted {accepted}");
    assert_eq!(accepted + h.dropped, fed);
    drop(open_gate);
    let dropped = h.dropped;
    let done = runtime().block_on(h.finish()).expect("finished");
    assert_eq!(done.frames, accepted, "every accepted frame heard");
    assert_eq!(done.frames + dropped, fed);
}

#[test]
fn a_closed_call_leaves_the_worker_serving_others() {
    let pool = ListenPool::new(1, QUEUE_FRAMES).expect("pool");
    let t0 = Instant::now();
    let mut gone = pool.open(listener()).expect("open");
    gone.feed(t0, &music(1, 0.02));
    drop(gone);
    let mut h = pool.open(listener()).expect("open");
    for (i, f) in music(2, 0.4).chunks_exact(FRAME).enumerate() {
        assert!(h.feed(t0 + Duration::from_millis(20 * i as u64), f));
    }
    let done = runtime().block_on(h.finish()).expect("finished");
    assert_eq!(done.frames, 20);
}
