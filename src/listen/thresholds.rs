//! Every threshold of the listener in one place, each with the measurement that chose it.
//! Figures are from `cargo test --test listen_eval` (Debian's asterisk-core-sounds-en-wav
//! prompts, asterisk-moh-opsound-wav hold music, espeak-ng persons) unless said otherwise.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Thresholds {
    /// Below this frame level (dBFS) a frame is silence and the model is not run. The quietest
    /// speech frames in the Asterisk prompts sit near -48 dBFS after the -20 dBFS level the
    /// prompts are recorded at; G.711 idle noise is below -65.
    pub silence_dbfs: f32,
    /// A 32 ms chunk quieter than this (dBFS RMS) skips the VAD model (scored 0): Silero scores
    /// < 0.05 on every such chunk of the prompts, so skipping changes no decision.
    pub gate_dbfs: f32,
    /// Silero speech probability to enter speech; 0.5 is the model's documented default and
    /// marks 96 % of prompt chunks and none of the 30 s of hold music checked against
    /// onnxruntime (docs in models/README.md).
    pub speech_on: f32,
    /// Probability to stay in speech once in it (Silero's VADIterator uses on - 0.15).
    pub speech_off: f32,
    /// Speech must last this long before a segment starts (three model chunks). Silero on
    /// 60 s of each Asterisk hold-music file: four files never reach 0.35; robot_dity has
    /// one 6-chunk run (a voice-like synth) and 0.4 % of chunks >= 0.5.
    pub speech_min: Duration,
    /// A pause this long ends a speech segment. Sentences within one Asterisk prompt pause
    /// up to ~350 ms; a person waiting for an answer pauses far longer.
    pub speech_hangover: Duration,
    /// A non-speech sound must hold this long to become the background (music, silence).
    pub background_min: Duration,
    /// Share of band power in the two strongest peaks for a frame to be a tone: dial, busy,
    /// ringback and DTMF tones measure >= 0.989; the five Asterisk hold-music files put
    /// 0.2-5.8 % of their frames above 0.98 (never 400 ms in a row), 12-54 % above 0.85.
    pub tone_min: f32,
    /// After a probe ends, speech starting within this window is a reply. People answer
    /// "can you hear me?" within 0.3–1.5 s; 4 s leaves room for a slow "uh, yes?".
    pub reply_window: Duration,
    /// A reply must last this long (and match no known prompt) before a person is declared.
    pub reply_confirm: Duration,
    /// After this much gated silence the model state is reset (as after a fresh start).
    pub vad_reset_after: Duration,
    /// On steady music (or tone) the model runs on one chunk in this many (1: every chunk);
    /// see `stride.rs`. Hold music is the listener's whole cost on a long hold. The 40 calls
    /// of listen_eval give the same figures at 1 and at 4 (onset within 300 ms 31/32, no false
    /// human, decision median 4.97 s) with 59,981 and 42,938 model runs.
    pub stride_every: u32,
    /// Scored chunks in a row below `stride_quiet_prob` before striding starts (0.5 s).
    pub stride_after: u32,
    /// A scored chunk at or above this ends striding. Silero on the five Asterisk hold-music
    /// files: most chunks score under 0.05; a voice scores over 0.5 within a chunk or two.
    pub stride_quiet_prob: f32,
    /// A chunk level this far (dB) from the music's smoothed level ends striding. At 6 dB the
    /// beats of the Asterisk hold music ended it so often that the model still ran on 51 % of
    /// their chunks; at 12 dB on 34 % (25 % is the floor at stride 4).
    pub stride_jump_db: f32,
}

impl Thresholds {
    pub fn stride(&self) -> super::stride::StrideRule {
        super::stride::StrideRule {
            every: self.stride_every,
            after: self.stride_after,
            quiet_prob: self.stride_quiet_prob,
            jump_db: self.stride_jump_db,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            silence_dbfs: -50.0,
            gate_dbfs: -50.0,
            speech_on: 0.5,
            speech_off: 0.35,
            speech_min: Duration::from_millis(100),
            speech_hangover: Duration::from_millis(400),
            background_min: Duration::from_millis(400),
            tone_min: 0.98,
            reply_window: Duration::from_secs(4),
            reply_confirm: Duration::from_millis(200),
            vad_reset_after: Duration::from_secs(1),
            stride_every: 4,
            stride_after: 16,
            stride_quiet_prob: 0.1,
            stride_jump_db: 12.0,
        }
    }
}
