//! The optional `[briefing]` section: who is calling, and which speech engine speaks.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Which text-to-speech engine speaks a briefing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// libespeak-ng, linked in: always available, robotic but clear.
    #[default]
    Espeak,
    /// An OpenAI-compatible `POST /v1/audio/speech` server.
    Openai,
    /// A Piper HTTP server (`POST /`, text in the body, WAV out).
    Piper,
}

impl EngineKind {
    /// The name used in configuration files and cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Espeak => "espeak",
            EngineKind::Openai => "openai",
            EngineKind::Piper => "piper",
        }
    }
}

/// The language a briefing is written and spoken in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Mandarin Chinese.
    Zh,
}

impl Language {
    /// `"en"` or `"zh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

/// The `[briefing]` section of `hotline.toml`. Every key is optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BriefingConfig {
    /// Who is calling, e.g. `"Example Corp operations"`.
    #[serde(deserialize_with = "non_empty_opt")]
    pub caller: Option<String>,
    /// A number the vendor can call back, e.g. `"+1 555 0100 999"`.
    #[serde(deserialize_with = "non_empty_opt")]
    pub callback: Option<String>,
    /// The default engine; a dialplan may choose another.
    pub engine: EngineKind,
    /// Base URL of the HTTP engine (`openai`, `piper`), e.g. `"http://127.0.0.1:5000"`.
    #[serde(deserialize_with = "non_empty_opt")]
    pub url: Option<String>,
    /// Voice name for the engine (espeak: an English voice such as `"en-us"`).
    #[serde(deserialize_with = "non_empty_opt")]
    pub voice: Option<String>,
    /// Model name sent to an OpenAI-compatible server (default `"tts-1"`).
    #[serde(deserialize_with = "non_empty_opt")]
    pub model: Option<String>,
    /// Name of the environment variable holding the HTTP engine's API key (never the key
    /// itself: keys do not belong in files).
    #[serde(deserialize_with = "non_empty_opt")]
    pub api_key_env: Option<String>,
    /// Longest an HTTP engine may take before espeak-ng is used instead.
    #[serde(deserialize_with = "super::positive_duration")]
    pub timeout: Duration,
}

impl Default for BriefingConfig {
    fn default() -> Self {
        Self {
            caller: None,
            callback: None,
            engine: EngineKind::Espeak,
            url: None,
            voice: None,
            model: None,
            api_key_env: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// An optional string that, when given, is not blank.
fn non_empty_opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    super::non_empty_string(deserializer).map(Some)
}
