//! Steps that walk a vendor's phone menu.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::Template;
use crate::config::positive_duration_opt;

/// One step of a contact's `menu`, written as a table with exactly one of
/// `wait`, `dtmf`, `play`, `hangup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuStep {
    /// `{ wait = "3s" }`: pause (listen) for this long.
    Wait(Duration),
    /// `{ wait = "prompt", timeout = "30s" }`: until the vendor's current prompt has ended
    /// (speech, then a pause), at most `timeout` (default 30 s).
    WaitPrompt(Duration),
    /// `{ wait = "human", timeout = "20m" }`: hold until a person is on the line (the
    /// listener, with the probe line), at most `timeout` (default 20 min); then hang up.
    WaitHuman(Duration),
    /// `{ dtmf = "{contract_digits}#" }`: send these digits.
    Dtmf(Template),
    /// `{ play = "briefing" }`: play audio into the call.
    Play(PlaySource),
    /// `{ hangup = true }`: end the call.
    Hangup,
}

/// Prompts built in as sound (`prompt:beep`); any other name is spoken as its words by
/// espeak-ng, so `hotline check` warns about it (a typo would be read out to the vendor).
pub const BUILTIN_PROMPTS: [&str; 1] = ["beep"];

/// What a `play` step plays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum PlaySource {
    /// `"briefing"`: the incident briefing generated for this call.
    Briefing,
    /// `"prompt:<name>"`: a built-in prompt, `name` = `[a-z0-9_-]+`.
    Prompt(String),
    /// A path ending in `.wav`; relative paths are resolved against the
    /// dialplan file's directory when loaded.
    Wav(PathBuf),
}

impl TryFrom<String> for PlaySource {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        if text == "briefing" {
            return Ok(Self::Briefing);
        }
        if let Some(name) = text.strip_prefix("prompt:") {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            return if ok {
                Ok(Self::Prompt(name.to_string()))
            } else {
                Err(format!("bad prompt \"{text}\": names use [a-z0-9_-]+"))
            };
        }
        if text.to_ascii_lowercase().ends_with(".wav") {
            return Ok(Self::Wav(PathBuf::from(text)));
        }
        Err(format!(
            "bad play \"{text}\": use \"briefing\", \"prompt:<name>\" or a .wav file path"
        ))
    }
}

/// A menu step as written, before checking it has exactly one action. (Checked
/// by the caller rather than with `serde(try_from)`, so the error can point at
/// the step: `toml` gives errors raised after an array element the array's span.)
/// What a `wait` step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
enum WaitFor {
    Time(Duration),
    Prompt,
    Human,
}

impl TryFrom<String> for WaitFor {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "prompt" => Ok(Self::Prompt),
            "human" => Ok(Self::Human),
            _ => match crate::config::parse_duration(&text) {
                Ok(Duration::ZERO) => Err("duration must be greater than zero".into()),
                Ok(d) => Ok(Self::Time(d)),
                Err(e) => Err(format!(
                    "bad wait \"{text}\": {e} (or \"prompt\", \"human\")"
                )),
            },
        }
    }
}

/// Default cap of `wait = "prompt"`: the longest IVR prompt in Debian's Asterisk sounds is
/// under 30 s.
pub const PROMPT_CAP: Duration = Duration::from_secs(30);
/// Default cap of `wait = "human"`.
pub const HUMAN_TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepTable {
    wait: Option<WaitFor>,
    /// Cap of `wait = "prompt"` / `"human"`.
    #[serde(default, deserialize_with = "positive_duration_opt")]
    timeout: Option<Duration>,
    dtmf: Option<Template>,
    play: Option<PlaySource>,
    hangup: Option<bool>,
}

impl TryFrom<StepTable> for MenuStep {
    type Error = &'static str;

    fn try_from(table: StepTable) -> Result<Self, Self::Error> {
        let timeout = table.timeout;
        match (table.wait, table.dtmf, table.play, table.hangup) {
            (Some(WaitFor::Time(_)), ..) | (None, ..) if timeout.is_some() => {
                Err("timeout goes with wait = \"prompt\" or wait = \"human\"")
            }
            (Some(WaitFor::Time(duration)), None, None, None) => Ok(Self::Wait(duration)),
            (Some(WaitFor::Prompt), None, None, None) => {
                Ok(Self::WaitPrompt(timeout.unwrap_or(PROMPT_CAP)))
            }
            (Some(WaitFor::Human), None, None, None) => {
                Ok(Self::WaitHuman(timeout.unwrap_or(HUMAN_TIMEOUT)))
            }
            (None, Some(template), None, None) => Ok(Self::Dtmf(template)),
            (None, None, Some(source), None) => Ok(Self::Play(source)),
            (None, None, None, Some(true)) => Ok(Self::Hangup),
            (None, None, None, Some(false)) => Err("hangup must be true (remove the step instead)"),
            _ => Err("a menu step needs exactly one of wait, dtmf, play, hangup"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_play_sources() {
        let cases = [
            ("briefing", Ok(PlaySource::Briefing)),
            ("prompt:thanks", Ok(PlaySource::Prompt("thanks".into()))),
            (
                "audio/hello.wav",
                Ok(PlaySource::Wav("audio/hello.wav".into())),
            ),
            (
                "/abs/HELLO.WAV",
                Ok(PlaySource::Wav("/abs/HELLO.WAV".into())),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(PlaySource::try_from(text.to_string()), want, "{text}");
        }
        for bad in ["breifing", "prompt:", "prompt:Hi There", "hello.mp3", ""] {
            assert!(PlaySource::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }
}
