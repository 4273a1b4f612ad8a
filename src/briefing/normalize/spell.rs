//! Identifiers spoken one character at a time, in groups with short pauses between them.

use super::numbers::ZH_ID_DIGITS;
use crate::config::Language;

/// The ICAO/NATO spelling alphabet, in the spelling text-to-speech engines pronounce best
/// ("Alpha", "Juliet" rather than ICAO's "Alfa", "Juliett").
pub const NATO: [&str; 26] = [
    "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
    "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
    "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
];

const EN_DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Longest run of letters and digits read as one group; longer runs are cut in threes.
const MAX_GROUP: usize = 4;

/// How a separator inside an identifier is spoken, or `None` if it only separates groups.
fn separator(c: char, lang: Language) -> Option<&'static str> {
    let (en, zh) = match c {
        '-' => ("dash", "杠"),
        '/' => ("slash", "斜杠"),
        '.' => ("dot", "点"),
        ':' => ("colon", "冒号"),
        '_' => ("underscore", "下划线"),
        '+' => ("plus", "加"),
        '#' => ("hash", "井号"),
        '@' => ("at", "艾特"),
        _ => return None,
    };
    Some(match lang {
        Language::En => en,
        Language::Zh => zh,
    })
}

/// One letter or digit as spoken in an identifier.
fn character(c: char, lang: Language) -> String {
    match (lang, c) {
        (Language::En, 'a'..='z' | 'A'..='Z') => {
            NATO[(c.to_ascii_uppercase() as u8 - b'A') as usize].to_string()
        }
        (Language::En, '0'..='9') => EN_DIGITS[(c as u8 - b'0') as usize].to_string(),
        (Language::Zh, '0'..='9') => ZH_ID_DIGITS[(c as u8 - b'0') as usize].to_string(),
        (Language::Zh, 'a'..='z' | 'A'..='Z') => c.to_ascii_uppercase().to_string(),
        _ => c.to_string(),
    }
}

/// The group separator: a comma, which every engine reads as a short pause.
pub(crate) fn pause(lang: Language) -> &'static str {
    match lang {
        Language::En => ", ",
        Language::Zh => "，",
    }
}

/// Spells `id` one character at a time: letters with the NATO alphabet (English) or as
/// Latin letters (Mandarin), digits as words (幺 for 1 in Mandarin), separators named
/// ("dash", "杠"), groups of at most four characters parted by commas.
///
/// `"AT-0047"` -> `"Alpha Tango, dash, zero zero four seven"`.
pub fn spell(id: &str, lang: Language) -> String {
    let mut groups: Vec<String> = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, groups: &mut Vec<String>| {
        for chunk in chunks(run) {
            let mut group = String::new();
            for (i, &c) in chunk.iter().enumerate() {
                // Mandarin digits run together; every other pair is parted by a space.
                let both_digits = lang == Language::Zh
                    && c.is_ascii_digit()
                    && i > 0
                    && chunk[i - 1].is_ascii_digit();
                if i > 0 && !both_digits {
                    group.push(' ');
                }
                group.push_str(&character(c, lang));
            }
            groups.push(group);
        }
        run.clear();
    };
    for c in id.chars() {
        if c.is_alphanumeric() {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut groups);
        if let Some(word) = separator(c, lang) {
            groups.push(word.to_string());
        }
    }
    flush(&mut run, &mut groups);
    groups.join(pause(lang))
}

/// Cuts a run into groups: whole when short, else threes with no group of one at the end.
fn chunks(run: &[char]) -> Vec<&[char]> {
    if run.len() <= MAX_GROUP {
        return if run.is_empty() { vec![] } else { vec![run] };
    }
    let mut out: Vec<&[char]> = run.chunks(3).collect();
    if out.last().is_some_and(|c| c.len() == 1) && out.len() >= 2 {
        let n = out.len();
        let start = run.len() - 4;
        out.truncate(n - 2);
        out.push(&run[start..]);
    }
    out
}
