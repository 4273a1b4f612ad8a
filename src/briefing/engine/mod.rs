//! Text-to-speech engines behind one trait: espeak-ng (linked), OpenAI-compatible and Piper
//! HTTP servers, and a fallback wrapper.

mod espeak;
mod fallback;
mod http;

pub use espeak::Espeak;
pub use fallback::Fallback;
pub use http::{OpenAi, Piper};

use std::future::Future;
use std::pin::Pin;

use super::BriefingError;
use crate::config::Language;

/// A boxed future, so engines can be chosen at run time (`Arc<dyn Engine>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechRequest {
    /// Normalized briefing text (lines of sentences).
    pub text: String,
    /// Its language.
    pub language: Language,
}

/// Raw speech from an engine: mono samples in ±1.0 at the engine's rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Speech {
    /// Mono samples, full scale ±1.0.
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub rate: u32,
}

/// A text-to-speech engine.
pub trait Engine: Send + Sync {
    /// Identifies the engine and voice in cache keys (`"espeak:en-us"`).
    fn id(&self) -> String;
    /// Speaks `request`.
    fn synthesize<'a>(
        &'a self,
        request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>>;
}
