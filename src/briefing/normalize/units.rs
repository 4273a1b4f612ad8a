//! Units after a number, expanded to words.

use crate::config::Language;

/// (written, English singular, English plural, Mandarin). Matched case-sensitively, so
/// "Gb" (gigabit) and "GB" (gigabyte) stay apart.
const UNITS: &[(&str, &str, &str, &str)] = &[
    ("B", "byte", "bytes", "字节"),
    ("KB", "kilobyte", "kilobytes", "千字节"),
    ("kB", "kilobyte", "kilobytes", "千字节"),
    ("MB", "megabyte", "megabytes", "兆字节"),
    ("GB", "gigabyte", "gigabytes", "吉字节"),
    ("TB", "terabyte", "terabytes", "太字节"),
    ("PB", "petabyte", "petabytes", "拍字节"),
    ("KiB", "kibibyte", "kibibytes", "千字节"),
    ("MiB", "mebibyte", "mebibytes", "兆字节"),
    ("GiB", "gibibyte", "gibibytes", "吉字节"),
    ("TiB", "tebibyte", "tebibytes", "太字节"),
    ("Mb", "megabit", "megabits", "兆比特"),
    ("Gb", "gigabit", "gigabits", "吉比特"),
    (
        "Mbps",
        "megabit per second",
        "megabits per second",
        "兆比特每秒",
    ),
    (
        "Mbit/s",
        "megabit per second",
        "megabits per second",
        "兆比特每秒",
    ),
    (
        "Gbps",
        "gigabit per second",
        "gigabits per second",
        "吉比特每秒",
    ),
    (
        "Gbit/s",
        "gigabit per second",
        "gigabits per second",
        "吉比特每秒",
    ),
    ("ns", "nanosecond", "nanoseconds", "纳秒"),
    ("us", "microsecond", "microseconds", "微秒"),
    ("µs", "microsecond", "microseconds", "微秒"),
    ("ms", "millisecond", "milliseconds", "毫秒"),
    ("s", "second", "seconds", "秒"),
    ("sec", "second", "seconds", "秒"),
    ("min", "minute", "minutes", "分钟"),
    ("h", "hour", "hours", "小时"),
    ("°C", "degree Celsius", "degrees Celsius", "摄氏度"),
    ("C", "degree Celsius", "degrees Celsius", "摄氏度"),
    ("°F", "degree Fahrenheit", "degrees Fahrenheit", "华氏度"),
    ("W", "watt", "watts", "瓦"),
    ("kW", "kilowatt", "kilowatts", "千瓦"),
    ("V", "volt", "volts", "伏"),
    ("A", "ampere", "amperes", "安"),
    ("Hz", "hertz", "hertz", "赫兹"),
    ("kHz", "kilohertz", "kilohertz", "千赫"),
    ("MHz", "megahertz", "megahertz", "兆赫"),
    ("GHz", "gigahertz", "gigahertz", "吉赫"),
    ("rpm", "RPM", "RPM", "转每分钟"),
    ("RPM", "RPM", "RPM", "转每分钟"),
    ("IOPS", "I O P S", "I O P S", "IOPS"),
];

/// `number` (already in words) followed by `unit` in words; `None` for an unknown unit.
/// `one` says whether the number is exactly 1 (for the English singular).
pub fn with_unit(number: &str, one: bool, unit: &str, lang: Language) -> Option<String> {
    if unit == "%" {
        return Some(match lang {
            Language::En => format!("{number} percent"),
            Language::Zh => format!("百分之{number}"),
        });
    }
    let (_, singular, plural, zh) = UNITS.iter().find(|u| u.0 == unit)?;
    Some(match lang {
        Language::En => format!("{number} {}", if one { singular } else { plural }),
        Language::Zh => format!("{number}{zh}"),
    })
}

/// Whether `word` is a unit this module expands (for a unit written after a space).
pub fn is_unit(word: &str) -> bool {
    word == "%" || UNITS.iter().any(|u| u.0 == word && u.0.len() > 1)
}
