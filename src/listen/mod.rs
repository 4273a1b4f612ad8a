//! What the far end is doing: silence, tone, hold music, a recorded prompt, or a person.
//! A pure streaming stage (no I/O, time is an input): 20 ms frames in, events out.
//!
//! - [`listener`]: `Listener::push(now, &frame) -> Vec<Event>`: sounds, recordings, probe
//!   requests and the person decision with its evidence.
//! - [`vad`]: the voice-activity trait; [`silero`]: Silero VAD v6 run by tract.
//! - [`spectrum`]: a 256-point spectrum per frame (tones, fingerprints).
//! - [`fingerprint`], [`library`]: landmark fingerprints and the per-contact prompt library.
//! - [`thresholds`]: every threshold, each with the measurement that chose it.
//! - [`timeline`]: a whole recording through the listener (for `hotline listen` and tests).

pub mod fingerprint;
pub mod library;
pub mod listener;
pub mod silero;
pub mod spectrum;
pub mod stride;
pub mod thresholds;
pub mod timeline;
pub mod vad;

pub use library::PromptLibrary;
pub use listener::{Event, Evidence, FRAME, Listener, Recorded, Sound};
pub use thresholds::Thresholds;
pub use vad::Vad;

#[cfg(test)]
mod tests;
