//! Errors of the briefing engine.

/// Why a briefing could not be written or spoken.
#[derive(Debug, thiserror::Error)]
pub enum BriefingError {
    /// libespeak-ng could not be initialized or failed to synthesize.
    #[error("espeak-ng: {0}")]
    Espeak(String),
    /// An HTTP engine failed (connection, timeout, status).
    #[error("{engine} engine: {message}")]
    Http {
        /// `openai` or `piper`.
        engine: &'static str,
        /// What went wrong.
        message: String,
    },
    /// Audio from an engine was not a WAV this module can read.
    #[error("bad wav from engine: {0}")]
    BadWav(String),
    /// An engine returned no audio.
    #[error("engine returned no speech")]
    Silent,
    /// The configuration asks for an engine it does not configure (e.g. no `url`).
    #[error("[briefing]: {0}")]
    Config(String),
    /// The synthesis task went away before finishing.
    #[error("briefing synthesis was cancelled")]
    Cancelled,
}
