//! Engine audio made ready for the phone line: WAV decoding, 8 kHz, silence trimmed,
//! a steady level.

use super::BriefingError;
use super::engine::Speech;
use crate::media::resample::{resample, to_f32};

/// The phone line's sample rate.
pub const PHONE_RATE: u32 = 8000;
/// Target RMS level, dBFS.
pub const TARGET_DBFS: f32 = -20.0;
/// Level below which a 10 ms frame counts as silence at the ends, dBFS.
const SILENCE_DBFS: f32 = -45.0;
/// Silence kept before and after the speech, ms.
const MARGIN_MS: usize = 60;
/// Samples above this are softly limited so nothing reaches full scale.
const LIMIT: f32 = 0.9;

/// Decodes a WAV (PCM 8/16/24/32-bit or 32-bit float, any channels) to mono. Tolerates the
/// sizes of streamed WAVs (0 or 0xFFFFFFFF) by reading to the end; never panics.
pub fn decode_wav(bytes: &[u8]) -> Result<Speech, BriefingError> {
    let bad = |m: &str| BriefingError::BadWav(m.to_string());
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let f = bytes
                .get(body..body + 16)
                .ok_or_else(|| bad("short fmt chunk"))?;
            let u16_at = |i: usize| u16::from_le_bytes([f[i], f[i + 1]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            format = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
        } else if id == b"data" {
            let (tag, channels, rate, bits) = format.ok_or_else(|| bad("data before fmt"))?;
            let end = if size == 0 || size == u32::MAX as usize {
                bytes.len()
            } else {
                (body + size).min(bytes.len())
            };
            return samples(&bytes[body..end], tag, channels, rate, bits);
        }
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    Err(bad("no data chunk"))
}

fn samples(
    data: &[u8],
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
) -> Result<Speech, BriefingError> {
    let bad = |m: String| BriefingError::BadWav(m);
    if channels == 0 || rate == 0 {
        return Err(bad("zero channels or rate".into()));
    }
    // 0xFFFE is WAVE_FORMAT_EXTENSIBLE; its sub-format is assumed to match the bit depth.
    let float = match (tag, bits) {
        (1 | 0xFFFE, 8 | 16 | 24 | 32) => false,
        (3, 32) | (0xFFFE, 33..) => true,
        _ => return Err(bad(format!("unsupported format {tag} with {bits} bits"))),
    };
    let width = bits as usize / 8;
    let frame = width * channels as usize;
    let decode = |s: &[u8]| -> f32 {
        match (float, width) {
            (true, _) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
            (false, 1) => (s[0] as f32 - 128.0) / 128.0,
            (false, 2) => i16::from_le_bytes([s[0], s[1]]) as f32 / 32768.0,
            (false, 3) => (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0,
            (false, _) => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32 / 2_147_483_648.0,
        }
    };
    let samples: Vec<f32> = data
        .chunks_exact(frame)
        .map(|f| {
            let sum: f32 = f.chunks_exact(width).map(decode).sum();
            let mono = sum / channels as f32;
            if mono.is_finite() {
                mono.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        })
        .collect();
    if samples.is_empty() {
        return Err(BriefingError::Silent);
    }
    Ok(Speech { samples, rate })
}

/// Engine speech as phone audio: 8 kHz, ends trimmed, RMS at [`TARGET_DBFS`], limited.
pub fn to_phone(speech: &Speech) -> Result<Vec<i16>, BriefingError> {
    let pcm = resample(&speech.samples, speech.rate, PHONE_RATE);
    let mut x = to_f32(&pcm);
    let frame = PHONE_RATE as usize / 100;
    let loud = |f: &[f32]| rms(f) > db_to_amp(SILENCE_DBFS);
    let frames: Vec<&[f32]> = x.chunks(frame).collect();
    let first = frames
        .iter()
        .position(|f| loud(f))
        .ok_or(BriefingError::Silent)?;
    let last = frames.iter().rposition(|f| loud(f)).unwrap_or(first);
    let margin = MARGIN_MS * PHONE_RATE as usize / 1000;
    let start = (first * frame).saturating_sub(margin);
    let end = ((last + 1) * frame + margin).min(x.len());
    x = x[start..end].to_vec();
    let gain = db_to_amp(TARGET_DBFS) / rms(&x).max(1e-9);
    Ok(x.iter().map(|&s| to_i16(limit(s * gain))).collect())
}

/// Soft limiter: linear below [`LIMIT`], then a tanh knee that never reaches 1.0.
fn limit(x: f32) -> f32 {
    let a = x.abs();
    if a <= LIMIT {
        x
    } else {
        let head = 0.99 - LIMIT;
        x.signum() * (LIMIT + head * ((a - LIMIT) / head).tanh())
    }
}

fn to_i16(x: f32) -> i16 {
    // |x| < 1.0 after the limiter, so the product fits.
    (x * 32767.0).round().clamp(-32767.0, 32767.0) as i16
}

/// Root mean square of `x` (0 for empty).
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt()
}

/// dBFS to amplitude.
pub fn db_to_amp(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// RMS of 16-bit PCM, dBFS.
pub fn dbfs(pcm: &[i16]) -> f32 {
    20.0 * rms(&to_f32(pcm)).max(1e-9).log10()
}
