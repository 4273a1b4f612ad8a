//! The listener on a call's vendor channel: fed from the receive tap (20 ms packets placed on
//! the call's sample clock), its events translated into timeline entries and call-core inputs.

use crate::call::{EventKind, Input};
use crate::listen::silero::SileroModel;
use crate::listen::{Event, Listener, PromptLibrary, Sound, Thresholds};
use std::time::{Duration, Instant};

/// What one listener event becomes: a timeline entry and/or an input for the call core.
pub type Heard = (Option<(Instant, EventKind)>, Option<Input>);

pub struct CallListener {
    listener: Listener,
    /// The instant of sample position 0 (media start).
    t0: Instant,
    pending: Vec<Event>,
    /// The last position fed (packets placed twice or backwards are skipped).
    next_pos: u64,
}

impl CallListener {
    /// A listener for a call whose media clock starts at `t0`; `None` (logged) if the model
    /// cannot load, and the call goes on deaf.
    pub fn new(t0: Instant, library: PromptLibrary) -> Option<Self> {
        match SileroModel::shared() {
            Ok(m) => Some(CallListener {
                listener: Listener::new(Box::new(m.stream()), library, Thresholds::default()),
                t0,
                pending: Vec::new(),
                next_pos: 0,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "listener unavailable: vad model did not load");
                None
            }
        }
    }

    /// Feeds received audio at sample position `pos` of the call's media clock.
    pub fn feed(&mut self, pos: u64, samples: &[i16]) {
        if pos < self.next_pos {
            return;
        }
        self.next_pos = pos + samples.len() as u64;
        let at = self.t0 + Duration::from_micros(pos * 125);
        let ev = self.listener.push(at, samples);
        self.pending.extend(ev);
    }

    pub fn set_probing(&mut self, on: bool) {
        self.listener.set_probing(on);
    }

    pub fn probe_started(&mut self, now: Instant) {
        self.listener.probe_started(now);
    }

    pub fn probe_finished(&mut self, now: Instant) {
        self.listener.probe_finished(now);
    }

    /// An operator's label (ground truth): the listener learns a wrong person as recordings
    /// of this contact, or stops deciding once told a person is there.
    pub fn labelled(&mut self, now: Instant, label: crate::call::Label) {
        match label {
            crate::call::Label::Machine => {
                let n = self.listener.operator_says_machine(now);
                tracing::info!(learned = n, "operator: still a machine");
            }
            crate::call::Label::Person => self.listener.operator_says_person(now),
        }
    }

    /// What was heard since the last call: timeline entries and inputs for the call core.
    pub fn drain(&mut self) -> Vec<Heard> {
        self.pending.drain(..).map(translate).collect()
    }

    /// The prompt library with this call's recordings, for the contact's next call.
    pub fn into_library(self) -> PromptLibrary {
        self.listener.into_library()
    }
}

fn translate(e: Event) -> Heard {
    let sound = |s: Sound| s.as_str().to_string();
    match e {
        // Silence comes and goes between everything; the timeline keeps the rest.
        Event::Started {
            sound: Sound::Silence,
            ..
        }
        | Event::Ended {
            sound: Sound::Silence,
            ..
        } => (None, None),
        Event::Started { sound: s, at } => (
            Some((at, EventKind::SoundStarted { sound: sound(s) })),
            (s == Sound::Speech).then_some(Input::Heard(crate::call::Heard::SpeechStarted)),
        ),
        Event::Ended { sound: s, at } => (
            Some((at, EventKind::SoundEnded { sound: sound(s) })),
            (s == Sound::Speech).then_some(Input::Heard(crate::call::Heard::SpeechEnded)),
        ),
        Event::Recorded { onset, why, .. } => (
            Some((
                onset,
                EventKind::Recording {
                    why: why.as_str().into(),
                },
            )),
            None,
        ),
        Event::ProbeWanted { .. } => (None, Some(Input::Heard(crate::call::Heard::ProbeWanted))),
        Event::ReplyHeard { onset } => (Some((onset, EventKind::ReplyHeard)), None),
        Event::Human {
            onset,
            confidence,
            evidence,
            ..
        } => (
            None,
            Some(Input::Heard(crate::call::Heard::Human {
                onset,
                confidence: (confidence * 100.0).round() as u8,
                evidence: evidence.iter().map(|e| e.to_string()).collect(),
            })),
        ),
    }
}
