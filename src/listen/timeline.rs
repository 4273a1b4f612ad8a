//! A whole recording through the listener, faster than real time: the vendor's channel, and
//! optionally hotline's own channel (a call recording), whose speech is taken as the probe.

use super::listener::{Event, FRAME, Listener};
use std::time::{Duration, Instant};

/// hotline's channel counts as speaking above this level (dBFS); its audio is normalised
/// to -20 dBFS RMS, silence between words is digital zero.
const TX_SPEAKING_DBFS: f32 = -45.0;
/// hotline stopped speaking after this much quiet (its own sentence pauses are shorter).
const TX_QUIET: Duration = Duration::from_millis(400);

/// Every event with its offset from the start of the recording.
pub fn run(listener: &mut Listener, rx: &[i16], tx: Option<&[i16]>) -> Vec<(Duration, Event)> {
    let t0 = Instant::now();
    listener.set_probing(tx.is_some());
    let mut out = Vec::new();
    let mut speaking = false;
    let mut quiet = Duration::ZERO;
    for (i, frame) in rx.chunks_exact(FRAME).enumerate() {
        let at = Duration::from_millis(20 * i as u64);
        if let Some(tx) = tx {
            let f = tx.get(i * FRAME..(i + 1) * FRAME).unwrap_or(&[]);
            let loud = dbfs(f) > TX_SPEAKING_DBFS;
            if loud && !speaking {
                speaking = true;
                listener.probe_started(t0 + at);
            } else if !loud && speaking {
                quiet += Duration::from_millis(20);
                if quiet >= TX_QUIET {
                    speaking = false;
                    listener.probe_finished(t0 + at + Duration::from_millis(20) - quiet);
                }
            }
            if loud {
                quiet = Duration::ZERO;
            }
        }
        for e in listener.push(t0 + at, frame) {
            out.push((at, e));
        }
    }
    // Offsets of the events' own instants, not of the frame that reported them.
    out.into_iter()
        .map(|(at, e)| (event_at(&e).map_or(at, |i| i.duration_since(t0)), e))
        .collect()
}

/// The instant an event is about (a start, an onset), where it has one.
pub fn event_at(e: &Event) -> Option<Instant> {
    match e {
        Event::Started { at, .. } | Event::Ended { at, .. } | Event::ProbeWanted { at } => {
            Some(*at)
        }
        Event::Recorded { onset, .. } | Event::ReplyHeard { onset } => Some(*onset),
        Event::Human { onset, .. } => Some(*onset),
    }
}

fn dbfs(f: &[i16]) -> f32 {
    if f.is_empty() {
        return -120.0;
    }
    let e: f64 = f.iter().map(|&s| (s as f64 / 32768.0).powi(2)).sum::<f64>() / f.len() as f64;
    10.0 * e.max(1e-12).log10() as f32
}
