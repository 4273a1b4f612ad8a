//! The listener on a call's vendor channel: fed from the receive tap (20 ms packets placed on
//! the call's sample clock), its events translated into timeline entries and call-core inputs.
//! The listener itself runs on a worker thread (`listen_pool`); this is the call task's side:
//! nothing here waits for it.

use super::listen_pool::{Finished, ListenHandle, ListenPool};
use crate::call::{EventKind, Input};
use crate::listen::silero::SileroModel;
use crate::listen::{Event, Listener, PromptLibrary, Sound, Thresholds};
use crate::media::sampled::SampledCount;
use std::time::{Duration, Instant};

/// What one listener event becomes: a timeline entry and/or an input for the call core.
pub type Heard = (Option<(Instant, EventKind)>, Option<Input>);

pub struct CallListener {
    handle: ListenHandle,
    /// The instant of sample position 0 (media start).
    t0: Instant,
    /// The last position fed (packets placed twice or backwards are skipped).
    next_pos: u64,
    /// Frames dropped because the worker was behind: the first few and each power of ten
    /// go on the timeline.
    behind: SampledCount,
    behind_note: Option<(Instant, u64)>,
}

impl CallListener {
    /// A listener for a call whose media clock starts at `t0`; `None` (logged) if the model
    /// cannot load or no worker runs, and the call goes on deaf.
    pub fn new(t0: Instant, library: PromptLibrary) -> Option<Self> {
        let model = SileroModel::shared()
            .inspect_err(
                |e| tracing::warn!(error = %e, "listener unavailable: vad model did not load"),
            )
            .ok()?;
        let listener = Listener::new(Box::new(model.stream()), library, Thresholds::default());
        let handle = ListenPool::shared()?.open(listener)?;
        Some(CallListener {
            handle,
            t0,
            next_pos: 0,
            behind: SampledCount::default(),
            behind_note: None,
        })
    }

    /// Feeds received audio at sample position `pos` of the call's media clock.
    pub fn feed(&mut self, pos: u64, samples: &[i16]) {
        if pos < self.next_pos {
            return;
        }
        self.next_pos = pos + samples.len() as u64;
        let at = self.t0 + Duration::from_micros(pos * 125);
        if !self.handle.feed(at, samples)
            && let Some(count) = self.behind.note()
        {
            self.behind_note = Some((Instant::now(), count));
        }
    }

    pub fn set_probing(&mut self, on: bool) {
        self.handle.set_probing(on);
    }

    pub fn probe_started(&mut self, now: Instant) {
        self.handle.probe_started(now);
    }

    pub fn probe_finished(&mut self, now: Instant) {
        self.handle.probe_finished(now);
    }

    /// An operator's label (ground truth): the listener learns a wrong person as recordings
    /// of this contact, or stops deciding once told a person is there.
    pub fn labelled(&mut self, now: Instant, label: crate::call::Label) {
        self.handle.labelled(now, label);
    }

    /// What was heard since the last call: timeline entries and inputs for the call core.
    pub fn drain(&mut self) -> Vec<Heard> {
        let mut out = Vec::new();
        if let Some((at, dropped)) = self.behind_note.take() {
            out.push((Some((at, EventKind::ListenerBehind { dropped })), None));
        }
        while let Some(e) = self.handle.try_event() {
            out.push(translate(e));
        }
        out
    }

    /// Frames the listener never heard (its worker was behind).
    pub fn dropped(&self) -> u64 {
        self.handle.dropped
    }

    /// Waits for the listener to hear what is queued and takes back what it leaves: the
    /// prompt library with this call's recordings (for the contact's next call) and its lag.
    pub async fn finish(self) -> Option<Finished> {
        self.handle.finish().await
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
