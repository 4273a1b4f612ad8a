//! Office hours: when a contact (or a whole dialplan) may be called, in the site's time zone.
//!
//! Written `hours = "always"` (the default) or
//! `hours = { tz = "Europe/Berlin", windows = ["mon-fri 08:00-18:00", "sat 09:00-13:00"] }`.
//! A window whose end is before its start runs past midnight (`"daily 22:00-06:00"`); it
//! belongs to the day it starts on.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

/// When calls are allowed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Hours {
    #[default]
    Always,
    Windows {
        tz: Tz,
        windows: Vec<Window>,
    },
}

/// One recurring window: a set of weekdays and a time range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Bit i set = `Weekday::num_days_from_monday() == i`.
    days: u8,
    start: u32,
    /// Minutes after midnight; may be less than `start` (overnight) or 1440.
    end: u32,
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            toml::Value::String(w) if w == "always" => Ok(Hours::Always),
            toml::Value::Table(t) => {
                if let Some(k) = t.keys().find(|k| *k != "tz" && *k != "windows") {
                    return Err(D::Error::custom(format!(
                        "unknown field `{k}` in hours, expected `tz` or `windows`"
                    )));
                }
                let tz_name = t
                    .get("tz")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| D::Error::custom("hours need `tz`, e.g. \"Europe/Berlin\""))?;
                let tz: Tz = tz_name
                    .parse()
                    .map_err(|_| D::Error::custom(format!("unknown time zone \"{tz_name}\"")))?;
                let windows = t
                    .get("windows")
                    .and_then(|v| v.as_array())
                    .ok_or_else(|| D::Error::custom("hours need `windows`, a list of strings"))?;
                if windows.is_empty() {
                    return Err(D::Error::custom("hours need at least one window"));
                }
                let windows = windows
                    .iter()
                    .map(|w| {
                        w.as_str()
                            .ok_or_else(|| "a window is a string".to_string())
                            .and_then(Window::parse)
                            .map_err(D::Error::custom)
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Hours::Windows { tz, windows })
            }
            other => Err(D::Error::custom(format!(
                "bad hours {other}: use \"always\" or {{ tz = \"Area/City\", windows = [\"mon-fri 08:00-18:00\"] }}"
            ))),
        }
    }
}

fn weekday(s: &str) -> Option<u32> {
    Some(match s {
        "mon" => 0,
        "tue" => 1,
        "wed" => 2,
        "thu" => 3,
        "fri" => 4,
        "sat" => 5,
        "sun" => 6,
        _ => return None,
    })
}

fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl Window {
    /// Parses `"mon-fri 08:00-18:00"`, `"sat,sun 10:00-14:00"`, `"daily 00:00-24:00"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("bad window \"{text}\": use e.g. \"mon-fri 08:00-18:00\"");
        let (days_text, range) = text.trim().split_once(' ').ok_or_else(bad)?;
        let mut days = 0u8;
        if days_text == "daily" {
            days = 0x7f;
        } else {
            for part in days_text.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (weekday(a).ok_or_else(bad)?, weekday(b).ok_or_else(bad)?);
                        let mut d = a;
                        loop {
                            days |= 1 << d;
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => days |= 1 << weekday(part).ok_or_else(bad)?,
                }
            }
        }
        let (s, e) = range.trim().split_once('-').ok_or_else(bad)?;
        let (start, end) = (minutes(s).ok_or_else(bad)?, minutes(e).ok_or_else(bad)?);
        if start == end || start == 24 * 60 {
            return Err(bad());
        }
        Ok(Window { days, start, end })
    }

    fn contains(&self, day: Weekday, minute: u32) -> bool {
        let today = self.days & (1 << day.num_days_from_monday()) != 0;
        let yesterday = self.days & (1 << day.pred().num_days_from_monday()) != 0;
        if self.start < self.end {
            today && minute >= self.start && minute < self.end
        } else {
            (today && minute >= self.start) || (yesterday && minute < self.end)
        }
    }
}

impl Hours {
    /// Whether calls are allowed at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        match self {
            Hours::Always => true,
            Hours::Windows { tz, windows } => {
                let local = now.with_timezone(tz);
                let minute = local.hour() * 60 + local.minute();
                windows.iter().any(|w| w.contains(local.weekday(), minute))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn hours(tz: &str, w: &[&str]) -> Hours {
        Hours::Windows {
            tz: tz.parse().expect("tz"),
            windows: w
                .iter()
                .map(|w| Window::parse(w).expect("window"))
                .collect(),
        }
    }

    #[test]
    fn office_hours_in_the_site_time_zone() {
        let h = hours("Europe/Berlin", &["mon-fri 08:00-18:00"]);
        // Thu 2026-11-26 07:30 UTC = 08:30 CET: open.
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 11, 26, 7, 30, 0).unwrap()));
        // 17:30 UTC = 18:30 CET: closed.
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 11, 26, 17, 30, 0).unwrap()));
        // Saturday: closed.
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()));
        assert!(Hours::Always.is_open(Utc::now()));
    }

    #[test]
    fn overnight_and_wrapping_day_ranges() {
        let h = hours("UTC", &["fri-mon 22:00-06:00"]);
        // Saturday 23:00 and Tuesday 05:00 (from Monday night) are open; Tuesday 23:00 is not.
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 11, 28, 23, 0, 0).unwrap()));
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap()));
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap()));
    }

    #[test]
    fn bad_windows_are_rejected() {
        for w in [
            "",
            "mon",
            "mon 8-18",
            "xyz 08:00-18:00",
            "mon 25:00-26:00",
            "mon 08:00-08:00",
        ] {
            assert!(Window::parse(w).is_err(), "{w}");
        }
    }
}
