//! A dialplan's optional `[briefing]` table: language, template, engine and repeats.
//!
//! ```toml
//! [briefing]
//! language = "zh"          # "en" (default) or "zh"
//! engine = "piper"         # overrides hotline.toml [briefing] engine
//! repeats = 1              # times the briefing is repeated while the line stays silent (0-5)
//! repeat_on_star = true    # "*" pressed by the far end repeats it
//! template = """
//! This is {caller}. Contract {contract}.
//! Asset {tag}, serial {serial}: {summary}.
//! """
//! ```
//!
//! A template is plain text with `{field}` placeholders (names in [`TEMPLATE_FIELDS`], or
//! `{label:NAME}` for an incident label). Each line is one unit: a line with a placeholder
//! that has no value for this incident is left out whole, so templates never say "serial
//! unknown". `{{` and `}}` stand for literal braces.

use serde::{Deserialize, Deserializer};

use crate::config::{EngineKind, Language};

/// Most repeats a dialplan may ask for.
pub const MAX_REPEATS: u8 = 5;

/// Placeholder names a template may use (besides `label:NAME`).
pub const TEMPLATE_FIELDS: &[&str] = &[
    "caller",
    "callback",
    "contract",
    "tag",
    "serial",
    "vendor",
    "model",
    "os",
    "location",
    "site",
    "room",
    "rack",
    "unit",
    "instance_id",
    "region",
    "summary",
    "severity",
    "started",
    "since",
    "timeline",
    "last_change",
    "pattern",
    "impact",
    "loss_per_minute",
    "tried",
    "request",
    "details",
    "key_ids",
    "id",
];

/// The `[briefing]` table of a dialplan, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanBriefing {
    /// Language of the briefing.
    pub language: Language,
    /// Replaces the default template.
    pub template: Option<BriefingTemplate>,
    /// Replaces `hotline.toml`'s engine for this vendor.
    pub engine: Option<EngineKind>,
    /// Times the briefing is repeated while the far end stays silent (read by the call core).
    #[serde(deserialize_with = "repeats")]
    pub repeats: u8,
    /// Whether `*` from the far end repeats the briefing (read by the call core).
    pub repeat_on_star: bool,
}

impl Default for PlanBriefing {
    fn default() -> Self {
        Self {
            language: Language::En,
            template: None,
            engine: None,
            repeats: 1,
            repeat_on_star: true,
        }
    }
}

fn repeats<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    let n = i64::deserialize(deserializer)?;
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_REPEATS)
        .ok_or_else(|| {
            serde::de::Error::custom(format!("repeats must be 0 to {MAX_REPEATS}, got {n}"))
        })
}

/// One piece of a parsed template line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A field from [`TEMPLATE_FIELDS`].
    Field(String),
    /// `{label:NAME}`: an incident label.
    Label(String),
}

/// A checked briefing template: lines of pieces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct BriefingTemplate {
    /// Non-blank lines, in order.
    pub lines: Vec<Vec<Piece>>,
}

impl TryFrom<String> for BriefingTemplate {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        BriefingTemplate::parse(&text)
    }
}

impl BriefingTemplate {
    /// Parses `text`; errors name the bad placeholder.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut lines = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            lines.push(parse_line(line).map_err(|e| format!("template line {}: {e}", n + 1))?);
        }
        if lines.is_empty() {
            return Err("template must not be empty".into());
        }
        Ok(Self { lines })
    }
}

fn parse_line(line: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err("unmatched \"}\" (write \"}}\" for a brace)".into()),
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("unclosed \"{\" (write \"{{\" for a brace)".into()),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(placeholder(name.trim())?);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn placeholder(name: &str) -> Result<Piece, String> {
    if let Some(label) = name.strip_prefix("label:") {
        if label.is_empty() {
            return Err("empty label name in {label:}".into());
        }
        return Ok(Piece::Label(label.to_string()));
    }
    if TEMPLATE_FIELDS.contains(&name) {
        Ok(Piece::Field(name.to_string()))
    } else {
        Err(format!(
            "unknown placeholder {{{name}}} (use one of {} or label:NAME)",
            TEMPLATE_FIELDS.join(", ")
        ))
    }
}
