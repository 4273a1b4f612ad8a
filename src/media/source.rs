//! Audio a call plays from: 8 kHz mono frames of 20 ms.

use std::f64::consts::PI;
use std::path::Path;

use hound::{SampleFormat, WavReader};
use thiserror::Error;

use crate::media::resample::resample;
use crate::media::{FRAME_SAMPLES, SAMPLE_RATE};

/// Why audio could not be loaded.
#[derive(Debug, Error)]
pub enum SourceError {
    /// Unreadable or malformed WAV file.
    #[error("wav: {0}")]
    Wav(#[from] hound::Error),
    /// WAV header with zero channels or a zero sample rate.
    #[error("unsupported wav format")]
    BadFormat,
}

/// Something that yields 8 kHz mono audio one 20 ms frame at a time.
pub trait AudioSource: Send {
    /// Fills `out` with the next frame; returns false once finished, in
    /// which case `out` is silence.
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool;
}

/// Plays a buffer of 8 kHz samples once; the last frame is padded with silence.
#[derive(Clone, Debug)]
pub struct PcmSource {
    samples: Vec<i16>,
    pos: usize,
}

impl PcmSource {
    /// A source playing `samples` (8 kHz mono).
    pub fn new(samples: Vec<i16>) -> PcmSource {
        PcmSource { samples, pos: 0 }
    }
}

impl AudioSource for PcmSource {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        let rest = &self.samples[self.pos..];
        let n = rest.len().min(FRAME_SAMPLES);
        out[..n].copy_from_slice(&rest[..n]);
        out[n..].fill(0);
        self.pos += n;
        n > 0
    }
}

/// A sine tone of fixed frequency, amplitude and duration.
#[derive(Clone, Debug)]
pub struct ToneSource {
    freq_hz: f64,
    amplitude: f64,
    n: u64,
    total: u64,
}

impl ToneSource {
    /// A tone of `freq_hz` with peak `amplitude` lasting `duration_ms`.
    pub fn new(freq_hz: f32, amplitude: i16, duration_ms: u32) -> ToneSource {
        ToneSource {
            freq_hz: freq_hz as f64,
            amplitude: amplitude as f64,
            n: 0,
            total: duration_ms as u64 * SAMPLE_RATE as u64 / 1000,
        }
    }
}

impl AudioSource for ToneSource {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        // Remaining is below FRAME_SAMPLES after min, so it fits a usize.
        let n = (self.total - self.n).min(FRAME_SAMPLES as u64) as usize;
        let step = 2.0 * PI * self.freq_hz / SAMPLE_RATE as f64;
        for (i, s) in out[..n].iter_mut().enumerate() {
            let k = (self.n + i as u64) as f64;
            *s = (self.amplitude * (step * k).sin()).round() as i16;
        }
        out[n..].fill(0);
        self.n += n as u64;
        n > 0
    }
}

/// Loads a WAV file of any rate, channel count and hound-supported sample
/// format, mixed to mono and resampled to 8 kHz.
pub fn load_wav(path: &Path) -> Result<Vec<i16>, SourceError> {
    let reader = WavReader::open(path)?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(SourceError::BadFormat);
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        SampleFormat::Float => reader.into_samples::<f32>().collect::<Result<_, _>>()?,
        SampleFormat::Int => {
            // Full scale of a signed `bits`-bit sample; hound yields 8-bit
            // WAV (stored unsigned) already re-centred to signed.
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let channels = spec.channels as usize;
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(resample(&mono, spec.sample_rate, SAMPLE_RATE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::{WavSpec, WavWriter};
    use std::path::PathBuf;

    fn temp_wav(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("media-test-{}-{name}.wav", std::process::id()))
    }

    fn zero_crossings(x: &[i16]) -> usize {
        x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    /// Writes one second of a 1 kHz sine in every channel and loads it back.
    fn sine_wav(name: &str, rate: u32, channels: u16, bits: u16, float: bool) -> Vec<i16> {
        let path = temp_wav(name);
        let spec = WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float {
                SampleFormat::Float
            } else {
                SampleFormat::Int
            },
        };
        let mut w = WavWriter::create(&path, spec).unwrap();
        let full = ((1i64 << (bits - 1)) - 1) as f64 * 0.5;
        for i in 0..rate {
            let x = (2.0 * PI * 1000.0 * i as f64 / rate as f64).sin();
            for _ in 0..channels {
                match (float, bits) {
                    (true, _) => w.write_sample((x * 0.5) as f32).unwrap(),
                    (false, 8) => w.write_sample((x * full) as i8).unwrap(),
                    (false, 16) => w.write_sample((x * full) as i16).unwrap(),
                    (false, _) => w.write_sample((x * full) as i32).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
        let out = load_wav(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        out
    }

    fn check_1k(out: &[i16]) {
        assert_eq!(out.len(), 8000);
        let zc = zero_crossings(out);
        assert!((1995..=2003).contains(&zc), "{zc}");
        let peak = out[100..7900]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!((15500..17000).contains(&peak), "{peak}");
    }

    #[test]
    fn wav_formats() {
        check_1k(&sine_wav("s16-44k1-stereo", 44100, 2, 16, false));
        check_1k(&sine_wav("u8-8k-mono", 8000, 1, 8, false));
        check_1k(&sine_wav("s24-48k-3ch", 48000, 3, 24, false));
        check_1k(&sine_wav("s32-16k-mono", 16000, 1, 32, false));
        check_1k(&sine_wav("f32-22k05-stereo", 22050, 2, 32, true));
    }

    #[test]
    fn stereo_is_mixed() {
        let path = temp_wav("mix");
        let spec = WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let mut w = WavWriter::create(&path, spec).unwrap();
        for _ in 0..10 {
            w.write_sample(1000i16).unwrap();
            w.write_sample(3000i16).unwrap();
        }
        w.finalize().unwrap();
        let out = load_wav(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(out, [2000; 10]);
    }

    #[test]
    fn bad_files() {
        assert!(load_wav(Path::new("/nonexistent/x.wav")).is_err());
        let path = temp_wav("garbage");
        std::fs::write(&path, b"RIFF\x10\0\0\0WAVEjunkjunkjunk").unwrap();
        assert!(matches!(load_wav(&path), Err(SourceError::Wav(_))));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn pcm_source_frames() {
        let mut src = PcmSource::new((1..=200).collect());
        let mut f = [7i16; FRAME_SAMPLES];
        assert!(src.next_frame(&mut f));
        assert_eq!(f[0], 1);
        assert_eq!(f[159], 160);
        assert!(src.next_frame(&mut f));
        assert_eq!(f[39], 200);
        assert!(f[40..].iter().all(|&s| s == 0));
        f = [7; FRAME_SAMPLES];
        assert!(!src.next_frame(&mut f));
        assert!(f.iter().all(|&s| s == 0));
        assert!(!PcmSource::new(Vec::new()).next_frame(&mut f));
    }

    #[test]
    fn tone_source() {
        let mut src: Box<dyn AudioSource> = Box::new(ToneSource::new(1000.0, 8000, 100));
        let mut all = Vec::new();
        let mut f = [0i16; FRAME_SAMPLES];
        while src.next_frame(&mut f) {
            all.extend_from_slice(&f);
        }
        assert_eq!(all.len(), 800);
        // 1 kHz at 8 kHz: samples repeat every 8.
        assert_eq!(all[2], 8000);
        assert_eq!(all[6], -8000);
        assert_eq!(all[10], 8000);
        assert_eq!(zero_crossings(&all), 199);
        assert!(f.iter().all(|&s| s == 0));
    }
}
