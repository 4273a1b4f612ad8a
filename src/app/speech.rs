//! Text to 8 kHz speech through the espeak-ng program (the briefing engine, a later issue,
//! links libespeak-ng instead). Used for the demo's briefing and the simulated vendor.

use crate::media::source::load_wav;
use std::process::Command;

/// Speaks `text` with espeak-ng; `None` if espeak-ng is not installed or fails.
pub fn say(text: &str) -> Option<Vec<i16>> {
    let dir = std::env::temp_dir().join(format!("hotline-say-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).ok()?;
    let wav = dir.join("say.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "155", "-a", "70", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let pcm = if ok { load_wav(&wav).ok() } else { None };
    let _ = std::fs::remove_dir_all(&dir);
    pcm
}
