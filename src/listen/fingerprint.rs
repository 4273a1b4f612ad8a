//! Audio fingerprints for short prompts: spectral peaks paired into landmarks
//! (anchor frequency, target frequency, time delta), the constellation approach that works on
//! a second or two of audio, where chromaprint-style fingerprints need ~3 s.
//!
//! Streaming: feed one power spectrum per 20 ms frame; hashes come out `FAN_FRAMES` frames late.

use super::spectrum::BINS;
use std::collections::VecDeque;

/// A landmark: `(f1 << 13) | (f2 << 6) | dt`, with the frame of its anchor.
pub type Hash = u32;

/// Lowest and highest bin used (~125 Hz .. ~3.4 kHz: the telephone band).
const LO: usize = 4;
const HI: usize = 110;
/// Peaks kept per frame.
const PEAKS: usize = 3;
/// A peak must stand this far (dB) above its frame's median band power.
const PEAK_DB: f32 = 12.0;
/// Targets are paired from 1..=FAN_FRAMES frames after the anchor (up to 200 ms).
pub const FAN_FRAMES: usize = 10;
/// At most this many targets per anchor.
const FAN_OUT: usize = 4;
/// Targets within this many bins of the anchor.
const MAX_DF: usize = 32;

/// One frame's peaks as bin numbers.
type Peaks = Vec<u8>;

#[derive(Default)]
pub struct Fingerprinter {
    /// Peaks of the last FAN_FRAMES + 1 frames, oldest first, with their frame number.
    recent: VecDeque<(u32, Peaks)>,
    frame: u32,
}

impl Fingerprinter {
    /// Takes the next frame's power spectrum; returns landmarks anchored `FAN_FRAMES` ago.
    pub fn push(&mut self, power: &[f32; BINS], out: &mut Vec<(Hash, u32)>) {
        self.recent.push_back((self.frame, peaks(power)));
        self.frame += 1;
        if self.recent.len() <= FAN_FRAMES {
            return;
        }
        let (t1, anchors) = self.recent.pop_front().expect("len checked");
        for &f1 in &anchors {
            let mut n = 0;
            'targets: for (t2, targets) in &self.recent {
                for &f2 in targets {
                    if (f1 as usize).abs_diff(f2 as usize) <= MAX_DF {
                        out.push((hash(f1, f2, t2 - t1), t1));
                        n += 1;
                        if n == FAN_OUT {
                            break 'targets;
                        }
                    }
                }
            }
        }
    }
}

fn hash(f1: u8, f2: u8, dt: u32) -> Hash {
    ((f1 as u32) << 13) | ((f2 as u32) << 6) | dt
}

fn peaks(power: &[f32; BINS]) -> Peaks {
    let mut band: Vec<f32> = power[LO..HI].to_vec();
    band.sort_by(f32::total_cmp);
    let floor = band[band.len() / 2].max(1e-10) * 10f32.powf(PEAK_DB / 10.0);
    let mut found: Vec<(f32, u8)> = (LO..HI)
        .filter(|&k| power[k] > floor && power[k] >= power[k - 1] && power[k] >= power[k + 1])
        .map(|k| (power[k], k as u8))
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.truncate(PEAKS);
    found.into_iter().map(|(_, k)| k).collect()
}
