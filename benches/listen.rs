//! What one call's listener costs, per 20 ms frame, on the audio a call on hold hears: the
//! five Asterisk hold-music files (every frame above the energy gate: the model runs on all
//! of it, the worst case) and a minute of Asterisk prompts with pauses (speech: segments,
//! fingerprints, matching). Split into the model alone (Silero on the same chunks) and the
//! listener around it (the same listener with a constant fake VAD).
//!
//! `cargo bench --bench listen` (release). Needs Debian's asterisk-moh-opsound-wav and
//! asterisk-core-sounds-en-wav.

use hotline::listen::silero::SileroModel;
use hotline::listen::vad::{CHUNK, FnVad};
use hotline::listen::{FRAME, Listener, PromptLibrary, Thresholds, Vad};
use hotline::media::source::load_wav;
use std::path::Path;
use std::time::{Duration, Instant};

const MOH: &str = "/usr/share/asterisk/moh";
const PROMPTS: &str = "/usr/share/asterisk/sounds/en";

fn wav(path: &Path) -> Vec<i16> {
    load_wav(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (apt-get install asterisk-moh-opsound-wav asterisk-core-sounds-en-wav)",
            path.display()
        )
    })
}

fn hold_music() -> Vec<i16> {
    let mut files: Vec<_> = std::fs::read_dir(MOH)
        .expect("hold music")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    files.iter().flat_map(|p| wav(p)).collect()
}

/// About a minute of prompts, each followed by 0.8 s of silence.
fn prompts() -> Vec<i16> {
    let mut files: Vec<_> = std::fs::read_dir(PROMPTS)
        .expect("prompts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for p in files.iter().step_by(7) {
        out.extend(wav(p));
        out.extend(std::iter::repeat_n(0i16, 6400));
        if out.len() > 60 * 8000 {
            break;
        }
    }
    out
}

/// Feeds `audio` through a fresh listener; time per frame and the model's chunk counts.
fn run(vad: Box<dyn Vad>, audio: &[i16]) -> (Duration, [u64; 3], usize) {
    let mut l = Listener::new(vad, PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let t0 = Instant::now();
    let start = Instant::now();
    let mut events = 0;
    for (i, f) in audio.chunks_exact(FRAME).enumerate() {
        events += l.push(t0 + Duration::from_millis(20 * i as u64), f).len();
    }
    let spent = start.elapsed();
    (
        spent,
        [l.model_chunks, l.strided_chunks, l.gated_chunks],
        events,
    )
}

/// The model alone on every chunk of `audio`.
fn model_only(model: &SileroModel, audio: &[i16]) -> (Duration, u64) {
    let mut vad = model.stream();
    let start = Instant::now();
    let mut n = 0;
    for c in audio.chunks_exact(CHUNK) {
        let mut x = [0.0f32; CHUNK];
        for (d, &s) in x.iter_mut().zip(c) {
            *d = s as f32 / 32768.0;
        }
        let _ = vad.score(&x);
        n += 1;
    }
    (start.elapsed(), n)
}

fn report(name: &str, audio: &[i16], model: &SileroModel) {
    let frames = (audio.len() / FRAME) as f64;
    let secs = audio.len() as f64 / 8000.0;
    let (full, [model_chunks, strided, gated], events) = run(Box::new(model.stream()), audio);
    let (around, ..) = run(Box::new(FnVad(|_: &[f32; CHUNK]| 0.05)), audio);
    let (m, chunks) = model_only(model, audio);
    let per_frame = |d: Duration| d.as_secs_f64() * 1e6 / frames;
    println!("{name}: {secs:.0} s of audio, {frames:.0} frames, {events} events");
    println!(
        "  listener with Silero     {:.1} us/frame ({:.2} % of one core per call, {:.0}x real time)",
        per_frame(full),
        100.0 * full.as_secs_f64() / secs,
        secs / full.as_secs_f64()
    );
    println!(
        "  model chunks run/skipped on steady music/gated   {model_chunks}/{strided}/{gated}; Silero alone {:.1} us/chunk",
        m.as_secs_f64() * 1e6 / chunks as f64
    );
    println!(
        "  listener around a fake   {:.1} us/frame (spectrum, tones, fingerprints, decisions)",
        per_frame(around)
    );
}

/// `n` listeners fed in turn, a frame each (as a worker serves its calls): caches shared.
fn interleaved(model: &SileroModel, audio: &[i16], n: usize) {
    let mut ls: Vec<Listener> = (0..n)
        .map(|_| {
            let mut l = Listener::new(
                Box::new(model.stream()),
                PromptLibrary::default(),
                Thresholds::default(),
            );
            l.set_probing(true);
            l
        })
        .collect();
    let frames: Vec<&[i16]> = audio.chunks_exact(FRAME).collect();
    let per = 500.min(frames.len() / n.max(1)).max(1);
    let t0 = Instant::now();
    let start = Instant::now();
    for i in 0..per {
        for (k, l) in ls.iter_mut().enumerate() {
            // Each listener at its own place in the music.
            let f = frames[(k * 997 + i) % frames.len()];
            l.push(t0 + Duration::from_millis(20 * i as u64), f);
        }
    }
    let spent = start.elapsed();
    let fed = (per * n) as f64;
    println!(
        "{n} listeners on hold music, fed in turn: {:.1} us/frame ({:.2} % of one core per call)",
        spent.as_secs_f64() * 1e6 / fed,
        100.0 * spent.as_secs_f64() / (fed * 0.02)
    );
}

fn main() {
    let model = SileroModel::shared().expect("model");
    let music = hold_music();
    interleaved(&model, &music, 250);
    report("hold music (5 Asterisk files)", &hold_music(), &model);
    report("prompts with pauses", &prompts(), &model);
}
