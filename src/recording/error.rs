use std::io;

/// Everything that can go wrong while recording, repairing or writing sidecars.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// A file system operation failed.
    #[error("io: {0}")]
    Io(#[from] io::Error),
    /// The WAV encoder failed.
    #[error("wav: {0}")]
    Wav(#[from] hound::Error),
    /// Serializing a sidecar failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The recording would outgrow the 4 GiB limit of a WAV file.
    #[error("recording too long for wav")]
    TooLong,
    /// A call id is not safe to use as a file name.
    #[error("invalid call id {0:?}")]
    InvalidCallId(String),
    /// The file is not a WAV file this module can repair.
    #[error("not a wav file: {0}")]
    NotWav(&'static str),
}
