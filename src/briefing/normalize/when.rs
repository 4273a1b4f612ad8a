//! Dates, times and durations read out in words.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::numbers::{en_cardinal, en_ordinal, en_year, zh_cardinal, zh_year};
use crate::config::Language;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn en_weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn zh_weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

/// A date in words: "Thursday, November twenty-sixth, twenty twenty-six" or
/// "二零二六年十一月二十六日，星期四".
pub fn date(d: NaiveDate, lang: Language) -> String {
    match lang {
        Language::En => format!(
            "{}, {} {}, {}",
            en_weekday(d.weekday()),
            MONTHS[d.month0() as usize],
            en_ordinal(d.day() as u64),
            en_year(d.year())
        ),
        Language::Zh => format!(
            "{}年{}月{}日，{}",
            zh_year(d.year()),
            zh_cardinal(d.month() as u64),
            zh_cardinal(d.day() as u64),
            zh_weekday(d.weekday())
        ),
    }
}

/// A clock time in words: English on the 12-hour clock ("three twelve a.m.", "noon"),
/// Mandarin on the 24-hour clock ("十五点零五分").
pub fn time(hour: u32, minute: u32, lang: Language) -> String {
    match lang {
        Language::En => {
            match (hour, minute) {
                (0, 0) => return "midnight".into(),
                (12, 0) => return "noon".into(),
                _ => {}
            }
            let h12 = match hour % 12 {
                0 => 12,
                h => h,
            };
            let suffix = if hour < 12 { "a.m." } else { "p.m." };
            match minute {
                0 => format!("{} {suffix}", en_cardinal(h12 as u64)),
                1..10 => format!(
                    "{} oh {} {suffix}",
                    en_cardinal(h12 as u64),
                    en_cardinal(minute as u64)
                ),
                _ => format!(
                    "{} {} {suffix}",
                    en_cardinal(h12 as u64),
                    en_cardinal(minute as u64)
                ),
            }
        }
        Language::Zh => {
            let h = zh_cardinal(hour as u64);
            match minute {
                0 => format!("{h}点整"),
                1..10 => format!("{h}点零{}分", zh_cardinal(minute as u64)),
                _ => format!("{h}点{}分", zh_cardinal(minute as u64)),
            }
        }
    }
}

/// A UTC instant in words, with the date: "Thursday, …, at three twelve a.m. UTC".
pub fn instant_utc(at: DateTime<Utc>, lang: Language) -> String {
    let (d, t) = (
        date(at.date_naive(), lang),
        time(at.hour(), at.minute(), lang),
    );
    match lang {
        Language::En => format!("{d}, at {t} UTC"),
        Language::Zh => format!("UTC时间{d}，{t}"),
    }
}

/// The short form for the short briefing: "three twelve a.m. UTC on November twenty-sixth",
/// "UTC时间十一月二十六日三点十二分" (no weekday, no year).
pub fn since(at: DateTime<Utc>, lang: Language) -> String {
    let t = time(at.hour(), at.minute(), lang);
    match lang {
        Language::En => format!(
            "{t} UTC on {} {}",
            MONTHS[at.month0() as usize],
            en_ordinal(at.day() as u64)
        ),
        Language::Zh => format!(
            "UTC时间{}月{}日{t}",
            zh_cardinal(at.month() as u64),
            zh_cardinal(at.day() as u64)
        ),
    }
}

/// When a fault started: in UTC, and in the site's local time when `timezone` is a known
/// IANA name (the local date is said only when it differs from the UTC date).
pub fn started(at: DateTime<Utc>, timezone: Option<&str>, lang: Language) -> String {
    let utc = instant_utc(at, lang);
    let Some(tz) = timezone.and_then(|name| name.parse::<Tz>().ok()) else {
        return utc;
    };
    let local = at.with_timezone(&tz);
    let mut local_words = time(local.hour(), local.minute(), lang);
    if local.date_naive() != at.date_naive() {
        local_words = match lang {
            Language::En => format!("{}, {local_words}", date(local.date_naive(), lang)),
            Language::Zh => format!("{}，{local_words}", date(local.date_naive(), lang)),
        };
    }
    match lang {
        Language::En => format!("{utc}; that is {local_words} site local time"),
        Language::Zh => format!("{utc}；当地时间{local_words}"),
    }
}

/// Units of a written duration, largest first: (suffix, English singular, plural, Mandarin).
const DURATION_UNITS: [(&str, &str, &str, &str); 6] = [
    ("d", "day", "days", "天"),
    ("h", "hour", "hours", "小时"),
    ("min", "minute", "minutes", "分钟"),
    ("m", "minute", "minutes", "分钟"),
    ("s", "second", "seconds", "秒"),
    ("ms", "millisecond", "milliseconds", "毫秒"),
];

/// A written duration such as `"2h30m"`, `"15m"`, `"90s"` or `"250ms"` in words
/// ("two hours and thirty minutes", "两小时三十分钟"); `None` if `word` is not one.
pub fn duration(word: &str, lang: Language) -> Option<String> {
    let mut parts = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 9 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_lowercase())
                .len();
        let (unit, after) = after.split_at(letters);
        let (_, one, many, zh) = DURATION_UNITS.iter().find(|u| u.0 == unit)?;
        // At most nine digits, so the parse cannot overflow.
        let n: u64 = number.parse().ok()?;
        parts.push(match lang {
            Language::En => format!("{} {}", en_cardinal(n), if n == 1 { one } else { many }),
            Language::Zh if n == 2 => format!("两{zh}"),
            Language::Zh => format!("{}{zh}", zh_cardinal(n)),
        });
        rest = after;
    }
    match lang {
        Language::En => Some(match parts.len() {
            0 => return None,
            1 => parts.remove(0),
            _ => {
                let last = parts.pop().unwrap_or_default();
                format!("{} and {last}", parts.join(", "))
            }
        }),
        Language::Zh => (!parts.is_empty()).then(|| parts.concat()),
    }
}
