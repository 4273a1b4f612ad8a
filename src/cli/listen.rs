//! `hotline listen FILE.wav`: the listener's classification timeline of a recording.
//! A mono file is the vendor alone; a two-channel call recording (left: hotline, right: the
//! vendor, as hotline records) also gives the listener hotline's speech as the probe.

use crate::listen::silero::SileroModel;
use crate::listen::timeline;
use crate::listen::{Event, Listener, PromptLibrary, Thresholds};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("{path}: {msg}")]
    Input { path: String, msg: String },
    #[error("{0}")]
    Model(String),
}

/// The timeline as text lines (`  12.34 s  music started`).
pub fn listen(path: &Path) -> Result<String, ListenError> {
    let bad = |msg: String| ListenError::Input {
        path: path.display().to_string(),
        msg,
    };
    let mut r = hound::WavReader::open(path).map_err(|e| bad(e.to_string()))?;
    let spec = r.spec();
    if spec.sample_rate != 8000 || spec.bits_per_sample != 16 || spec.channels > 2 {
        return Err(bad(format!(
            "need 8 kHz 16-bit mono or stereo, got {} Hz {}-bit {} channels (convert with sox FILE -r 8000 -b 16 out.wav)",
            spec.sample_rate, spec.bits_per_sample, spec.channels
        )));
    }
    let samples: Vec<i16> = r
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let (rx, tx) = if spec.channels == 2 {
        let tx: Vec<i16> = samples.iter().step_by(2).copied().collect();
        let rx: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
        (rx, Some(tx))
    } else {
        (samples, None)
    };
    let model = SileroModel::shared().map_err(ListenError::Model)?;
    let mut l = Listener::new(
        Box::new(model.stream()),
        PromptLibrary::default(),
        Thresholds::default(),
    );
    let mut events = timeline::run(&mut l, &rx, tx.as_deref());
    // In time order (decisions are reported after the fact, back-dated to what they are about).
    events.sort_by_key(|(at, _)| *at);
    let mut out = String::new();
    for (at, e) in events {
        let _ = writeln!(out, "{:>9}  {}", secs(at), describe(&e));
    }
    let _ = writeln!(
        out,
        "{:>9}  end ({} model chunks, {} skipped on steady music, {} skipped as silence)",
        secs(Duration::from_millis(rx.len() as u64 / 8)),
        l.model_chunks,
        l.strided_chunks,
        l.gated_chunks
    );
    Ok(out)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// One event in words.
pub fn describe(e: &Event) -> String {
    match e {
        Event::Started { sound, .. } => format!("{} started", sound.as_str()),
        Event::Ended { sound, .. } => format!("{} ended", sound.as_str()),
        Event::Recorded { why, .. } => format!("speech here was a recording ({})", why.as_str()),
        Event::ProbeWanted { .. } => "unknown speech paused: probe wanted".into(),
        Event::ReplyHeard { .. } => "reply heard after the probe".into(),
        Event::Human {
            confidence,
            evidence,
            at,
            onset,
        } => {
            let ev: Vec<String> = evidence.iter().map(|e| e.to_string()).collect();
            format!(
                "PERSON from here (decided {:.2} s later, confidence {confidence:.2}: {})",
                at.saturating_duration_since(*onset).as_secs_f64(),
                ev.join(", ")
            )
        }
    }
}
