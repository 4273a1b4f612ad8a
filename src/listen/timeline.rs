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
    let frame_at = |i: usize| t0 + Duration::from_millis(20 * i as u64);
    // Offline, hotline's speech is known in advance: its spans, pauses shorter than TX_QUIET
    // bridged, start and end exactly at their frames.
    let spans = tx.map(speaking_spans).unwrap_or_default();
    let mut spans = spans.into_iter().peekable();
    let mut out = Vec::new();
    for (i, frame) in rx.chunks_exact(FRAME).enumerate() {
        if let Some(&(start, end)) = spans.peek() {
            if i == start {
                listener.probe_started(frame_at(i));
            }
            if i == end {
                listener.probe_finished(frame_at(i));
                spans.next();
            }
        }
        for e in listener.push(frame_at(i), frame) {
            out.push((frame_at(i).duration_since(t0), e));
        }
    }
    // Offsets of the events' own instants, not of the frame that reported them.
    out.into_iter()
        .map(|(at, e)| (event_at(&e).map_or(at, |i| i.duration_since(t0)), e))
        .collect()
}

/// Frames where hotline speaks: (first loud frame, first frame after), short pauses bridged.
fn speaking_spans(tx: &[i16]) -> Vec<(usize, usize)> {
    let bridge = (TX_QUIET.as_millis() / 20) as usize;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (i, f) in tx.chunks(FRAME).enumerate() {
        if dbfs(f) <= TX_SPEAKING_DBFS {
            continue;
        }
        match spans.last_mut() {
            Some((_, end)) if i <= *end + bridge => *end = i + 1,
            _ => spans.push((i, i + 1)),
        }
    }
    spans
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
