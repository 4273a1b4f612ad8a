//! Waveform peaks of a two-channel recording, for the console to draw: per bucket, the
//! largest absolute sample of each channel, 0..=1000 (integers keep the cached JSON small).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Peaks of both channels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peaks {
    pub duration_ms: u64,
    /// What hotline sent.
    pub left: Vec<u16>,
    /// What the vendor sent.
    pub right: Vec<u16>,
}

/// Reads the WAV and folds it into `buckets` peaks per channel (blocking). A mono file
/// draws the same on both sides.
pub fn compute_peaks(path: &Path, buckets: usize) -> Result<Peaks, hound::Error> {
    let mut r = hound::WavReader::open(path)?;
    let spec = r.spec();
    let ch = spec.channels.max(1) as usize;
    let frames = r.duration() as usize;
    let buckets = buckets.clamp(1, frames.max(1));
    let per = frames.div_ceil(buckets).max(1);
    let mut left = vec![0u16; buckets];
    let mut right = vec![0u16; buckets];
    let scale = |s: i32| -> u16 {
        let full = (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f64;
        ((s.unsigned_abs() as f64 / full) * 1000.0)
            .round()
            .min(1000.0) as u16
    };
    for (i, s) in r.samples::<i32>().enumerate() {
        let s = s?;
        let frame = i / ch;
        let b = (frame / per).min(buckets - 1);
        let v = scale(s);
        let slot = if ch == 1 || i % ch == 0 {
            &mut left[b]
        } else {
            &mut right[b]
        };
        *slot = (*slot).max(v);
        if ch == 1 {
            right[b] = right[b].max(v);
        }
    }
    Ok(Peaks {
        duration_ms: (frames as u64 * 1000) / u64::from(spec.sample_rate.max(1)),
        left,
        right,
    })
}
