//! The operator bridge's mixer: pure, one 20 ms frame per call tick, no clock of its own.
//!
//! Inputs per tick: hotline's own frame (briefing, prompts, in-band DTMF), the vendor's
//! latest audio and each operator leg's latest audio. Outputs: the frame to the vendor
//! (hotline + every talking operator) and one frame per leg (vendor + hotline + the other
//! talking operators, never the leg itself). Sums saturate at the i16 range.
//!
//! Every input goes through a small sample queue: a tick takes one frame from it (missing
//! samples are silence) and a queue longer than [`MAX_QUEUED`] drops its oldest samples, so
//! a stalled-then-bursting sender never builds up delay.

use super::FRAME_SAMPLES;
use std::collections::VecDeque;

/// A frame of 8 kHz samples.
pub type Frame = [i16; FRAME_SAMPLES];

/// Samples an input queue holds at most (60 ms): beyond, the oldest are dropped.
pub const MAX_QUEUED: usize = 3 * FRAME_SAMPLES;

/// Takes (1 s) over which a queue's standing backlog is measured, then dropped.
const TRIM_WINDOW: u64 = 50;

/// An operator leg of the bridge (browser or phone), unique within one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u32);

impl std::fmt::Display for LegId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "leg-{}", self.0)
    }
}

/// One input's bounded queue.
#[derive(Default)]
struct Queue {
    samples: VecDeque<i16>,
    dropped: u64,
    /// Samples left waiting after each take, summed, and the number of takes: the delay
    /// this queue adds beyond the wait for the next tick.
    backlog: u64,
    takes: u64,
    /// Fewest samples left after a take in the current window: never needed as a cushion.
    window_min: usize,
}

impl Queue {
    fn push(&mut self, s: &[i16]) {
        self.samples.extend(s.iter().copied());
        let over = self.samples.len().saturating_sub(MAX_QUEUED);
        if over > 0 {
            self.samples.drain(..over);
            self.dropped += over as u64;
        }
    }

    /// Takes one frame; what is missing is silence.
    fn take(&mut self, out: &mut Frame) {
        let n = self.samples.len().min(FRAME_SAMPLES);
        for (o, s) in out.iter_mut().zip(self.samples.drain(..n)) {
            *o = s;
        }
        out[n..].fill(0);
        self.backlog += self.samples.len() as u64;
        self.takes += 1;
        // A standing backlog (a burst at start, a sender's clock a bit fast) is dropped
        // once per window, so delay settles back to the wait for the next tick.
        self.window_min = if self.takes % TRIM_WINDOW == 1 {
            self.samples.len()
        } else {
            self.window_min.min(self.samples.len())
        };
        if self.takes.is_multiple_of(TRIM_WINDOW) && self.window_min > 0 {
            self.samples.drain(..self.window_min);
            self.dropped += self.window_min as u64;
        }
    }

    fn backlog_ms(&self) -> f64 {
        if self.takes == 0 {
            return 0.0;
        }
        self.backlog as f64 / self.takes as f64 / 8.0
    }
}

struct Leg {
    id: LegId,
    /// False when muted or listen-only: its audio is taken (so it never piles up) but unheard.
    talking: bool,
    input: Queue,
    /// What it contributed to this tick.
    frame: Frame,
    /// What it hears from this tick.
    out: Frame,
}

/// Counters for the record.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MixerStats {
    /// Samples dropped because an input ran ahead of the call's clock.
    pub dropped_samples: u64,
    /// Mean time vendor audio waited in its queue after a tick (ms), on top of the wait
    /// for the tick itself (0-20 ms).
    pub vendor_backlog_ms: f64,
    /// The same for the legs' audio (mean over the legs on the bridge now).
    pub leg_backlog_ms: f64,
}

/// The mixer of one call. See the module docs.
#[derive(Default)]
pub struct Mixer {
    vendor: Queue,
    legs: Vec<Leg>,
    dropped_gone: u64,
}

impl Mixer {
    /// An empty mixer: with no legs, the vendor frame is hotline's frame unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a leg (no-op if present). A listen-only leg starts and stays not talking.
    pub fn add(&mut self, id: LegId, talking: bool) {
        if self.legs.iter().any(|l| l.id == id) {
            return;
        }
        self.legs.push(Leg {
            id,
            talking,
            input: Queue::default(),
            frame: [0; FRAME_SAMPLES],
            out: [0; FRAME_SAMPLES],
        });
    }

    /// Removes a leg; true if it was there.
    pub fn remove(&mut self, id: LegId) -> bool {
        let Some(i) = self.legs.iter().position(|l| l.id == id) else {
            return false;
        };
        // Keep the count of what it dropped for the record.
        self.dropped_gone += self.legs.remove(i).input.dropped;
        true
    }

    /// Mutes or unmutes a leg's voice toward everyone.
    pub fn set_talking(&mut self, id: LegId, talking: bool) {
        if let Some(l) = self.legs.iter_mut().find(|l| l.id == id) {
            l.talking = talking;
        }
    }

    /// Whether any leg is on the bridge.
    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    /// The legs, in join order.
    pub fn legs(&self) -> impl Iterator<Item = LegId> + '_ {
        self.legs.iter().map(|l| l.id)
    }

    /// Audio received from the vendor (decoded, in order).
    pub fn push_vendor(&mut self, samples: &[i16]) {
        self.vendor.push(samples);
    }

    /// Audio received from a leg (decoded, in order). Unknown legs are ignored.
    pub fn push_leg(&mut self, id: LegId, samples: &[i16]) {
        if let Some(l) = self.legs.iter_mut().find(|l| l.id == id) {
            l.input.push(samples);
        }
    }

    /// Runs one tick: `frame` holds hotline's own frame and is replaced by the frame for the
    /// vendor. Each leg's frame is then readable with [`Mixer::output`].
    pub fn mix(&mut self, frame: &mut Frame) {
        let mut vendor = [0i16; FRAME_SAMPLES];
        self.vendor.take(&mut vendor);
        let mut talk = [0i32; FRAME_SAMPLES];
        for l in &mut self.legs {
            l.input.take(&mut l.frame);
            if l.talking {
                for (t, s) in talk.iter_mut().zip(l.frame.iter()) {
                    *t += *s as i32;
                }
            }
        }
        for l in &mut self.legs {
            for i in 0..FRAME_SAMPLES {
                let own = if l.talking { l.frame[i] as i32 } else { 0 };
                let v = vendor[i] as i32 + frame[i] as i32 + talk[i] - own;
                l.out[i] = saturate(v);
            }
        }
        for (f, t) in frame.iter_mut().zip(talk.iter()) {
            *f = saturate(*f as i32 + t);
        }
    }

    /// What `id` hears from the last tick.
    pub fn output(&self, id: LegId) -> Option<&Frame> {
        self.legs.iter().find(|l| l.id == id).map(|l| &l.out)
    }

    /// Counters so far.
    pub fn stats(&self) -> MixerStats {
        MixerStats {
            dropped_samples: self.dropped_gone
                + self.vendor.dropped
                + self.legs.iter().map(|l| l.input.dropped).sum::<u64>(),
            vendor_backlog_ms: self.vendor.backlog_ms(),
            leg_backlog_ms: if self.legs.is_empty() {
                0.0
            } else {
                self.legs.iter().map(|l| l.input.backlog_ms()).sum::<f64>() / self.legs.len() as f64
            },
        }
    }
}

fn saturate(v: i32) -> i16 {
    v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: i16) -> Frame {
        [v; FRAME_SAMPLES]
    }

    #[test]
    fn without_legs_the_vendor_hears_hotline_unchanged() {
        let mut m = Mixer::new();
        m.push_vendor(&frame(7));
        let mut f = frame(100);
        m.mix(&mut f);
        assert_eq!(f, frame(100));
    }

    #[test]
    fn everyone_hears_everyone_but_themselves() {
        let mut m = Mixer::new();
        let (a, b) = (LegId(1), LegId(2));
        m.add(a, true);
        m.add(b, true);
        m.push_vendor(&frame(1000));
        m.push_leg(a, &frame(20));
        m.push_leg(b, &frame(300));
        let mut f = frame(4);
        m.mix(&mut f);
        assert_eq!(f, frame(4 + 20 + 300), "vendor: hotline + operators");
        assert_eq!(m.output(a), Some(&frame(1000 + 4 + 300)));
        assert_eq!(m.output(b), Some(&frame(1000 + 4 + 20)));
    }

    #[test]
    fn muted_and_listen_only_legs_are_unheard_but_hear() {
        let mut m = Mixer::new();
        let (a, b) = (LegId(1), LegId(2));
        m.add(a, true);
        m.add(b, false);
        m.push_vendor(&frame(1000));
        m.push_leg(a, &frame(20));
        m.push_leg(b, &frame(300));
        let mut f = frame(0);
        m.mix(&mut f);
        assert_eq!(f, frame(20));
        assert_eq!(m.output(a), Some(&frame(1000)));
        assert_eq!(m.output(b), Some(&frame(1020)));
        m.set_talking(a, false);
        m.push_leg(a, &frame(20));
        let mut f = frame(0);
        m.mix(&mut f);
        assert_eq!(f, frame(0), "muted");
        assert_eq!(m.output(b), Some(&frame(0)), "vendor silent this tick");
    }

    #[test]
    fn sums_saturate() {
        let mut m = Mixer::new();
        m.add(LegId(1), true);
        m.add(LegId(2), true);
        m.push_leg(LegId(1), &frame(30_000));
        m.push_leg(LegId(2), &frame(30_000));
        let mut f = frame(30_000);
        m.mix(&mut f);
        assert_eq!(f, frame(i16::MAX));
        m.push_leg(LegId(1), &frame(-30_000));
        m.push_leg(LegId(2), &frame(-30_000));
        let mut f = frame(-30_000);
        m.mix(&mut f);
        assert_eq!(f, frame(i16::MIN));
        // A leg's own voice is taken out before saturation: it hears the others exactly.
        assert_eq!(m.output(LegId(1)), Some(&frame(i16::MIN)));
    }

    #[test]
    fn missing_audio_is_silence_and_partial_frames_are_padded() {
        let mut m = Mixer::new();
        m.add(LegId(1), true);
        m.push_leg(LegId(1), &[5; 100]);
        let mut f = frame(0);
        m.mix(&mut f);
        assert!(f[..100].iter().all(|s| *s == 5) && f[100..].iter().all(|s| *s == 0));
        let mut f = frame(0);
        m.mix(&mut f);
        assert_eq!(f, frame(0));
    }

    #[test]
    fn a_burst_never_builds_delay() {
        let mut m = Mixer::new();
        m.add(LegId(1), true);
        // A browser stalls 200 ms then delivers ten frames at once, numbered by value.
        for v in 1..=10 {
            m.push_leg(LegId(1), &frame(v));
        }
        assert_eq!(m.stats().dropped_samples, 7 * FRAME_SAMPLES as u64);
        let mut heard = vec![];
        for _ in 0..4 {
            let mut f = frame(0);
            m.mix(&mut f);
            heard.push(f[0]);
        }
        assert_eq!(heard, vec![8, 9, 10, 0], "only the newest 60 ms survive");
    }

    #[test]
    fn a_standing_backlog_is_trimmed_within_a_second() {
        let mut m = Mixer::new();
        // A start-up burst leaves one frame standing; then one frame arrives per tick.
        m.push_vendor(&frame(1));
        let mut waited = vec![];
        for _ in 0..120 {
            m.push_vendor(&frame(1));
            let mut f = frame(0);
            m.mix(&mut f);
            waited.push(m.vendor.samples.len());
        }
        assert_eq!(waited[0], FRAME_SAMPLES);
        assert_eq!(waited[49], 0, "trimmed at the end of the first window");
        assert!(waited[50..].iter().all(|w| *w == 0));
    }

    #[test]
    fn legs_come_and_go() {
        let mut m = Mixer::new();
        m.add(LegId(1), true);
        m.add(LegId(1), true);
        assert_eq!(m.legs().count(), 1);
        assert!(m.remove(LegId(1)));
        assert!(!m.remove(LegId(1)));
        assert!(m.is_empty());
        m.push_leg(LegId(1), &frame(9));
        let mut f = frame(0);
        m.mix(&mut f);
        assert_eq!(f, frame(0));
        assert_eq!(m.output(LegId(1)), None);
    }
}
