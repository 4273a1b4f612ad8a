//! Short built-in prompts spoken with the briefing engine's espeak-ng (linked
//! libespeak-ng): the demo's fixed briefing, `prompt:<name>` steps, the simulated vendor.

use crate::briefing::audio::to_phone;
use crate::briefing::engine::{Espeak, SpeechRequest};
use crate::config::Language;

/// Speaks English `text` as 8 kHz PCM; `None` if libespeak-ng fails (logged).
pub fn say(text: &str) -> Option<Vec<i16>> {
    let request = SpeechRequest {
        text: text.to_string(),
        language: Language::En,
    };
    match Espeak::new(None)
        .synthesize_blocking(&request)
        .and_then(|speech| to_phone(&speech))
    {
        Ok(pcm) => Some(pcm),
        Err(error) => {
            tracing::warn!(%error, "cannot speak a prompt");
            None
        }
    }
}
