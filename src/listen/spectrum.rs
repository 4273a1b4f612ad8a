//! A 256-point magnitude spectrum of the latest 32 ms, for tone detection and fingerprints.
//! Radix-2 FFT written out here: 256 points every 20 ms is ~10 k multiply-adds per frame.

/// Points per transform: 32 ms at 8 kHz, 31.25 Hz a bin.
pub const N: usize = 256;
/// Bins from 0 Hz to 4 kHz inclusive.
pub const BINS: usize = N / 2 + 1;

/// Precomputed twiddles and window; one per listener.
pub struct Spectrum {
    window: [f32; N],
    cos: [f32; N / 2],
    sin: [f32; N / 2],
    re: [f32; N],
    im: [f32; N],
}

impl Default for Spectrum {
    fn default() -> Self {
        let mut window = [0.0; N];
        for (i, w) in window.iter_mut().enumerate() {
            // Hann: side lobes low enough that a pure tone stays in ~3 bins.
            *w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N as f32).cos();
        }
        let mut cos = [0.0; N / 2];
        let mut sin = [0.0; N / 2];
        for k in 0..N / 2 {
            let a = -2.0 * std::f32::consts::PI * k as f32 / N as f32;
            cos[k] = a.cos();
            sin[k] = a.sin();
        }
        Spectrum {
            window,
            cos,
            sin,
            re: [0.0; N],
            im: [0.0; N],
        }
    }
}

impl Spectrum {
    /// Power per bin of `samples` (the latest N samples, scaled to [-1, 1]).
    pub fn power(&mut self, samples: &[f32; N], out: &mut [f32; BINS]) {
        for (i, (&x, &w)) in samples.iter().zip(&self.window).enumerate() {
            let j = (i as u8).reverse_bits() as usize; // N = 256: 8-bit reversal
            self.re[j] = x * w;
            self.im[j] = 0.0;
        }
        let mut len = 2;
        while len <= N {
            let step = N / len;
            for start in (0..N).step_by(len) {
                for k in 0..len / 2 {
                    let (c, s) = (self.cos[k * step], self.sin[k * step]);
                    let (a, b) = (start + k, start + k + len / 2);
                    let tr = self.re[b] * c - self.im[b] * s;
                    let ti = self.re[b] * s + self.im[b] * c;
                    self.re[b] = self.re[a] - tr;
                    self.im[b] = self.im[a] - ti;
                    self.re[a] += tr;
                    self.im[a] += ti;
                }
            }
            len *= 2;
        }
        for (k, o) in out.iter_mut().enumerate() {
            *o = self.re[k] * self.re[k] + self.im[k] * self.im[k];
        }
    }
}

/// Share of the power (125 Hz..3.6 kHz) held by the two strongest peaks (each ±1 bin):
/// near 1 for a call-progress or DTMF tone, low for speech and music.
pub fn tonality(p: &[f32; BINS]) -> f32 {
    let band = 4..116;
    let total: f32 = p[band.clone()].iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let mut best = [(0.0f32, 0usize); 2];
    for k in band.clone() {
        if p[k] >= p[k - 1] && p[k] >= p[k + 1] {
            let e = p[k - 1] + p[k] + p[k + 1];
            if e > best[0].0 {
                best[1] = best[0];
                best[0] = (e, k);
            } else if e > best[1].0 && k.abs_diff(best[0].1) > 2 {
                best[1] = (e, k);
            }
        }
    }
    (best[0].0 + best[1].0) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(f: f32) -> [f32; N] {
        let mut s = [0.0; N];
        for (i, x) in s.iter_mut().enumerate() {
            *x = 0.5 * (2.0 * std::f32::consts::PI * f * i as f32 / 8000.0).sin();
        }
        s
    }

    #[test]
    fn a_sine_lands_in_its_bin() {
        let mut sp = Spectrum::default();
        let mut p = [0.0; BINS];
        sp.power(&sine(1000.0), &mut p);
        let peak = (0..BINS).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(peak, 32); // 1000 Hz / 31.25 Hz
        assert!(tonality(&p) > 0.95, "{}", tonality(&p));
    }

    #[test]
    fn dual_tone_is_tonal_noise_is_not() {
        let mut sp = Spectrum::default();
        let mut p = [0.0; BINS];
        let (a, b) = (sine(350.0), sine(440.0)); // US dial tone
        let mut s = [0.0; N];
        for i in 0..N {
            s[i] = a[i] + b[i];
        }
        sp.power(&s, &mut p);
        assert!(tonality(&p) > 0.9, "{}", tonality(&p));
        let mut x = 12345u32;
        for v in s.iter_mut() {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            *v = (x >> 8) as f32 / (1 << 24) as f32 - 0.5;
        }
        sp.power(&s, &mut p);
        assert!(tonality(&p) < 0.2, "{}", tonality(&p));
    }
}
