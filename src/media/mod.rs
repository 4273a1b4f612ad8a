//! Pure media building blocks: G.711, RTP, RFC 4733 DTMF, SDP offer/answer,
//! receive reordering, audio sources and resampling, SDES-SRTP. No I/O besides WAV loading.

pub mod dtmf;
pub mod g711;
pub mod histogram;
pub mod latch;
pub mod mixer;
pub mod reorder;
pub mod resample;
pub mod rtcp;
pub mod rtp;
pub mod sampled;
pub mod sdp;
pub mod session;
pub mod source;
pub mod srtp;

/// Narrowband telephony sample rate (G.711, RFC 3551 §4.5.14).
pub const SAMPLE_RATE: u32 = 8000;

/// Samples per 20 ms frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 160; // 20 ms
