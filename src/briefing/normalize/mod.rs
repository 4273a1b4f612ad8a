//! Text made safe and clear to speak over a phone line.
//!
//! Rules, in the order they are tried on each word of free text:
//! - **Secrets are dropped**: a word that looks like a credential ([`is_secret_value`]:
//!   JWTs, `sk-…`/`ghp_…`-style keys, long random-looking or hex/base64 runs,
//!   `user:pass@` URLs, `password=…`), and after a key word ending in `:` or `=`
//!   (`password:`, `token=`, `Authorization:`) the value that follows, and after
//!   `Bearer`/`Basic` the next word.
//! - **URLs** are read as their host only (path, query, port and fragment dropped).
//!   **Host names** (two dots or more, alphabetic top-level label) are read label by label
//!   with "dot" / "点"; pronounceable labels as words, others spelled.
//! - **Times and dates** (RFC 3339 timestamps, `YYYY-MM-DD`, `H:MM`, `HH:MM:SS`) are read in
//!   words. Other colon-separated numbers (`0:1:3`, `3:4`) are identifiers, and so is any
//!   of them right after a component word (`disk 0:01:03`, `ports 12:30`, `slot 1:10`):
//!   spelled, never read as a time of day.
//! - **Durations** (`15m`, `2h30m`, `90s`, `250ms`) and **numbers with units**
//!   (`500GB`, `95%`, `70°C`, `2 TB`, signed: `+40%`, `-3°C`) are read in words.
//! - **Numbers** are read as numbers in words; a number with a leading zero or of seven
//!   digits or more, IP addresses and dotted versions are read digit by digit.
//! - **Identifiers** (words mixing letters and digits, such as `AT-004711` or `CHG-88121`)
//!   are spelled with [`spell`]: NATO alphabet and digit words in English; Latin letters and
//!   digits with 幺 for 1 in Mandarin; groups parted by commas.
//! - Anything else is kept as written.

mod numbers;
mod secrets;
mod spell;
#[cfg(test)]
mod tests;
mod units;
mod when;

pub use numbers::{en_cardinal, en_ordinal, en_year, zh_cardinal, zh_year};
pub use secrets::{is_secret_key, is_secret_value};
pub use spell::{NATO, spell};
pub use when::{date, duration, instant_utc, since, started, time};

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};

use crate::config::Language;
use numbers::ZH_DIGITS;

/// Free text (a summary, an impact, what was tried) normalized for speaking in `lang`.
pub fn normalize(text: &str, lang: Language) -> String {
    // The intake masked secrets already; masking again keeps text from elsewhere (a
    // template, a dialplan variable) just as safe. A masked word is never spoken.
    let text = crate::incident::redact_text(text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (lead, core, trail) = split_punct(words[i]);
        let after_component = i > 0 && is_component(split_punct(words[i - 1]).1);
        i += 1;
        if core.contains(crate::incident::REDACTED) || is_secret_value(core) {
            continue;
        }
        let bare = core.trim_end_matches([':', '=']);
        let lower = bare.to_ascii_lowercase();
        if (bare.len() < core.len() || trail.starts_with([':', '：'])) && is_secret_key(&lower) {
            // `password: value`: drop the value too, and a scheme word before it.
            if words
                .get(i)
                .is_some_and(|w| is_auth_scheme(split_punct(w).1))
            {
                i += 1;
            }
            i += 1;
            continue;
        }
        if is_auth_scheme(core) {
            i += 1;
            continue;
        }
        let (sign, unsigned) = split_sign(core, lang);
        if let Some((number, one)) = number_words(unsigned, lang)
            && lead.is_empty()
            && trail.is_empty()
            && let Some(next) = words.get(i)
        {
            let (_, unit, next_trail) = split_punct(next);
            if units::is_unit(unit)
                && let Some(spoken) = units::with_unit(&number, one, unit, lang)
            {
                out.push(format!("{sign}{spoken}{next_trail}"));
                i += 1;
                continue;
            }
        }
        let spoken = if after_component && core.contains(':') {
            mixed(core, lang)
        } else {
            word(core, lang)
        };
        if !spoken.is_empty() || !trail.is_empty() {
            out.push(format!("{lead}{spoken}{trail}"));
        }
    }
    out.join(" ")
}

/// Words naming a hardware component, after which `0:1:3` or `12:30` is its address.
const COMPONENTS: &[&str] = &[
    "adapter",
    "bay",
    "bus",
    "channel",
    "connector",
    "controller",
    "device",
    "dimm",
    "disk",
    "drive",
    "enclosure",
    "interface",
    "lun",
    "member",
    "path",
    "pd",
    "port",
    "slot",
    "socket",
    "target",
    "vd",
    "磁盘",
    "硬盘",
    "端口",
    "槽位",
];

fn is_component(word: &str) -> bool {
    let lower = word.to_lowercase();
    let one = lower.strip_suffix('s').unwrap_or(&lower);
    COMPONENTS.contains(&lower.as_str()) || COMPONENTS.contains(&one)
}

/// A time of day as written in text: `H:MM` or `HH:MM:SS` (two-digit minutes and seconds),
/// optionally with `Z`. `0:1:3` and `3:4` are not.
fn is_clock(word: &str) -> bool {
    let mut parts = word.trim_end_matches('Z').split(':');
    let digits = |p: Option<&str>, lens: &[usize]| {
        p.is_some_and(|p| lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
    };
    let (h, m, s) = (parts.next(), parts.next(), parts.next());
    digits(h, &[1, 2])
        && digits(m, &[2])
        && (s.is_none() || digits(s, &[2]))
        && parts.next().is_none()
}

fn is_auth_scheme(word: &str) -> bool {
    ["bearer", "basic", "token"].contains(&word.to_ascii_lowercase().as_str())
}

/// Splits leading and trailing punctuation off a word: `"(disk,"` -> `("(", "disk", ",")`.
fn split_punct(word: &str) -> (&str, &str, &str) {
    let lead_len = word.len()
        - word
            .trim_start_matches(['(', '[', '"', '\'', '“', '「'])
            .len();
    let (lead, rest) = word.split_at(lead_len);
    let core_len = rest
        .trim_end_matches([
            ',', '.', ';', ':', '!', '?', ')', ']', '"', '\'', '，', '。', '；', '：', '”', '」',
        ])
        .len();
    let (core, trail) = rest.split_at(core_len);
    (lead, core, trail)
}

/// One word of free text, spoken.
fn word(core: &str, lang: Language) -> String {
    if core.is_empty() {
        return String::new();
    }
    if let Some((_, rest)) = core.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = strip_port(host);
        return if host.is_empty() {
            String::new()
        } else {
            hostname(host, lang)
        };
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(core) {
        return instant_utc(at.with_timezone(&Utc), lang);
    }
    if let Ok(d) = NaiveDate::parse_from_str(core, "%Y-%m-%d") {
        return date(d, lang);
    }
    let clock = core.trim_end_matches('Z');
    if core.contains(':')
        && is_clock(core)
        && let Some(t) = ["%H:%M", "%H:%M:%S"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(clock, f).ok())
    {
        let t = time(t.hour(), t.minute(), lang);
        return if core.ends_with('Z') {
            match lang {
                Language::En => format!("{t} UTC"),
                Language::Zh => format!("UTC{t}"),
            }
        } else {
            t
        };
    }
    if let Some(words) = duration(core, lang) {
        return words;
    }
    if let Some(spoken) = number_with_unit(core, lang) {
        return spoken;
    }
    if let Some((words, _)) = number_words(core, lang) {
        return words;
    }
    if let Some((local, host)) = core.split_once('@')
        && is_hostname(host, 2)
    {
        let at = match lang {
            Language::En => "at",
            Language::Zh => "艾特",
        };
        return format!("{} {at} {}", mixed(local, lang), hostname(host, lang));
    }
    let host = strip_port(core);
    if is_hostname(host, 3) {
        return hostname(host, lang);
    }
    let has_digit = core.chars().any(|c| c.is_ascii_digit());
    if has_digit && core.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return spell(core, lang);
    }
    if has_digit && core.chars().any(|c| c.is_ascii_alphanumeric()) && core.is_ascii() {
        return mixed(core, lang);
    }
    currency(core, lang).map_or_else(|| core.to_string(), str::to_string)
}

/// ISO currency codes in words.
fn currency(code: &str, lang: Language) -> Option<&'static str> {
    let (en, zh) = match code {
        "EUR" => ("euros", "欧元"),
        "USD" => ("US dollars", "美元"),
        "GBP" => ("pounds sterling", "英镑"),
        "CNY" | "RMB" => ("yuan", "人民币"),
        "JPY" => ("yen", "日元"),
        "CHF" => ("Swiss francs", "瑞士法郎"),
        _ => return None,
    };
    Some(match lang {
        Language::En => en,
        Language::Zh => zh,
    })
}

/// `host:port` -> `host`.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// At least `min_labels` labels of letters, digits and `-`, a top-level label of letters.
fn is_hostname(word: &str, min_labels: usize) -> bool {
    let labels: Vec<&str> = word.split('.').collect();
    labels.len() >= min_labels
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

/// A host name label by label: "db-prod-07.example.net" -> "Delta Bravo, dash, prod, …".
fn hostname(host: &str, lang: Language) -> String {
    let dot = match lang {
        Language::En => "dot",
        Language::Zh => "点",
    };
    let sep = spell::pause(lang);
    host.split('.')
        .map(|label| mixed(label, lang))
        .collect::<Vec<_>>()
        .join(&format!("{sep}{dot}{sep}"))
}

/// A word of letters, digits and separators: pronounceable letter runs kept as words,
/// other letter runs and all digits spelled.
fn mixed(word: &str, lang: Language) -> String {
    let mut groups: Vec<String> = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        let next = chars.get(n + 1).map(|&(_, c)| c);
        let same = |a: char, b: char| {
            (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
                || (a.is_ascii_digit() && b.is_ascii_digit())
        };
        if next.is_some_and(|d| same(c, d)) {
            continue;
        }
        let end = i + c.len_utf8();
        let run = &word[start..end];
        start = end;
        if run.chars().all(|c| c.is_ascii_alphabetic()) && pronounceable(run) {
            groups.push(run.to_string());
        } else {
            let spelled = spell(run, lang);
            if !spelled.is_empty() {
                groups.push(spelled);
            }
        }
    }
    groups.join(spell::pause(lang))
}

/// Letters a voice can say as a word: three or more with a vowel, not a short all-caps
/// abbreviation.
fn pronounceable(run: &str) -> bool {
    run.len() >= 3
        && run.chars().any(|c| "aeiouyAEIOUY".contains(c))
        && (run.len() >= 4 || run.chars().any(|c| c.is_ascii_lowercase()))
}

/// A plain number in words and whether it is exactly one: `3`, `2,000`, `1.5`. `None` for
/// other words and for numbers read digit by digit (leading zero, seven digits or more).
fn number_words(word: &str, lang: Language) -> Option<(String, bool)> {
    let (int, frac) = match word.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (word, None),
    };
    let grouped = int.contains(',');
    if grouped {
        let mut groups = int.split(',');
        let first = groups.next()?;
        if first.is_empty() || first.len() > 3 || groups.any(|g| g.len() != 3) {
            return None;
        }
    }
    let digits: String = int.chars().filter(|&c| c != ',').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if (!grouped && digits.len() >= 7) || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    if frac.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let mut words = match lang {
        Language::En => en_cardinal(n),
        Language::Zh => zh_cardinal(n),
    };
    if let Some(frac) = frac {
        let digits = frac.chars().filter_map(|c| c.to_digit(10));
        match lang {
            Language::En => {
                words.push_str(" point");
                for d in digits {
                    words.push(' ');
                    words.push_str(&en_cardinal(d as u64));
                }
            }
            Language::Zh => {
                words.push('点');
                words.extend(digits.map(|d| ZH_DIGITS[d as usize]));
            }
        }
    }
    Some((words, n == 1 && frac.is_none()))
}

/// A leading `+` / `-` in words, and the rest: `+40%` -> ("plus ", "40%").
fn split_sign(word: &str, lang: Language) -> (&'static str, &str) {
    let sign = match (word.chars().next(), lang) {
        (Some('+'), Language::En) => "plus ",
        (Some('+'), Language::Zh) => "正",
        (Some('-' | '−'), Language::En) => "minus ",
        (Some('-' | '−'), Language::Zh) => "负",
        _ => return ("", word),
    };
    (sign, &word[word.chars().next().map_or(0, char::len_utf8)..])
}

/// A number with its unit attached: `500GB`, `95%`, `1.5TB`, `70°C`, signed `+40%`.
fn number_with_unit(word: &str, lang: Language) -> Option<String> {
    let (sign, rest) = split_sign(word, lang);
    unsigned_with_unit(rest, lang).map(|w| format!("{sign}{w}"))
}

fn unsigned_with_unit(word: &str, lang: Language) -> Option<String> {
    let split = word.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
    if split == 0 {
        return None;
    }
    let (number, unit) = word.split_at(split);
    let (words, one) = number_words(number, lang)?;
    units::with_unit(&words, one, unit, lang)
}
