//! The listener: 20 ms frames of the vendor's audio in, events out (`push(now, &frame)`).
//! It tracks what is sounding (silence, tone, music, speech), fingerprints each speech
//! segment against the prompt library, and decides when a person is on the line:
//! unknown speech after hold or silence, a probe line said by hotline, and a reply.

use super::fingerprint::{FAN_FRAMES, Fingerprinter, Hash};
use super::library::{Matcher, Origin, PromptLibrary};
use super::spectrum::{BINS, N, Spectrum, tonality};
use super::stride::Stride;
use super::thresholds::Thresholds;
use super::vad::{CHUNK, Vad};
use std::time::{Duration, Instant};

mod operator;
mod person;

/// Samples per frame (20 ms at 8 kHz).
pub const FRAME: usize = 160;
const FRAME_DUR: Duration = Duration::from_millis(20);
/// How far (frames) a speech onset may be moved back to where the sound rose out of silence:
/// the model marks a soft start ("h", "f", "s") up to ~0.5 s late.
const ONSET_LOOKBACK: usize = 50;
/// Silent frames that make a pause before a rise (gaps between words and dips in hold music
/// are shorter).
const PAUSE_FRAMES: usize = 15;

/// What is sounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    Silence,
    Tone,
    Music,
    Speech,
}

impl Sound {
    pub fn as_str(self) -> &'static str {
        match self {
            Sound::Silence => "silence",
            Sound::Tone => "tone",
            Sound::Music => "music",
            Sound::Speech => "speech",
        }
    }
}

/// Why a speech segment is judged a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Matches a prompt learned on an earlier call to this contact.
    KnownPrompt,
    /// Repeats a segment heard earlier in this call.
    Repeat,
    /// Heard while hotline was menu-walking (the IVR).
    Menu,
    /// Hold music came back after it.
    MusicResumed,
    /// It began while hotline spoke and went on (a person stops to listen).
    TalkedOverProbe,
    /// Nobody replied to the probe.
    NoReply,
    /// An operator on the bridge said "still a machine" while it sounded.
    OperatorLabel,
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Recorded::KnownPrompt => "known_prompt",
            Recorded::Repeat => "repeat",
            Recorded::Menu => "menu",
            Recorded::MusicResumed => "music_resumed",
            Recorded::TalkedOverProbe => "talked_over_probe",
            Recorded::NoReply => "no_reply",
            Recorded::OperatorLabel => "operator_label",
        }
    }
}

/// One piece of evidence for a person.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// The speech matched no prompt in a library of `known` prompts.
    NovelSpeech { known: usize },
    /// It followed hold music (or tones) of this length.
    AfterHold { ms: u64 },
    /// It stayed quiet while the probe was spoken.
    QuietDuringProbe,
    /// A reply began this long after the probe ended.
    ReplyToProbe { gap_ms: u64 },
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evidence::NovelSpeech { known } => write!(f, "novel_speech (library {known})"),
            Evidence::AfterHold { ms } => write!(f, "after_hold ({ms} ms)"),
            Evidence::QuietDuringProbe => write!(f, "quiet_during_probe"),
            Evidence::ReplyToProbe { gap_ms } => write!(f, "reply_to_probe ({gap_ms} ms)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A sound began (back-dated to its first frame).
    Started { sound: Sound, at: Instant },
    /// A sound ended (at the end of its last frame; reported after the hangover).
    Ended { sound: Sound, at: Instant },
    /// The speech that began at `onset` is a recording.
    Recorded {
        onset: Instant,
        at: Instant,
        why: Recorded,
    },
    /// Unknown speech paused: hotline should say its probe line now (hold mode only).
    ProbeWanted { at: Instant },
    /// Speech began after the probe: a possible reply.
    ReplyHeard { onset: Instant },
    /// A person is on the line; their first words began at `onset`.
    Human {
        onset: Instant,
        at: Instant,
        confidence: f32,
        evidence: Vec<Evidence>,
    },
}

/// One stretch of speech being fingerprinted.
struct Segment {
    onset: Instant,
    start_frame: u32,
    end_frame: Option<u32>,
    landmarks: Vec<(Hash, u32)>,
    matcher: Matcher,
    /// Judged a recording (event sent).
    recorded: Option<Recorded>,
    /// Began while hotline was speaking its probe.
    during_probe: bool,
    /// Frames classed as speech in it.
    voiced: u32,
    /// The background before it, and how long that lasted.
    after: (Sound, Duration),
}

/// Where the person decision stands.
enum Decision {
    Listening,
    /// Unknown speech paused; the probe was asked for (or would be, with probing on).
    WantProbe,
    Probing,
    /// The probe ended at `.0`.
    AwaitReply(Instant),
    /// A reply began at `.0`.
    Reply(Instant, Duration),
    Decided,
}

pub struct Listener {
    th: Thresholds,
    vad: Box<dyn Vad>,
    spectrum: Spectrum,
    fp: Fingerprinter,
    lib: PromptLibrary,
    /// Heard before this many prompts were in the library (the rest were learned this call).
    known: usize,
    /// Hold mode: ask for probes; otherwise (menu) every speech segment is the IVR.
    probing: bool,
    /// The last N samples for the spectrum.
    ring: [f32; N],
    chunk: Vec<f32>,
    chunk_start: Option<Instant>,
    gated: Duration,
    prob: f32,
    frame: u32,
    sound: Sound,
    since: Instant,
    /// A different class holding since (instant, frames).
    pending: Option<(Sound, Instant, u32)>,
    /// In speech: consecutive non-speech frames (of which music), and the end of the last
    /// speech frame.
    quiet: u32,
    quiet_music: u32,
    last_speech_end: Instant,
    seg: Option<Segment>,
    decision: Decision,
    /// Onset of the first unknown speech in the current probe round (the person's first words).
    chain: Option<(Instant, (Sound, Duration))>,
    probe_talked_over: bool,
    /// The person's first words, once decided (by the listener or an operator).
    person: Option<Instant>,
    /// Recent closed speech segments that were not learned (unknown speech, the person):
    /// (onset, landmarks), newest last; an operator's "still a machine" learns them.
    unlearned: std::collections::VecDeque<(Instant, Vec<(Hash, u32)>)>,
    started: bool,
    /// Recent frames: (start, level dBFS), newest last, for back-dating a speech onset to
    /// where the sound rose out of silence.
    levels: std::collections::VecDeque<(Instant, f32)>,
    stride: Stride,
    /// Chunks skipped on steady music since the model last ran, replayed if the next score
    /// wakes the full rate.
    skipped: Vec<[f32; CHUNK]>,
    /// Chunks that ran the model (replays included), were gated as silence, or were skipped
    /// on steady music (for cost figures).
    pub model_chunks: u64,
    pub gated_chunks: u64,
    pub strided_chunks: u64,
    /// Model errors (scored as silence).
    pub vad_errors: u64,
}

impl Listener {
    pub fn new(vad: Box<dyn Vad>, lib: PromptLibrary, th: Thresholds) -> Self {
        let now = Instant::now();
        Listener {
            known: lib.len(),
            th,
            vad,
            spectrum: Spectrum::default(),
            fp: Fingerprinter::default(),
            lib,
            probing: false,
            ring: [0.0; N],
            chunk: Vec::with_capacity(CHUNK),
            chunk_start: None,
            gated: Duration::ZERO,
            prob: 0.0,
            frame: 0,
            sound: Sound::Silence,
            since: now,
            pending: None,
            quiet: 0,
            quiet_music: 0,
            last_speech_end: now,
            seg: None,
            decision: Decision::Listening,
            chain: None,
            probe_talked_over: false,
            person: None,
            unlearned: std::collections::VecDeque::new(),
            started: false,
            levels: std::collections::VecDeque::with_capacity(ONSET_LOOKBACK + PAUSE_FRAMES + 1),
            stride: Stride::default(),
            skipped: Vec::new(),
            model_chunks: 0,
            gated_chunks: 0,
            strided_chunks: 0,
            vad_errors: 0,
        }
    }

    /// Hold mode on: unknown speech after a pause asks for a probe. Off: the menu phase,
    /// where every speech segment is the IVR (learned as a prompt).
    pub fn set_probing(&mut self, on: bool) {
        self.probing = on;
    }

    pub fn sound(&self) -> Sound {
        self.sound
    }

    /// The library with every recording judged in this call, for the contact's next call.
    pub fn into_library(mut self) -> PromptLibrary {
        self.close_segment();
        self.lib.into_known()
    }

    /// hotline began speaking its probe line (other speech, such as the briefing after a
    /// reply, leaves the decision alone).
    pub fn probe_started(&mut self, _now: Instant) {
        if matches!(self.decision, Decision::WantProbe | Decision::Listening) {
            self.decision = Decision::Probing;
            self.probe_talked_over = false;
        }
    }

    /// hotline finished its probe line.
    pub fn probe_finished(&mut self, now: Instant) {
        if matches!(self.decision, Decision::Probing) {
            self.decision = Decision::AwaitReply(now);
        }
    }

    /// Feeds one 20 ms frame whose first sample sounded at `now`.
    pub fn push(&mut self, now: Instant, frame: &[i16]) -> Vec<Event> {
        let mut ev = Vec::new();
        if !self.started {
            self.started = true;
            self.since = now;
            self.last_speech_end = now;
        }
        let mut energy = 0.0f64;
        for (i, &s) in frame.iter().enumerate() {
            let x = s as f32 / 32768.0;
            energy += (x * x) as f64;
            if self.chunk.is_empty() {
                self.chunk_start = Some(now + FRAME_DUR * i as u32 / FRAME as u32);
            }
            self.chunk.push(x);
            if self.chunk.len() == CHUNK {
                self.score_chunk();
            }
        }
        self.ring.copy_within(frame.len().min(N).., 0);
        let tail = N - frame.len().min(N);
        for (d, &s) in self.ring[tail..].iter_mut().zip(frame) {
            *d = s as f32 / 32768.0;
        }
        let dbfs = 10.0 * ((energy / frame.len().max(1) as f64).max(1e-12)).log10() as f32;
        if self.levels.len() > ONSET_LOOKBACK + PAUSE_FRAMES {
            self.levels.pop_front();
        }
        self.levels.push_back((now, dbfs));
        let class = if dbfs < self.th.silence_dbfs {
            self.fp_push(None);
            Sound::Silence
        } else {
            let mut p = [0.0; BINS];
            self.spectrum.power(&self.ring, &mut p);
            self.fp_push(Some(&p));
            let on = if self.sound == Sound::Speech {
                self.th.speech_off
            } else {
                self.th.speech_on
            };
            if self.prob >= on {
                Sound::Speech
            } else if tonality(&p) >= self.th.tone_min {
                Sound::Tone
            } else {
                Sound::Music
            }
        };
        self.frame += 1;
        self.track(now, class, &mut ev);
        self.decide(now + FRAME_DUR, &mut ev);
        ev
    }

    fn score_chunk(&mut self) {
        let chunk: [f32; CHUNK] = self.chunk[..].try_into().expect("chunk is full");
        self.chunk.clear();
        let energy: f32 = chunk.iter().map(|x| x * x).sum::<f32>() / CHUNK as f32;
        let dbfs = 10.0 * energy.max(1e-12).log10();
        if dbfs < self.th.gate_dbfs {
            self.gated_chunks += 1;
            self.stride.pause();
            self.skipped.clear();
            self.vad.skip(&chunk);
            self.gated += Duration::from_millis(32);
            if self.gated >= self.th.vad_reset_after
                && self.gated < self.th.vad_reset_after + Duration::from_millis(32)
            {
                self.vad.reset();
            }
            self.prob = 0.0;
            return;
        }
        self.gated = Duration::ZERO;
        let rule = self.th.stride();
        let steady = matches!(self.sound, Sound::Music | Sound::Tone)
            && matches!(self.decision, Decision::Listening | Decision::Decided);
        if !self.stride.run_model(&rule, steady, dbfs) {
            // Steady music: the last score stands; the model keeps its context.
            if self.skipped.is_empty() {
                self.vad.keep();
            }
            self.skipped.push(chunk);
            self.strided_chunks += 1;
            self.vad.skip(&chunk);
            return;
        }
        let mut p = self.model(&chunk);
        if self.stride.scored(&rule, p, dbfs) && !self.skipped.is_empty() {
            // Woken after skipping: score this chunk as the full rate would have.
            self.vad.rewind();
            for c in std::mem::take(&mut self.skipped) {
                self.model(&c);
            }
            p = self.model(&chunk);
        }
        self.skipped.clear();
        self.prob = p;
    }

    /// One model run (a failure scores as silence).
    fn model(&mut self, chunk: &[f32; CHUNK]) -> f32 {
        self.model_chunks += 1;
        match self.vad.score(chunk) {
            Ok(p) => p,
            Err(e) => {
                self.vad_errors += 1;
                tracing::warn!(error = %e, "vad failed; chunk scored as silence");
                0.0
            }
        }
    }

    fn fp_push(&mut self, power: Option<&[f32; BINS]>) {
        let mut out = Vec::new();
        let zero = [0.0; BINS];
        self.fp.push(power.unwrap_or(&zero), &mut out);
        let Some(seg) = &mut self.seg else { return };
        let end = seg.end_frame.unwrap_or(u32::MAX);
        let mine: Vec<(Hash, u32)> = out
            .into_iter()
            .filter(|&(_, t)| t >= seg.start_frame && t <= end)
            .map(|(h, t)| (h, t - seg.start_frame))
            .collect();
        if mine.is_empty() {
            return;
        }
        seg.landmarks.extend_from_slice(&mine);
        if seg.recorded.is_none()
            && let Some(id) = seg.matcher.feed(&self.lib, &mine)
        {
            seg.recorded = Some(match self.lib.origin(id) {
                Origin::Known => Recorded::KnownPrompt,
                Origin::ThisCall => Recorded::Repeat,
            });
        }
    }

    /// Smooths frame classes into sounds with start/end events.
    fn track(&mut self, now: Instant, class: Sound, ev: &mut Vec<Event>) {
        let end = now + FRAME_DUR;
        if self.sound == Sound::Speech {
            if class == Sound::Speech {
                self.quiet = 0;
                self.quiet_music = 0;
                self.last_speech_end = end;
                if let Some(seg) = &mut self.seg {
                    seg.voiced += 1;
                }
                return;
            }
            self.quiet += 1;
            if class == Sound::Music {
                self.quiet_music += 1;
            }
            if FRAME_DUR * self.quiet >= self.th.speech_hangover {
                // Music only if it filled the pause (breaths and line noise in a speaker's
                // pause are a frame or two above the silence level).
                let class = if self.quiet_music * 10 >= self.quiet * 9 {
                    Sound::Music
                } else if class == Sound::Tone {
                    Sound::Tone
                } else {
                    Sound::Silence
                };
                let at = self.last_speech_end;
                ev.push(Event::Ended {
                    sound: Sound::Speech,
                    at,
                });
                if let Some(seg) = &mut self.seg {
                    seg.end_frame = Some(self.frame - self.quiet);
                }
                self.sound = class;
                self.since = at;
                self.pending = None;
                ev.push(Event::Started { sound: class, at });
                if class == Sound::Music {
                    // Music straight after the speech: an announcement between pieces.
                    if let Some(seg) = &mut self.seg {
                        let why = *seg.recorded.get_or_insert(Recorded::MusicResumed);
                        ev.push(Event::Recorded {
                            onset: seg.onset,
                            at,
                            why,
                        });
                    }
                    if !matches!(self.decision, Decision::Decided) {
                        self.chain = None;
                        self.decision = Decision::Listening;
                    }
                } else {
                    self.speech_ended(at, ev);
                }
            }
            return;
        }
        if class == self.sound {
            self.pending = None;
            return;
        }
        let (start, frames) = match self.pending {
            Some((c, start, n)) if c == class => (start, n + 1),
            _ => (now, 1),
        };
        self.pending = Some((class, start, frames));
        let need = if class == Sound::Speech {
            self.th.speech_min
        } else {
            self.th.background_min
        };
        if FRAME_DUR * frames < need {
            return;
        }
        let start = if class == Sound::Speech {
            self.rise(start)
        } else {
            start
        };
        let before = (self.sound, start.saturating_duration_since(self.since));
        ev.push(Event::Ended {
            sound: self.sound,
            at: start,
        });
        ev.push(Event::Started {
            sound: class,
            at: start,
        });
        self.sound = class;
        self.since = start;
        self.pending = None;
        if class == Sound::Speech {
            self.quiet = 0;
            self.quiet_music = 0;
            self.last_speech_end = end;
            self.speech_started(start, frames, before, ev);
        } else if class == Sound::Music {
            self.music_resumed(start, ev);
        }
    }

    /// The start of the sound that `onset` is part of: walking back over non-silent frames
    /// to the first one after silence, if silence is within reach (after music it is not,
    /// and the model's onset stands).
    fn rise(&self, onset: Instant) -> Instant {
        let mut rise = None;
        let mut silent = 0;
        for &(at, dbfs) in self.levels.iter().rev() {
            if at > onset {
                continue;
            }
            if dbfs < self.th.silence_dbfs {
                // A pause, not a gap between words or a dip in the music: 300 ms of silence.
                silent += 1;
                if silent >= PAUSE_FRAMES {
                    return rise.unwrap_or(onset);
                }
                continue;
            }
            silent = 0;
            rise = Some(at);
        }
        onset
    }
}
