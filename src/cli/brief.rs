//! `hotline brief`: one incident file -> the briefing text (stdout) and its audio (WAV).

use std::path::{Path, PathBuf};

use crate::briefing::Briefer;
use crate::config;
use crate::dialplan;
use crate::incident::{Format, Incident, LabelMap};

/// Arguments of `hotline brief`.
#[derive(Clone, Debug)]
pub struct BriefArgs {
    pub config: PathBuf,
    pub dialplan: String,
    pub incident: PathBuf,
    pub out: Option<PathBuf>,
}

/// Why `hotline brief` failed: bad input (exit 2) or synthesis.
#[derive(Debug, thiserror::Error)]
pub enum BriefError {
    /// Configuration, dialplan or incident file is wrong; the message names file:line.
    #[error("{0}")]
    Input(String),
    /// Speech could not be made or written.
    #[error("{0}")]
    Output(String),
}

/// Reads an incident file: the incident model as JSON, or a body in any of the five webhook
/// formats (detected; the first incident is used). Errors as `file:line:col: message`.
pub fn load_incident(path: &Path, labels: &LabelMap) -> Result<Incident, BriefError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BriefError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let model_error = match serde_json::from_str::<Incident>(&text) {
        Ok(i) => return Ok(i),
        Err(e) => e,
    };
    for format in Format::ALL {
        if let Ok(mut found) = format.parse(text.as_bytes(), labels)
            && !found.is_empty()
        {
            tracing::info!(%format, "incident file read as a webhook body");
            return Ok(found.swap_remove(0));
        }
    }
    Err(BriefError::Input(format!(
        "{}:{}:{}: not an incident ({}) nor a webhook body of a known format",
        path.display(),
        model_error.line(),
        model_error.column(),
        strip_position(&model_error.to_string())
    )))
}

/// serde_json appends " at line L column C"; the position is already in front.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// Renders and speaks the briefing; returns its text.
pub async fn brief(args: &BriefArgs) -> Result<String, BriefError> {
    let cfg = config::load(&args.config).map_err(|e| BriefError::Input(e.to_string()))?;
    let plans =
        dialplan::load_dir(&cfg.dialplans.dir).map_err(|e| BriefError::Input(e.to_string()))?;
    let plan = plans.get(&args.dialplan).ok_or_else(|| {
        BriefError::Input(format!(
            "no dialplan \"{}\" in {}",
            args.dialplan,
            cfg.dialplans.dir.display()
        ))
    })?;
    let incident = load_incident(&args.incident, &cfg.intake.labels)?;
    let briefer = Briefer::new(&cfg.briefing)
        .map_err(|e| BriefError::Input(format!("{}: {e}", args.config.display())))?;
    let mut handle = briefer.prepare(&incident, plan);
    // The briefing, then the details a `2` plays (the WAV is the briefing).
    let text = handle.spoken();
    if let Some(out) = &args.out {
        let pcm = handle
            .ready()
            .await
            .map_err(|e| BriefError::Output(e.to_string()))?;
        write_wav(out, &pcm).map_err(|e| BriefError::Output(format!("{}: {e}", out.display())))?;
    }
    Ok(text)
}

/// Writes 8 kHz mono 16-bit PCM.
fn write_wav(path: &Path, pcm: &[i16]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: crate::briefing::audio::PHONE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for &s in pcm {
        w.write_sample(s)?;
    }
    w.finalize()
}
