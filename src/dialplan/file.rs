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
    TrunkRef,
};
use crate::config::{Location, non_empty_string, positive_duration_opt};

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
    hours: Option<Spanned<Hours>>,
    contacts: Spanned<Vec<Spanned<ContactTable>>>,
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
    /// Trunks this dialplan's contacts are tried on, in order (`[[trunks]]` names).
    #[serde(default)]
    trunks: Vec<Spanned<String>>,
    /// The vendor's response clock: from the first answered call to their first callback
    /// (or a response an operator records). Default 15 minutes.
    #[serde(
        default = "super::default_response_within",
        deserialize_with = "crate::config::positive_duration"
    )]
    response_within: std::time::Duration,
}

/// One `[[contacts]]` entry as written: a contact of this dialplan, or `line = "id"`, a
/// shared line from the `lines/` folder (see [`super::lines`]). Every field is optional here
/// so that the two forms can be told apart; [`ContactTable::build`] says which are missing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ContactTable {
    /// A shared line instead of a contact written here.
    #[serde(default)]
    line: Option<Spanned<ContactId>>,
    #[serde(default)]
    id: Option<Spanned<ContactId>>,
    #[serde(default, deserialize_with = "non_empty_opt")]
    name: Option<String>,
    #[serde(default)]
    uri: Option<Destination>,
    #[serde(default, deserialize_with = "non_empty_opt")]
    source: Option<String>,
    #[serde(default)]
    verified_on: Option<Spanned<VerifiedOn>>,
    #[serde(default, deserialize_with = "positive_duration_opt")]
    ring_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "positive_duration_opt")]
    answer_within: Option<Duration>,
    #[serde(default)]
    menu: Option<Vec<Spanned<StepTable>>>,
    /// Overrides the dialplan's hours.
    #[serde(default)]
    hours: Option<Spanned<Hours>>,
    /// Extra attempts on this contact before the ladder moves on.
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default, deserialize_with = "positive_duration_opt")]
    retry_after: Option<Duration>,
    /// Calls at once on this line (overrides the dialplan's and `[ladder] max_calls`).
    #[serde(default, deserialize_with = "crate::config::at_least_one_opt")]
    max_calls: Option<u32>,
    /// Trunks this contact is tried on, in order (overrides the dialplan's `trunks`).
    #[serde(default)]
    trunks: Option<Vec<Spanned<String>>>,
}

/// Written trunk names with where each is written.
pub(super) fn trunk_refs(
    written: Vec<Spanned<String>>,
    at: &impl Fn(usize) -> Location,
) -> Vec<TrunkRef> {
    written
        .into_iter()
        .map(|t| TrunkRef {
            location: at(t.span().start),
            name: t.into_inner(),
        })
        .collect()
}

fn non_empty_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    non_empty_string(d).map(Some)
}

/// What an entry of `[[contacts]]` is.
pub(super) enum Entry {
    Own(Box<Contact>),
    /// `line = "id"`, where the id is written.
    Line(ContactId, Location),
}

impl ContactTable {
    /// The entry this table describes; `None` (with `errors`) if it cannot be built.
    /// `at_table` is where the table starts; `base` resolves WAV and holiday files;
    /// `default_hours` applies when the table has none.
    pub(super) fn build(
        self,
        at_table: Location,
        base: &Path,
        at: &impl Fn(usize) -> Location,
        default_hours: &Hours,
        default_max_calls: Option<u32>,
        errors: &mut Vec<DialplanError>,
    ) -> Option<Entry> {
        if let Some(line) = self.line {
            let extra = [
                ("id", self.id.is_some()),
                ("name", self.name.is_some()),
                ("uri", self.uri.is_some()),
                ("source", self.source.is_some()),
                ("verified_on", self.verified_on.is_some()),
                ("ring_timeout", self.ring_timeout.is_some()),
                ("answer_within", self.answer_within.is_some()),
                ("menu", self.menu.is_some()),
                ("hours", self.hours.is_some()),
                ("retries", self.retries.is_some()),
                ("retry_after", self.retry_after.is_some()),
                ("max_calls", self.max_calls.is_some()),
                ("trunks", self.trunks.is_some()),
            ];
            if let Some((key, _)) = extra.iter().find(|(_, set)| *set) {
                errors.push(DialplanError::Invalid {
                    at: at(line.span().start),
                    message: format!(
                        "a contact with `line` takes everything from the shared line: remove `{key}` (or change it in the line's file)"
                    ),
                });
                return None;
            }
            let location = at(line.span().start);
            return Some(Entry::Line(line.into_inner(), location));
        }
        let missing = |key: &str, errors: &mut Vec<DialplanError>| {
            errors.push(DialplanError::Invalid {
                at: at_table.clone(),
                message: format!("missing field `{key}` (or `line = \"id\"` for a shared line)"),
            });
        };
        let required = [
            ("id", self.id.is_some()),
            ("name", self.name.is_some()),
            ("uri", self.uri.is_some()),
            ("source", self.source.is_some()),
            ("verified_on", self.verified_on.is_some()),
            ("ring_timeout", self.ring_timeout.is_some()),
            ("menu", self.menu.is_some()),
        ];
        if let Some((key, _)) = required.iter().find(|(_, set)| !*set) {
            missing(key, errors);
            return None;
        }
        let (
            Some(id),
            Some(name),
            Some(uri),
            Some(source),
            Some(verified_on),
            Some(ring_timeout),
            Some(menu),
        ) = (
            self.id,
            self.name,
            self.uri,
            self.source,
            self.verified_on,
            self.ring_timeout,
            self.menu,
        )
        else {
            return None; // each was checked just above
        };
        let hours = hours_or(self.hours, default_hours, base, at, errors);
        let menu = build_menu(menu, base, at, errors);
        Some(Entry::Own(Box::new(Contact {
            location: at(id.span().start),
            id: id.into_inner(),
            name,
            destination: uri,
            source,
            verified_on: verified_on.get_ref().0,
            verified_on_location: at(verified_on.span().start),
            ring_timeout,
            answer_within: self.answer_within,
            menu,
            hours,
            retries: self.retries.unwrap_or(0),
            retry_after: self.retry_after.unwrap_or_default(),
            max_calls: self.max_calls.or(default_max_calls),
            trunks: trunk_refs(self.trunks.unwrap_or_default(), at),
        })))
    }
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
        lines: &super::lines::Lines,
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
        let plan_hours = hours_or(self.hours, &Hours::default(), base, &at, &mut errors);
        let mut contacts: Vec<Contact> = Vec::new();
        for table in self.contacts.into_inner() {
            let at_table = at(table.span().start);
            let built = table.into_inner().build(
                at_table,
                base,
                &at,
                &plan_hours,
                self.max_calls,
                &mut errors,
            );
            let contact = match built {
                None => continue,
                Some(Entry::Own(c)) => *c,
                Some(Entry::Line(id, location)) => match lines.get(&id) {
                    Some(line) => {
                        if contacts.iter().any(|c| c.id == id) {
                            errors.push(DialplanError::Invalid {
                                at: location,
                                message: format!("line \"{id}\" is already on this ladder"),
                            });
                            continue;
                        }
                        line.contact.clone()
                    }
                    None => {
                        errors.push(DialplanError::Invalid {
                            at: location,
                            message: format!(
                                "no shared line \"{id}\" in {}",
                                base.join(super::lines::DIR).display()
                            ),
                        });
                        continue;
                    }
                },
            };
            if let Some(first) = contacts.iter().find(|c| c.id == contact.id) {
                errors.push(DialplanError::DuplicateContact {
                    at: contact.location.clone(),
                    id: contact.id.to_string(),
                    first: first.location.clone(),
                });
            }
            contacts.push(contact);
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
            trunks: trunk_refs(self.trunks, &at),
            response_within: self.response_within,
            path: path.to_path_buf(),
        })
    }
}

/// Written hours (with their holiday file read, relative to `base`; a bad one reported at
/// the hours' position), or `default` when none are written.
pub(super) fn hours_or(
    written: Option<Spanned<Hours>>,
    default: &Hours,
    base: &Path,
    at: &impl Fn(usize) -> Location,
    errors: &mut Vec<DialplanError>,
) -> Hours {
    let Some(written) = written else {
        return default.clone();
    };
    let span = written.span().start;
    let mut hours = written.into_inner();
    if let Err(message) = hours.load_holidays(base) {
        errors.push(DialplanError::Invalid {
            at: at(span),
            message,
        });
    }
    hours
}

/// Turns written steps into [`MenuStep`]s, recording in `errors` steps without
/// exactly one action, steps after `hangup`, and missing WAV files (resolved
/// against `base`). `at` maps a byte offset to a [`Location`].
pub(super) fn build_menu(
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
