//! The layout of a dialplan file, and the checks that need more than one value.

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::briefing::PlanBriefing;
use super::hours::Hours;
use super::menu::StepTable;
use super::routing::MatchRule;
use super::vars::PlanVars;
use super::{
    Contact, ContactId, Destination, Dialplan, DialplanError, DialplanId, MenuStep, PlaySource,
};
use crate::config::{Location, non_empty_string, positive_duration, positive_duration_opt};

/// A dialplan file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DialplanFile {
    #[serde(deserialize_with = "non_empty_string")]
    vendor: String,
    /// Routing rules (`[[match]]`); none = this dialplan is only dialled by hand.
    #[serde(default, rename = "match")]
    rules: Vec<Spanned<MatchRule>>,
    /// Default hours for its contacts.
    #[serde(default)]
    hours: Hours,
    contacts: Spanned<Vec<ContactTable>>,
    #[serde(default)]
    briefing: PlanBriefing,
    #[serde(default)]
    vars: PlanVars,
    #[serde(default)]
    strategy: super::Strategy,
    /// Overrides `[ladder] group_by` for this vendor.
    #[serde(default)]
    group_by: Option<crate::config::GroupBy>,
    /// Calls at once per line of this dialplan (overrides `[ladder] max_calls`).
    #[serde(default, deserialize_with = "crate::config::at_least_one_opt")]
    max_calls: Option<u32>,
    /// Ladders of this dialplan at once (overrides `[ladder] per_dialplan`).
    #[serde(default, deserialize_with = "crate::config::at_least_one_opt")]
    max_ladders: Option<u32>,
}

/// One `[[contacts]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactTable {
    id: Spanned<ContactId>,
    #[serde(deserialize_with = "non_empty_string")]
    name: String,
    uri: Destination,
    #[serde(deserialize_with = "non_empty_string")]
    source: String,
    verified_on: Spanned<VerifiedOn>,
    #[serde(deserialize_with = "positive_duration")]
    ring_timeout: Duration,
    #[serde(default, deserialize_with = "positive_duration_opt")]
    answer_within: Option<Duration>,
    menu: Vec<Spanned<StepTable>>,
    /// Overrides the dialplan's hours.
    #[serde(default)]
    hours: Option<Hours>,
    /// Extra attempts on this contact before the ladder moves on.
    #[serde(default)]
    retries: u32,
    #[serde(default, deserialize_with = "positive_duration_opt")]
    retry_after: Option<Duration>,
    /// Calls at once on this line (overrides the dialplan's and `[ladder] max_calls`).
    #[serde(default, deserialize_with = "crate::config::at_least_one_opt")]
    max_calls: Option<u32>,
}

/// A date, written `"2026-10-01"` or as a bare TOML date `2026-10-01`.
#[derive(Deserialize)]
#[serde(try_from = "toml::Value")]
struct VerifiedOn(NaiveDate);

impl TryFrom<toml::Value> for VerifiedOn {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        let text = match value {
            toml::Value::String(text) => text,
            toml::Value::Datetime(datetime) if datetime.time.is_none() => datetime.to_string(),
            other => other.to_string(),
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Self)
            .map_err(|_| format!("bad date \"{text}\": use \"YYYY-MM-DD\""))
    }
}

impl DialplanFile {
    /// Checks what single values cannot (non-empty contacts, unique ids,
    /// reachable steps, existing WAV files) and builds the [`Dialplan`].
    /// `path` is the file and `text` its contents, for positions.
    pub(super) fn into_dialplan(
        self,
        id: DialplanId,
        path: &Path,
        text: &str,
    ) -> Result<Dialplan, Vec<DialplanError>> {
        let at = |offset: usize| Location::at_offset(path, text, offset);
        let base = path.parent().unwrap_or(Path::new(""));
        let mut errors = Vec::new();
        if self.contacts.get_ref().is_empty() {
            errors.push(DialplanError::NoContacts {
                at: at(self.contacts.span().start),
            });
        }
        let mut rules = Vec::new();
        for rule in self.rules {
            if rule.get_ref().is_empty() {
                errors.push(DialplanError::Invalid {
                    at: at(rule.span().start),
                    message: "a [[match]] rule needs at least one condition".into(),
                });
            }
            rules.push(rule.into_inner());
        }
        let mut contacts: Vec<Contact> = Vec::new();
        for table in self.contacts.into_inner() {
            let location = at(table.id.span().start);
            if let Some(first) = contacts.iter().find(|c| c.id == *table.id.get_ref()) {
                errors.push(DialplanError::DuplicateContact {
                    at: location.clone(),
                    id: table.id.get_ref().to_string(),
                    first: first.location.clone(),
                });
            }
            let menu = build_menu(table.menu, base, &at, &mut errors);
            contacts.push(Contact {
                id: table.id.into_inner(),
                name: table.name,
                destination: table.uri,
                source: table.source,
                verified_on: table.verified_on.get_ref().0,
                ring_timeout: table.ring_timeout,
                answer_within: table.answer_within,
                menu,
                hours: table.hours.unwrap_or_else(|| self.hours.clone()),
                retries: table.retries,
                retry_after: table.retry_after.unwrap_or_default(),
                max_calls: table.max_calls.or(self.max_calls),
                location,
                verified_on_location: at(table.verified_on.span().start),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Dialplan {
            id,
            vendor: self.vendor,
            rules,
            contacts,
            briefing: self.briefing,
            vars: self.vars,
            strategy: self.strategy,
            group_by: self.group_by,
            max_ladders: self.max_ladders,
            path: path.to_path_buf(),
        })
    }
}

/// Turns written steps into [`MenuStep`]s, recording in `errors` steps without
/// exactly one action, steps after `hangup`, and missing WAV files (resolved
/// against `base`). `at` maps a byte offset to a [`Location`].
fn build_menu(
    steps: Vec<Spanned<StepTable>>,
    base: &Path,
    at: &impl Fn(usize) -> Location,
    errors: &mut Vec<DialplanError>,
) -> Vec<MenuStep> {
    let mut menu = Vec::new();
    for step in steps {
        let step_at = at(step.span().start);
        if menu.last() == Some(&MenuStep::Hangup) {
            errors.push(DialplanError::AfterHangup { at: step_at });
            break;
        }
        match MenuStep::try_from(step.into_inner()) {
            Err(message) => errors.push(DialplanError::Invalid {
                at: step_at,
                message: message.to_string(),
            }),
            Ok(MenuStep::Play(PlaySource::Wav(wav))) => {
                let wav = base.join(wav);
                if !wav.is_file() {
                    errors.push(DialplanError::MissingWav {
                        at: step_at,
                        path: wav.clone(),
                    });
                }
                menu.push(MenuStep::Play(PlaySource::Wav(wav)));
            }
            Ok(step) => menu.push(step),
        }
    }
    menu
}
