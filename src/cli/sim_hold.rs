//! `hotline sim-vendor`'s realistic line (dial `sip:hold@…`): an IVR prompt, hold music with
//! a periodic announcement, then a person who greets, waits to be spoken to, and answers
//! hotline's probe line: the small test peer the listener's end-to-end test needs (sipp
//! cannot react to audio).

use crate::briefing::audio::to_phone;
use crate::briefing::engine::{Espeak, SpeechRequest};
use crate::config::Language;
use crate::media::session::{MediaEvent, MediaSession, SharedPcm, Tap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hold music shipped by Debian's asterisk-moh-opsound-wav, when installed.
const MOH: &str = "/usr/share/asterisk/moh/macroform-cold_day.wav";

/// The audio of the realistic line, made once.
pub struct HoldAudio {
    ivr: Arc<[i16]>,
    /// Music, announcement, music.
    hold: Arc<[i16]>,
    greeting: Arc<[i16]>,
    reply: Arc<[i16]>,
}

fn voice(voice: &str, text: &str) -> Vec<i16> {
    let req = SpeechRequest {
        text: text.into(),
        language: Language::En,
    };
    Espeak::new(Some(voice))
        .synthesize_blocking(&req)
        .and_then(|s| to_phone(&s))
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot speak a simulated prompt");
            vec![0; 8000]
        })
}

/// `secs` of hold music: the Asterisk file if installed, else a synthesized chord loop.
fn music(secs: f32, from: f32) -> Vec<i16> {
    let n = (secs * 8000.0) as usize;
    if let Ok(mut r) = hound::WavReader::open(MOH)
        && r.spec().sample_rate == 8000
        && r.spec().channels == 1
    {
        let m: Vec<i16> = r.samples::<i16>().map_while(Result::ok).collect();
        if !m.is_empty() {
            let start = (from * 8000.0) as usize % m.len();
            return m.iter().cycle().skip(start).take(n).copied().collect();
        }
    }
    let chords = [
        [261.6, 329.6, 392.0],
        [220.0, 261.6, 329.6],
        [174.6, 220.0, 261.6],
    ];
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            let c = chords[(t / 1.5) as usize % chords.len()];
            let s: f32 = c
                .iter()
                .map(|f| (std::f32::consts::TAU * f * t).sin())
                .sum();
            (s * 2500.0) as i16
        })
        .collect()
}

impl HoldAudio {
    /// Speaks the prompts (blocking: call from `spawn_blocking`). `hold` is the time from
    /// the end of the IVR prompt to the person's first words.
    pub fn new(hold: Duration) -> Self {
        let ivr = voice(
            "en-us",
            "Thank you for calling simulated vendor support. All our engineers are busy. \
             Please hold.",
        );
        let announce = voice(
            "en-us",
            "Your call is important to us. Please stay on the line.",
        );
        let secs = hold.as_secs_f32().max(4.0);
        let ann = announce.len() as f32 / 8000.0;
        let first = ((secs - ann) / 2.0).max(1.0);
        let hold_pcm = [
            music(first, 0.0),
            announce,
            music((secs - ann - first).max(1.0), first),
        ]
        .concat();
        HoldAudio {
            ivr: ivr.into(),
            hold: hold_pcm.into(),
            greeting: voice("en-gb-x-rp", "Hello, this is Maria from hardware support.").into(),
            reply: voice("en-gb-x-rp", "Yes, I can hear you. Go ahead.").into(),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Phase {
    Ivr,
    Hold,
    Greeting,
    /// The person waits for the caller to speak and stop.
    Waiting,
    /// The caller finished speaking; the person answers at this instant.
    Answering(Instant),
    Done,
}

/// Drives what the line plays; fed the caller's audio to hear the probe.
pub struct HoldLine {
    audio: Arc<HoldAudio>,
    phase: Phase,
    /// The caller's speech as heard: loud frames in a row, and quiet frames since.
    loud: u32,
    quiet: u32,
    heard_caller: bool,
}

/// The caller is speaking above this RMS (about -36 dBFS).
const LOUD_RMS: f64 = 500.0;

impl HoldLine {
    pub fn start(audio: Arc<HoldAudio>, media: &mut MediaSession) -> Self {
        media.play("ivr", Box::new(SharedPcm::new(audio.ivr.clone())));
        HoldLine {
            audio,
            phase: Phase::Ivr,
            loud: 0,
            quiet: 0,
            heard_caller: false,
        }
    }

    /// A media event: the next part starts when the current one finishes.
    pub fn on_event(&mut self, e: &MediaEvent, media: &mut MediaSession) {
        if !matches!(e, MediaEvent::PlaybackFinished { .. }) {
            return;
        }
        self.phase = match self.phase {
            Phase::Ivr => {
                media.play("hold", Box::new(SharedPcm::new(self.audio.hold.clone())));
                Phase::Hold
            }
            Phase::Hold => {
                media.play(
                    "greeting",
                    Box::new(SharedPcm::new(self.audio.greeting.clone())),
                );
                Phase::Greeting
            }
            Phase::Greeting => {
                self.loud = 0;
                self.quiet = 0;
                self.heard_caller = false;
                Phase::Waiting
            }
            _ => return,
        };
    }

    /// Time passes: the person answers when it is time.
    pub fn tick(&mut self, now: Instant, media: &mut MediaSession) {
        if let Phase::Answering(at) = self.phase
            && now >= at
        {
            media.play("reply", Box::new(SharedPcm::new(self.audio.reply.clone())));
            self.phase = Phase::Done;
        }
    }

    /// The caller's audio, one frame: after 300 ms of speech and 400 ms of quiet, the person
    /// answers 300 ms later (0.7 s after the caller stopped).
    pub fn heard(&mut self, now: Instant, frame: &[i16]) {
        if self.phase != Phase::Waiting || frame.is_empty() {
            return;
        }
        let rms =
            (frame.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / frame.len() as f64).sqrt();
        if rms > LOUD_RMS {
            self.loud += 1;
            self.quiet = 0;
            if self.loud >= 15 {
                self.heard_caller = true;
            }
        } else {
            self.quiet += 1;
            if self.quiet < 20 {
                return;
            }
            self.loud = 0;
            if self.heard_caller {
                self.phase = Phase::Answering(now + Duration::from_millis(300));
            }
        }
    }
}

/// A tap keeping the caller's frames for [`HoldLine::heard`].
#[derive(Default)]
pub struct HearTap {
    pub frames: Vec<Vec<i16>>,
}

impl Tap for HearTap {
    fn tx(&mut self, _: u64, _: &[i16]) {}
    fn rx(&mut self, _: u64, s: &[i16]) {
        self.frames.push(s.to_vec());
    }
}
