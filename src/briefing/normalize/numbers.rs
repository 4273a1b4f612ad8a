//! Numbers as words: English cardinals, ordinals and years; Mandarin cardinals and digits.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Mandarin digits as in quantities (一 for 1).
pub(crate) const ZH_DIGITS: [&str; 10] =
    ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
/// Mandarin digits as read in identifiers and phone numbers (幺 for 1).
pub(crate) const ZH_ID_DIGITS: [&str; 10] =
    ["零", "幺", "二", "三", "四", "五", "六", "七", "八", "九"];

/// `n` in English words: 21 -> "twenty-one", 1200 -> "one thousand two hundred".
pub fn en_cardinal(n: u64) -> String {
    match n {
        0..20 => ONES[n as usize].to_string(),
        20..100 => {
            let tens = TENS[(n / 10) as usize];
            match n % 10 {
                0 => tens.to_string(),
                ones => format!("{tens}-{}", ONES[ones as usize]),
            }
        }
        100..1000 => with_rest(format!("{} hundred", ONES[(n / 100) as usize]), n % 100),
        _ => {
            let scales = [
                (1_000_000_000_000, "trillion"),
                (1_000_000_000, "billion"),
                (1_000_000, "million"),
                (1_000, "thousand"),
            ];
            // n >= 1000 here, so one scale always matches.
            let (div, name) = scales
                .into_iter()
                .find(|(div, _)| n >= *div)
                .unwrap_or((1_000, "thousand"));
            with_rest(format!("{} {name}", en_cardinal(n / div)), n % div)
        }
    }
}

fn with_rest(head: String, rest: u64) -> String {
    if rest == 0 {
        head
    } else {
        format!("{head} {}", en_cardinal(rest))
    }
}

/// `n` as an English ordinal: 2 -> "second", 23 -> "twenty-third".
pub fn en_ordinal(n: u64) -> String {
    let cardinal = en_cardinal(n);
    let split = cardinal.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = cardinal.split_at(split);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".to_string(),
        "three" => "third".to_string(),
        "five" => "fifth".to_string(),
        "eight" => "eighth".to_string(),
        "nine" => "ninth".to_string(),
        "twelve" => "twelfth".to_string(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// A year as English speakers read it: 2026 -> "twenty twenty-six", 2005 -> "two thousand five".
pub fn en_year(year: i32) -> String {
    let y = year.unsigned_abs() as u64;
    if !(1100..10_000).contains(&y) || (2000..2010).contains(&y) {
        return en_cardinal(y);
    }
    let (high, low) = (y / 100, y % 100);
    match low {
        0 => format!("{} hundred", en_cardinal(high)),
        1..10 => format!("{} oh {}", en_cardinal(high), ONES[low as usize]),
        _ => format!("{} {}", en_cardinal(high), en_cardinal(low)),
    }
}

/// `n` in Mandarin: 2026 -> "二千零二十六", 15 -> "十五", 100000 -> "十万".
pub fn zh_cardinal(n: u64) -> String {
    if n == 0 {
        return ZH_DIGITS[0].to_string();
    }
    let mut out = String::new();
    let high = n / 100_000_000;
    if high > 0 {
        out.push_str(&zh_cardinal(high));
        out.push('亿');
    }
    let mut gap = false;
    for (part, unit) in [((n / 10_000) % 10_000, "万"), (n % 10_000, "")] {
        if part == 0 {
            gap |= !out.is_empty();
            continue;
        }
        if !out.is_empty() && (part < 1000 || gap) {
            out.push('零');
        }
        let leading = out.is_empty();
        zh_section(part, leading, &mut out);
        out.push_str(unit);
        gap = false;
    }
    out
}

/// Writes 1..=9999 in Mandarin; `leading` drops the 一 of a leading 十 (十五, not 一十五).
fn zh_section(n: u64, leading: bool, out: &mut String) {
    let digits = [n / 1000, (n / 100) % 10, (n / 10) % 10, n % 10];
    let units = ["千", "百", "十", ""];
    let mut started = false;
    let mut zero = false;
    for (i, d) in digits.into_iter().enumerate() {
        if d == 0 {
            zero |= started;
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        if !(d == 1 && i == 2 && !started && leading) {
            out.push_str(ZH_DIGITS[d as usize]);
        }
        out.push_str(units[i]);
        started = true;
    }
}

/// A year digit by digit, as Mandarin reads it: 2026 -> "二零二六".
pub fn zh_year(year: i32) -> String {
    year.unsigned_abs()
        .to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ZH_DIGITS[d as usize])
        .collect()
}
