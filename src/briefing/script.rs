//! Splitting text into Han and Latin runs, and SSML for espeak-ng with one `<voice>` per run.
//!
//! Debian's espeak-ng 1.51 `cmn` voice misreads many hanzi (it falls back to English for
//! characters missing from its dictionary); `cmn-latn-pinyin` reads them right but reads
//! Latin letters as pinyin. So every Han run gets `cmn-latn-pinyin` and every Latin run an
//! English voice, each in its own `<voice>` element.

use crate::config::Language;

/// The writing system of a run of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Chinese characters and CJK punctuation.
    Han,
    /// Everything else a Latin voice reads (letters, and digits/punctuation next to them).
    Latin,
}

/// The espeak-ng voice for Han runs.
pub const HAN_VOICE: &str = "cmn-latn-pinyin";
/// The default espeak-ng voice for Latin runs.
pub const LATIN_VOICE: &str = "en-us";

fn script_of(c: char) -> Option<Script> {
    match c as u32 {
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x3000..=0x303F | 0xFF01..=0xFF60 => {
            Some(Script::Han)
        }
        _ if c.is_alphabetic() => Some(Script::Latin),
        _ => None,
    }
}

/// Splits `text` into runs by script. Digits, spaces and ASCII punctuation join the run
/// they are in (or the next run, at the start); text with no letters at all is one run in
/// the script of `lang`.
pub fn runs(text: &str, lang: Language) -> Vec<(Script, String)> {
    let mut out: Vec<(Script, String)> = Vec::new();
    let mut pending = String::new();
    for c in text.chars() {
        match script_of(c) {
            None => match out.last_mut() {
                Some((_, run)) => run.push(c),
                None => pending.push(c),
            },
            Some(script) => match out.last_mut() {
                Some((s, run)) if *s == script => run.push(c),
                _ => {
                    let mut run = std::mem::take(&mut pending);
                    run.push(c);
                    out.push((script, run));
                }
            },
        }
    }
    if !pending.is_empty() {
        let script = match lang {
            Language::En => Script::Latin,
            Language::Zh => Script::Han,
        };
        out.push((script, pending));
    }
    out
}

/// SSML for espeak-ng: each line's runs in `<voice>` elements, a short break between lines.
pub fn ssml(text: &str, lang: Language, latin_voice: &str) -> String {
    let mut out = String::from("<speak>");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        for (script, run) in runs(line, lang) {
            let voice = match script {
                Script::Han => HAN_VOICE,
                Script::Latin => latin_voice,
            };
            out.push_str(&format!("<voice name=\"{}\">", escape(voice)));
            out.push_str(&escape(&run));
            out.push_str("</voice>");
        }
        out.push_str("<break time=\"300ms\"/>");
    }
    out.push_str("</speak>");
    out
}

/// Escapes text for XML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
