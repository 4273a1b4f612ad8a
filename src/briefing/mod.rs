//! The briefing engine: an incident turned into text a support engineer can act on
//! (English or Mandarin), and into 8 kHz speech that is ready before the vendor answers.
//!
//! - [`text`]: default templates (support-desk order) and `{field}` rendering.
//! - [`normalize`]: identifiers spelled, numbers/units/times in words, secrets dropped.
//! - [`script`]: Han/Latin runs and SSML `<voice>` runs for espeak-ng.
//! - [`engine`]: the [`Engine`] trait; espeak-ng (linked), OpenAI-compatible, Piper, fallback.
//! - [`audio`]: WAV decoding, 8 kHz, silence trim, -20 dBFS level, limiter.
//! - [`cache`]: content-addressed, single-flight speech cache.
//! - [`Briefer`]: `warm_up`, `greeting`, `prepare` -> [`BriefingHandle`].

pub mod audio;
mod briefer;
pub mod cache;
pub mod engine;
mod error;
pub mod normalize;
pub mod script;
#[cfg(test)]
mod tests;
pub mod text;

pub use briefer::{Briefer, BriefingHandle, Ready};
pub use engine::{Engine, Speech, SpeechRequest};
pub use error::BriefingError;
