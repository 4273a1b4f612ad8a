//! Voice activity: a model scoring 32 ms chunks, behind a trait so the decision logic can be
//! tested with a scripted fake and the classifier with the real model on real audio.

/// Samples per model chunk at 8 kHz (Silero's window for 8 kHz).
pub const CHUNK: usize = 256;

pub trait Vad: Send {
    /// Speech probability of the next chunk (samples scaled to [-1, 1]); chunks are
    /// contiguous, so a model with memory carries it from one call to the next.
    fn score(&mut self, chunk: &[f32; CHUNK]) -> Result<f32, VadError>;
    /// The chunk was skipped as silence: keep any context the model needs for the next one.
    fn skip(&mut self, chunk: &[f32; CHUNK]);
    /// Forget all memory (after a long silence).
    fn reset(&mut self);
    /// Keep the memory as it is now (one slot), to go back to with `rewind`.
    fn keep(&mut self) {}
    /// Back to the memory kept by the last `keep`.
    fn rewind(&mut self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error("vad model file changed: sha256 {found}, expected {expected}")]
    ModelChanged { found: String, expected: String },
    #[error("vad model: {0}")]
    Model(String),
}

/// A scripted VAD for tests of the decision logic: the score is a function of the chunk.
pub struct FnVad<F>(pub F);

impl<F: FnMut(&[f32; CHUNK]) -> f32 + Send> Vad for FnVad<F> {
    fn score(&mut self, chunk: &[f32; CHUNK]) -> Result<f32, VadError> {
        Ok((self.0)(chunk))
    }
    fn skip(&mut self, _: &[f32; CHUNK]) {}
    fn reset(&mut self) {}
}
