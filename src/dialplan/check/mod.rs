//! `hotline check`: load everything, report every problem at once. Errors are what would
//! fail at start or at incident time (`serve` refuses to start or reload on any); warnings are
//! likely mistakes (`hotline check --strict` fails on them too). Each entry reads
//! `file:line:col: message`.

mod config_rules;
mod plan_rules;
mod sip_rules;
#[cfg(test)]
mod tests;
mod trunk_rules;
#[cfg(test)]
mod trunk_tests;

use std::net::SocketAddr;
use std::path::Path;

use chrono::{NaiveDate, TimeDelta};

use super::{Destination, Dialplans, load_dir_collecting};
use crate::config::{self, Config};

/// How old a `verified_on` date may be before `check` warns.
pub const DEFAULT_MAX_AGE: TimeDelta = TimeDelta::days(365);

/// What `check` found; each entry reads `file:line:col: message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Problems that stop hotline from running, or make incidents fail.
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

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Today, for `verified_on` ages.
    pub today: NaiveDate,
    /// Warn about numbers verified longer ago than this.
    pub max_age: TimeDelta,
    /// `serve --http`: overrides `[http] listen` (loopback rules depend on it).
    pub http_listen: Option<SocketAddr>,
    /// `serve --sip`: overrides `[sip] bind`.
    pub sip_bind: Option<SocketAddr>,
}

impl CheckOptions {
    /// Checks as of `today`, with the default age limit and no overrides.
    pub fn new(today: NaiveDate) -> Self {
        Self {
            today,
            max_age: DEFAULT_MAX_AGE,
            http_listen: None,
            sip_bind: None,
        }
    }
}

/// Loads `hotline.toml` and every dialplan, collecting all errors across files.
/// Warns about contacts verified more than `max_age` before `today` (or after it),
/// E.164 contacts with no trunk to route them, and an empty dialplan directory.
pub fn check(config_path: &Path, today: NaiveDate, max_age: TimeDelta) -> Report {
    let opts = CheckOptions {
        max_age,
        ..CheckOptions::new(today)
    };
    check_loaded(config_path, &opts).0
}

/// [`check`], also handing back what loaded (overrides applied) when there are no errors:
/// what `serve` starts or reloads with.
pub fn check_loaded(
    config_path: &Path,
    opts: &CheckOptions,
) -> (Report, Option<(Config, Dialplans)>) {
    let mut report = Report::default();
    let mut config = match config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            report.errors.push(error.to_string());
            return (report, None);
        }
    };
    if let Some(h) = opts.http_listen {
        config.http.listen = h;
    }
    if let Some(s) = opts.sip_bind {
        config.sip.bind = s;
    }
    // It loaded, so it reads and parses again for positions.
    let text = std::fs::read_to_string(config_path).unwrap_or_default();
    let located = config::Located::new(config_path, &text);
    config_rules::check(&config, &located, &mut report);
    let (plans, errors) = load_dir_collecting(&config.dialplans.dir);
    report.errors.extend(errors.iter().map(ToString::to_string));
    contact_ages(&config, &plans, opts, &mut report);
    plan_rules::check(&config, &plans, &mut report);
    sip_rules::check(&config, &located, &plans, &mut report);
    trunk_rules::check(&config, &located, &plans, &mut report);
    let loaded = report.is_ok().then_some((config, plans));
    (report, loaded)
}

fn contact_ages(config: &Config, plans: &Dialplans, opts: &CheckOptions, report: &mut Report) {
    let (today, max_age) = (opts.today, opts.max_age);
    let mut contact_count = 0;
    let can_dial_numbers = config.trunks().iter().any(|t| t.number_domain().is_some());
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
                && !can_dial_numbers
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
}
