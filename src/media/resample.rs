//! Sample-rate conversion with a Kaiser-windowed sinc low-pass filter.
//!
//! Each output sample is the input convolved with a sinc whose cutoff is
//! below the lower of the two Nyquist frequencies, so downsampling is
//! anti-aliased and upsampling is anti-imaged.

use std::f64::consts::PI;

/// Sinc zero crossings kept on each side of the centre.
const ZERO_CROSSINGS: f64 = 32.0;
/// Cutoff as a fraction of the lower sample rate (0.5 = Nyquist).
const CUTOFF: f64 = 0.45;
/// Kaiser window shape; about 80 dB stopband.
const KAISER_BETA: f64 = 8.0;
/// Most filter phases precomputed; finer output positions are rounded.
const MAX_PHASES: u64 = 4096;

/// Resamples mono `input` (full scale ±1.0) from `from_hz` to `to_hz`,
/// returning 16-bit PCM. Identity (apart from conversion) when the rates
/// match; empty when either rate is 0.
pub fn resample(input: &[f32], from_hz: u32, to_hz: u32) -> Vec<i16> {
    if from_hz == 0 || to_hz == 0 {
        return Vec::new();
    }
    if from_hz == to_hz {
        return input.iter().map(|&x| to_i16(x)).collect();
    }
    let filter = Polyphase::new(from_hz, to_hz);
    let out_len = (input.len() as u64 * filter.den).div_ceil(filter.num);
    (0..out_len)
        .map(|n| to_i16(filter.output(input, n)))
        .collect()
}

/// Converts i16 PCM to the ±1.0 floats [`resample`] takes.
pub fn to_f32(pcm: &[i16]) -> Vec<f32> {
    pcm.iter().map(|&s| s as f32 / 32768.0).collect()
}

fn to_i16(x: f32) -> i16 {
    // Clamped into range first, so the cast is exact.
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Windowed-sinc filter precomputed for each fractional output position.
struct Polyphase {
    /// Output n sits at input position n * num / den (rates over their gcd).
    num: u64,
    den: u64,
    phases: u64,
    /// Taps on each side of the centre.
    reach: i64,
    /// `phases` rows of `2 * reach` taps.
    taps: Vec<f32>,
}

impl Polyphase {
    fn new(from_hz: u32, to_hz: u32) -> Polyphase {
        let g = gcd(from_hz as u64, to_hz as u64);
        let (num, den) = (from_hz as u64 / g, to_hz as u64 / g);
        let phases = den.min(MAX_PHASES);
        // Cutoff in cycles per input sample.
        let fc = CUTOFF * from_hz.min(to_hz) as f64 / from_hz as f64;
        let half = ZERO_CROSSINGS / (2.0 * fc);
        let reach = half.ceil() as i64;
        let norm = bessel_i0(KAISER_BETA);
        let h = |t: f64| {
            let r = t / half;
            if r.abs() >= 1.0 {
                return 0.0;
            }
            let x = 2.0 * fc * t;
            let sinc = if x == 0.0 {
                1.0
            } else {
                (PI * x).sin() / (PI * x)
            };
            let window = bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm;
            (2.0 * fc * sinc * window) as f32
        };
        let taps = (0..phases)
            .flat_map(|p| {
                let frac = p as f64 / phases as f64;
                // Tap j weighs input `centre - reach + 1 + j`.
                (0..2 * reach).map(move |j| h((reach - 1 - j) as f64 + frac))
            })
            .collect();
        Polyphase {
            num,
            den,
            phases,
            reach,
            taps,
        }
    }

    /// Output sample `n`; input outside `input` counts as zero.
    fn output(&self, input: &[f32], n: u64) -> f32 {
        let pos = n * self.num;
        let mut centre = (pos / self.den) as i64;
        let mut phase = pos % self.den;
        if self.phases < self.den {
            // Round to the nearest precomputed phase.
            phase = (2 * phase * self.phases + self.den) / (2 * self.den);
            if phase == self.phases {
                phase = 0;
                centre += 1;
            }
        }
        let width = 2 * self.reach;
        let row = phase as usize * width as usize;
        let taps = &self.taps[row..row + width as usize];
        let first = centre - self.reach + 1;
        let lo = (-first).clamp(0, width);
        let hi = (input.len() as i64 - first).clamp(lo, width);
        if lo == hi {
            return 0.0;
        }
        // lo..hi is the part of the row that lands inside `input`.
        let xs = &input[(first + lo) as usize..(first + hi) as usize];
        dot(xs, &taps[lo as usize..hi as usize])
    }
}

/// Dot product in eight lanes, which the compiler can vectorise.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((acc, x), y) in acc.iter_mut().zip(x).zip(y) {
            *acc += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let q = x * x / 4.0;
    for k in 1..50 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-12 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<f32> {
        let n = (rate as f64 * secs) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / rate as f64).sin()) as f32)
            .collect()
    }

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    fn zero_crossings(x: &[i16]) -> usize {
        x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn keeps_frequency_44k1_to_8k() {
        let out = resample(&sine(1000.0, 44100, 1.0, 0.5), 44100, 8000);
        assert_eq!(out.len(), 8000);
        // 1 kHz for one second: 2000 zero crossings.
        let zc = zero_crossings(&out);
        assert!((1996..=2002).contains(&zc), "{zc}");
        // Gain ~1 away from the edges: 0.5 FS sine has RMS 0.5/sqrt(2).
        let r = rms(&out[400..7600]) / (0.5 / 2f64.sqrt() * 32768.0);
        assert!((0.97..1.03).contains(&r), "{r}");
    }

    #[test]
    fn attenuates_above_nyquist() {
        // 6 kHz cannot exist at 8 kHz; it must not alias down to 2 kHz.
        let out = resample(&sine(6000.0, 48000, 0.5, 0.9), 48000, 8000);
        let in_rms = 0.9 / 2f64.sqrt() * 32768.0;
        let db = 20.0 * (rms(&out[200..3800]) / in_rms).log10();
        assert!(db < -30.0, "{db} dB");
        // Just below the cutoff still passes.
        let out = resample(&sine(3000.0, 48000, 0.5, 0.9), 48000, 8000);
        let db = 20.0 * (rms(&out[200..3800]) / in_rms).log10();
        assert!(db > -1.0, "{db} dB");
    }

    #[test]
    fn odd_rates() {
        // 44101/8000 has no common factor: phases are rounded to MAX_PHASES.
        for (from, to) in [(44101, 8000), (11025, 8000), (8000, 44101), (8000, 11025)] {
            let out = resample(&sine(1000.0, from, 1.0, 0.5), from, to);
            assert_eq!(out.len(), to as usize);
            let zc = zero_crossings(&out);
            assert!((1996..=2002).contains(&zc), "{from}->{to}: {zc}");
            let r = rms(&out[400..to as usize - 400]) / (0.5 / 2f64.sqrt() * 32768.0);
            assert!((0.97..1.03).contains(&r), "{from}->{to}: {r}");
        }
    }

    #[test]
    fn short_inputs() {
        assert!(resample(&[], 44100, 8000).is_empty());
        assert_eq!(resample(&[0.5], 44100, 8000).len(), 1);
        assert_eq!(resample(&[0.5; 3], 8000, 48000).len(), 18);
    }

    #[test]
    fn upsample_and_identity() {
        let x = sine(500.0, 8000, 0.25, 0.5);
        let up = resample(&x, 8000, 16000);
        assert_eq!(up.len(), 4000);
        // 125 cycles: 250 zero crossings, less edge effects.
        assert!((248..=251).contains(&zero_crossings(&up)));
        let back = resample(&to_f32(&up), 16000, 8000);
        assert_eq!(back.len(), x.len());
        let orig = resample(&x, 8000, 8000);
        for i in 100..1900 {
            assert!((orig[i] as i32 - back[i] as i32).abs() < 200, "{i}");
        }
        assert!(resample(&x, 0, 8000).is_empty());
        assert_eq!(resample(&[1.5, -1.5, 0.0], 8000, 8000), [32767, -32768, 0]);
    }
}
