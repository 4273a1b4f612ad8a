//! Office hours: when a contact (or a whole dialplan) may be called, in the site's time zone.
//!
//! Written `hours = "always"` (the default) or
//! `hours = { tz = "Europe/Berlin", windows = ["mon-fri 08:00-18:00", "sat 09:00-13:00"] }`.
//! A window whose end is before its start runs past midnight (`"daily 22:00-06:00"`); it
//! belongs to the day it starts on.
//!
//! Public holidays close a contact for the whole local day (a window that starts on a holiday
//! does not open): `holidays = ["2026-12-25", "2027-01-01"]` inside the hours table, or
//! `holidays = "holidays/cn.txt"`, a file of one `YYYY-MM-DD` per line (`#` comments), relative
//! to the dialplan file and read when the dialplan loads ([`Hours::load_holidays`]).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// When calls are allowed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Hours {
    #[default]
    Always,
    Windows {
        tz: Tz,
        windows: Vec<Window>,
        holidays: Holidays,
    },
}

/// Local dates on which a contact is closed all day.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Holidays {
    pub days: BTreeSet<NaiveDate>,
    /// A holiday file still to read (relative to the dialplan file).
    pub file: Option<PathBuf>,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("bad holiday \"{}\": use YYYY-MM-DD", text.trim()))
}

impl Holidays {
    fn from_toml(v: &toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::String(path) => Ok(Holidays {
                days: BTreeSet::new(),
                file: Some(PathBuf::from(path)),
            }),
            toml::Value::Array(days) => Ok(Holidays {
                days: days
                    .iter()
                    .map(|d| {
                        d.as_str()
                            .ok_or_else(|| "a holiday is a \"YYYY-MM-DD\" string".to_string())
                            .and_then(parse_date)
                    })
                    .collect::<Result<_, _>>()?,
                file: None,
            }),
            _ => Err(
                "holidays are a list of \"YYYY-MM-DD\" dates or the path of a file of them".into(),
            ),
        }
    }
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
                if let Some(k) = t
                    .keys()
                    .find(|k| !["tz", "windows", "holidays"].contains(&k.as_str()))
                {
                    return Err(D::Error::custom(format!(
                        "unknown field `{k}` in hours, expected `tz`, `windows` or `holidays`"
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
                let holidays = match t.get("holidays") {
                    Some(v) => Holidays::from_toml(v).map_err(D::Error::custom)?,
                    None => Holidays::default(),
                };
                Ok(Hours::Windows {
                    tz,
                    windows,
                    holidays,
                })
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

    /// Whether the window covers `minute` of `date`, counting only windows that start on a
    /// day for which `open_day` says yes (holidays are closed).
    fn contains(&self, date: NaiveDate, minute: u32, open_day: impl Fn(NaiveDate) -> bool) -> bool {
        let on = |d: NaiveDate| self.days & (1 << d.weekday().num_days_from_monday()) != 0;
        let yesterday = date.pred_opt().unwrap_or(date);
        if self.start < self.end {
            on(date) && open_day(date) && minute >= self.start && minute < self.end
        } else {
            (on(date) && open_day(date) && minute >= self.start)
                || (on(yesterday) && open_day(yesterday) && minute < self.end)
        }
    }
}

/// How far ahead [`Hours::next_open`] looks at most.
const MAX_LOOKAHEAD: Duration = Duration::from_secs(8 * 24 * 3600);

impl Hours {
    /// Whether calls are allowed at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        match self {
            Hours::Always => true,
            Hours::Windows {
                tz,
                windows,
                holidays,
            } => {
                let local = now.with_timezone(tz);
                let minute = local.hour() * 60 + local.minute();
                let open_day = |d: NaiveDate| !holidays.days.contains(&d);
                windows
                    .iter()
                    .any(|w| w.contains(local.date_naive(), minute, open_day))
            }
        }
    }

    /// The first minute at or after `now`, no later than `now + within`, at which calls are
    /// allowed (minute steps in UTC, so daylight-saving changes need no special case).
    pub fn next_open(&self, now: DateTime<Utc>, within: Duration) -> Option<DateTime<Utc>> {
        if self.is_open(now) {
            return Some(now);
        }
        let within = chrono::Duration::from_std(within.min(MAX_LOOKAHEAD)).ok()?;
        let secs = now.timestamp();
        let mut t = DateTime::<Utc>::from_timestamp(secs - secs.rem_euclid(60) + 60, 0)?;
        while t - now <= within {
            if self.is_open(t) {
                return Some(t);
            }
            t += chrono::Duration::minutes(1);
        }
        None
    }

    /// Reads a holiday file named in the hours (relative to `base`, the dialplan's folder).
    pub fn load_holidays(&mut self, base: &Path) -> Result<(), String> {
        let Hours::Windows { holidays, .. } = self else {
            return Ok(());
        };
        let Some(file) = holidays.file.take() else {
            return Ok(());
        };
        let path = base.join(&file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("holiday file {}: {e}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let day = parse_date(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            holidays.days.insert(day);
        }
        Ok(())
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
            holidays: Holidays::default(),
        }
    }

    fn parse(text: &str) -> Result<Hours, String> {
        #[derive(Deserialize)]
        struct T {
            hours: Hours,
        }
        toml::from_str::<T>(text)
            .map(|t| t.hours)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn holidays_close_the_whole_local_day() {
        let h = parse(
            r#"hours = { tz = "Europe/Berlin", windows = ["mon-fri 08:00-18:00", "fri 22:00-02:00"], holidays = ["2026-12-25"] }"#,
        )
        .expect("parses");
        // Fri 2026-12-25 10:00 CET: a Friday, but Christmas.
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 12, 25, 9, 0, 0).unwrap()));
        // The overnight window starting on the holiday stays shut past midnight too.
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 12, 26, 0, 30, 0).unwrap()));
        // Thu 2026-12-24 10:00 CET: open.
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 12, 24, 9, 0, 0).unwrap()));
        for bad in [
            r#"hours = { tz = "UTC", windows = ["daily 08:00-18:00"], holidays = ["25.12.2026"] }"#,
            r#"hours = { tz = "UTC", windows = ["daily 08:00-18:00"], holidays = [20261225] }"#,
            r#"hours = { tz = "UTC", windows = ["daily 08:00-18:00"], holidays = 3 }"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("holiday"), "{bad}: {e}");
        }
    }

    #[test]
    fn holiday_files_are_read_relative_to_the_dialplan() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("cn.txt"),
            "# Golden week\n2026-10-01\n2026-10-02  # second day\n\n",
        )
        .expect("write");
        let mut h = parse(
            r#"hours = { tz = "Asia/Shanghai", windows = ["daily 09:00-18:00"], holidays = "cn.txt" }"#,
        )
        .expect("parses");
        h.load_holidays(dir.path()).expect("loads");
        assert!(!h.is_open(Utc.with_ymd_and_hms(2026, 10, 2, 3, 0, 0).unwrap()));
        assert!(h.is_open(Utc.with_ymd_and_hms(2026, 10, 3, 3, 0, 0).unwrap()));
        std::fs::write(dir.path().join("bad.txt"), "2026-10-01\nOct 2\n").expect("write");
        let mut h = parse(
            r#"hours = { tz = "Asia/Shanghai", windows = ["daily 09:00-18:00"], holidays = "bad.txt" }"#,
        )
        .expect("parses");
        let e = h.load_holidays(dir.path()).unwrap_err();
        assert!(e.contains("bad.txt:2") && e.contains("Oct 2"), "{e}");
    }

    #[test]
    fn next_open_finds_the_opening_minute_within_the_limit() {
        let h = hours("Europe/Berlin", &["mon-fri 08:00-18:00"]);
        // Thu 2026-11-26 06:30:20 UTC = 07:30:20 CET: opens at 08:00 CET = 07:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 6, 30, 20).unwrap();
        let opens = Utc.with_ymd_and_hms(2026, 11, 26, 7, 0, 0).unwrap();
        assert_eq!(h.next_open(now, Duration::from_secs(3600)), Some(opens));
        assert_eq!(h.next_open(now, Duration::from_secs(600)), None);
        assert_eq!(h.next_open(opens, Duration::ZERO), Some(opens));
        // Friday night: Monday 08:00 is beyond a 1 h limit, inside a 3-day one.
        let fri = Utc.with_ymd_and_hms(2026, 11, 27, 20, 0, 0).unwrap();
        assert_eq!(h.next_open(fri, Duration::from_secs(3600)), None);
        assert_eq!(
            h.next_open(fri, Duration::from_secs(3 * 24 * 3600)),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 7, 0, 0).unwrap())
        );
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
