//! `hotline check`: load everything, report every problem at once.

use std::path::Path;

use chrono::{NaiveDate, TimeDelta};

use super::{Destination, load_dir_collecting};
use crate::config;

/// How old a `verified_on` date may be before `check` warns.
pub const DEFAULT_MAX_AGE: TimeDelta = TimeDelta::days(365);

/// What `check` found; each entry reads `file:line:col: message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Problems that stop hotline from running.
    pub errors: Vec<String>,
    /// Things to look at that do not stop it.
    pub warnings: Vec<String>,
}

impl Report {
    /// True when there are no errors (warnings are allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Loads `hotline.toml` and every dialplan, collecting all errors across files.
/// Warns about contacts verified more than `max_age` before `today` (or after it),
/// E.164 contacts with no trunk to route them, and an empty dialplan directory.
pub fn check(config_path: &Path, today: NaiveDate, max_age: TimeDelta) -> Report {
    let mut report = Report::default();
    let config = match config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            report.errors.push(error.to_string());
            return report;
        }
    };
    let (plans, errors) = load_dir_collecting(&config.dialplans.dir);
    report.errors.extend(errors.iter().map(ToString::to_string));
    let mut contact_count = 0;
    for plan in plans.iter() {
        for contact in &plan.contacts {
            contact_count += 1;
            let at = &contact.verified_on_location;
            let age = today.signed_duration_since(contact.verified_on);
            if age < TimeDelta::zero() {
                report.warnings.push(format!(
                    "{at}: contact {}: verified_on {} is in the future",
                    contact.id, contact.verified_on
                ));
            } else if age > max_age {
                report.warnings.push(format!(
                    "{at}: contact {}: number last verified {} days ago (over {}); check it again",
                    contact.id,
                    age.num_days(),
                    max_age.num_days()
                ));
            }
            if let Destination::E164(number) = &contact.destination
                && config.sip.trunk_domain().is_none()
            {
                report.warnings.push(format!(
                    "{}: contact {}: {number} cannot be dialled until sip.proxy or sip.domain is set",
                    contact.location, contact.id
                ));
            }
        }
    }
    if contact_count == 0 && report.errors.is_empty() {
        report.warnings.push(format!(
            "{}: no dialplans found",
            config.dialplans.dir.display()
        ));
    }
    report
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::*;

    const CONFIG: &str = r#"[sip]
bind = "127.0.0.1:5070"
transport = "udp"
from_user = "hotline"
[media]
advertise = "127.0.0.1"
rtp_ports = "20000-20999"
[recording]
dir = "recordings"
[sla]
answer_within = "30s"
[dialplans]
dir = "plans"
"#;

    fn contact(id: &str, uri: &str, verified_on: &str) -> String {
        format!(
            "\n[[contacts]]\nid = \"{id}\"\nname = \"n\"\nuri = \"{uri}\"\nsource = \"s\"\n\
             verified_on = \"{verified_on}\"\nring_timeout = \"30s\"\nmenu = []\n"
        )
    }

    fn setup(config: &str, plans: &[(&str, String)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("plans")).unwrap();
        for (name, text) in plans {
            fs::write(dir.path().join("plans").join(name), text).unwrap();
        }
        let path = dir.path().join("hotline.toml");
        fs::write(&path, config).unwrap();
        (dir, path)
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn config_error_stops_early() {
        let (_dir, path) = setup(&CONFIG.replace("\"udp\"", "\"sctp\""), &[]);
        let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
        assert!(!report.is_ok());
        assert_eq!(report.errors.len(), 1, "{report:#?}");
        assert!(
            report.errors[0]
                .ends_with("hotline.toml:3:13: unknown variant `sctp`, expected `udp` or `tcp`")
        );
    }

    #[test]
    fn collects_errors_and_warnings_from_all_files() {
        let (_dir, path) = setup(
            CONFIG,
            &[
                (
                    "a.toml",
                    format!(
                        "vendor = \"A\"\n{}",
                        contact("a-old", "+15550100123", "2025-01-01")
                    ),
                ),
                (
                    "b.toml",
                    format!("vendor = \"B\"\n{}", contact("b-bad", "555", "2026-11-01")),
                ),
                (
                    "c.toml",
                    format!(
                        "vendor = \"C\"\n{}",
                        contact("a-old", "sip:x@example.com", "2026-11-01")
                    ),
                ),
                (
                    "d.toml",
                    format!(
                        "vendor = \"D\"\n{}",
                        contact("d-future", "sip:y@example.com", "2027-01-01")
                    ),
                ),
                ("e.toml", "vendor = \"E\"\ncolour = 1\n".to_string()),
            ],
        );
        let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
        let errors: Vec<_> = report
            .errors
            .iter()
            .map(|e| e.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            errors,
            [
                "b.toml:6:7: bad uri \"555\": use an e.164 number like \"+15550100123\" or a sip: uri",
                "a.toml:4:6)",
                "e.toml:2:1: unknown field `colour`, expected one of `vendor`, `match`, `hours`, `contacts`, `briefing`",
            ],
            "{report:#?}"
        );
        assert!(report.errors[1].contains("c.toml:4:6: duplicate contact id \"a-old\""));
        let warnings: Vec<_> = report
            .warnings
            .iter()
            .map(|w| w.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            warnings,
            [
                "a.toml:8:15: contact a-old: number last verified 694 days ago (over 365); check it again",
                "a.toml:4:6: contact a-old: +15550100123 cannot be dialled until sip.proxy or sip.domain is set",
                "d.toml:8:15: contact d-future: verified_on 2027-01-01 is in the future",
            ],
            "{report:#?}"
        );
    }

    #[test]
    fn trunk_silences_the_e164_warning() {
        let config = CONFIG.replace(
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\nproxy = \"sip:trunk.example.net\"",
        );
        let plan = format!(
            "vendor = \"A\"\n{}",
            contact("a", "+15550100123", "2026-11-01")
        );
        let (_dir, path) = setup(&config, &[("a.toml", plan)]);
        assert_eq!(
            check(&path, day("2026-11-26"), DEFAULT_MAX_AGE),
            Report::default()
        );
    }

    #[test]
    fn empty_dialplan_dir_warns() {
        let (_dir, path) = setup(CONFIG, &[]);
        let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
        assert!(report.is_ok());
        assert_eq!(report.warnings.len(), 1);
        assert!(
            report.warnings[0].ends_with("plans: no dialplans found"),
            "{report:#?}"
        );
    }

    const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/hotline.toml");

    #[test]
    fn shipped_files_are_valid() {
        let config = config::load(Path::new(SHIPPED)).unwrap();
        assert_eq!(
            config.sip.bind,
            "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
        );
        let plans = crate::dialplan::load_dir(&config.dialplans.dir).unwrap();
        let ids: Vec<_> = plans.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["dell", "demo", "hpe", "inspur"]);
        let inspur = plans.get("inspur").unwrap();
        assert_eq!(inspur.briefing.language, crate::config::Language::Zh);
        assert_eq!(
            config.briefing.caller.as_deref(),
            Some("Example Corp operations")
        );
        let (_, demo) = plans.contact("demo-line").unwrap();
        assert_eq!(
            demo.destination.request_uri(None).unwrap(),
            "sip:support@127.0.0.1:5090"
        );

        let report = check(Path::new(SHIPPED), day("2026-11-26"), DEFAULT_MAX_AGE);
        assert!(report.is_ok(), "{report:#?}");
        // Only the E.164 numbers warn, until a trunk is configured.
        assert_eq!(report.warnings.len(), 5, "{report:#?}");
        assert!(
            report
                .warnings
                .iter()
                .all(|w| w.contains("cannot be dialled until"))
        );
    }
}
