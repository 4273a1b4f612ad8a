//! Two-channel call recording: a crash-safe WAV recorder aligned on a sample
//! timeline, repair of WAV files left behind by a crash, and sidecar JSON.

mod error;
pub mod repair;
pub mod sidecar;
pub mod writer;

pub use error::RecordingError;
pub use writer::{Channel, Recorder, RecordingSummary};
