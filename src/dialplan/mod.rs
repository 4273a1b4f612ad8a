//! Vendor dialplans, `dialplans/<id>.toml`: whom to call and how to walk their
//! phone menu. Contacts here are the whitelist: the only place numbers come from.

mod briefing;
mod check;
mod destination;
mod error;
mod file;
mod hours;
mod ids;
mod lines;
mod menu;
mod routing;
mod template;
#[cfg(test)]
mod tests;
mod vars;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

pub use briefing::{BriefingTemplate, MAX_REPEATS, Piece, PlanBriefing, TEMPLATE_FIELDS};
pub use check::{CheckOptions, DEFAULT_MAX_AGE, Report, check, check_loaded};
pub use destination::Destination;
pub use error::DialplanError;
pub use hours::{Holidays, Hours, Window};
pub use ids::{ContactId, DialplanId};
pub use lines::{Lines, SharedLine};
pub use menu::{BUILTIN_PROMPTS, MenuStep, PlaySource};
pub use routing::{MatchRule, glob};
pub use template::{MAX_DTMF_LEN, PLACEHOLDERS, Template, TemplateError};
pub use vars::{Letters, MenuVars, PlanVars, digits_of};

use crate::config::Location;
use file::DialplanFile;

/// One vendor's dialplan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialplan {
    /// The file stem.
    pub id: DialplanId,
    /// Vendor display name.
    pub vendor: String,
    /// Routing rules; empty = dialled by hand only.
    pub rules: Vec<MatchRule>,
    /// Lines to call; never empty.
    pub contacts: Vec<Contact>,
    /// How the briefing is written and spoken for this vendor (`[briefing]`, optional).
    pub briefing: PlanBriefing,
    /// Defaults for the values a menu keys in, and what letters become (`[vars]`, optional).
    pub vars: PlanVars,
    /// How the ladder walks the contacts (`strategy`, default sequential).
    pub strategy: Strategy,
    /// What incidents on one line must share to join one call (`group_by`; `None`: the
    /// `[ladder]` default).
    pub group_by: Option<crate::config::GroupBy>,
    /// Ladders of this dialplan at once (`max_ladders`; `None`: `[ladder] per_dialplan`).
    pub max_ladders: Option<u32>,
    /// Trunks its contacts are tried on, in order (`trunks = [..]`; empty: every trunk in
    /// `hotline.toml` order).
    pub trunks: Vec<TrunkRef>,
    /// How soon the vendor must respond (call back, or a response recorded by an operator)
    /// after the first answered call (`response_within`, default 15 min).
    pub response_within: Duration,
    /// The file it was loaded from.
    pub path: PathBuf,
}

/// `response_within` when a dialplan does not say.
pub(crate) fn default_response_within() -> Duration {
    Duration::from_secs(15 * 60)
}

/// `strategy`: how a ladder walks a dialplan's contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// One call at a time: an SLA miss cancels the ringing call and calls the next contact.
    #[default]
    Sequential,
    /// At an SLA miss the next contact is called while the first rings on to its own
    /// `ring_timeout`; the first to answer wins, the others are cancelled.
    Overlap,
}

/// A whitelisted number or URI and how to get through its menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Unique across all dialplans.
    pub id: ContactId,
    /// Display name.
    pub name: String,
    /// What to dial (the `uri` key).
    pub destination: Destination,
    /// Where the number came from.
    pub source: String,
    /// When the number was last checked.
    pub verified_on: NaiveDate,
    /// How long to let it ring.
    pub ring_timeout: Duration,
    /// SLA for this line, if it differs from `[sla]` in `hotline.toml`.
    pub answer_within: Option<Duration>,
    /// Steps after the call is answered.
    pub menu: Vec<MenuStep>,
    /// When this line may be called (the dialplan's hours unless the contact has its own).
    pub hours: Hours,
    /// Extra attempts before the ladder moves on.
    pub retries: u32,
    /// Pause before a retry.
    pub retry_after: Duration,
    /// Calls at once on this line (the contact's or its dialplan's `max_calls`; `None`:
    /// `[ladder] max_calls`).
    pub max_calls: Option<u32>,
    /// Where the contact's `id` is written.
    pub location: Location,
    /// Where its `verified_on` is written.
    pub verified_on_location: Location,
    /// Trunks this contact is tried on, in order (`trunks = [..]`; empty: its dialplan's).
    pub trunks: Vec<TrunkRef>,
}

/// A trunk named by a dialplan or contact (`trunks = ["a", "b"]`), with where it is written
/// (`hotline check` reports an unknown name there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkRef {
    pub name: String,
    pub location: Location,
}

impl Dialplan {
    /// The trunk names `contact` is tried on, in order: its own `trunks`, else this
    /// dialplan's, else empty (every trunk, in `hotline.toml` order).
    pub fn trunks_for(&self, contact: &Contact) -> Vec<String> {
        let refs = if contact.trunks.is_empty() {
            &self.trunks
        } else {
            &contact.trunks
        };
        refs.iter().map(|t| t.name.clone()).collect()
    }
}

impl Contact {
    /// This line's SLA, or `default` (from `[sla]`) when it has none.
    pub fn answer_within_or(&self, default: Duration) -> Duration {
        self.answer_within.unwrap_or(default)
    }
}

/// All dialplans of a directory, with contact ids unique across them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialplans {
    plans: Vec<Dialplan>,
    /// Shared lines (`lines/*.toml`), which several plans may list.
    lines: Lines,
}

impl Dialplans {
    /// The dialplans, ordered by file name.
    pub fn iter(&self) -> impl Iterator<Item = &Dialplan> {
        self.plans.iter()
    }

    /// The shared line with this contact id, if it is one.
    pub fn line(&self, id: &str) -> Option<&SharedLine> {
        self.lines.get(&ContactId::parse(id).ok()?)
    }

    /// The dialplan with this id.
    pub fn get(&self, id: &str) -> Option<&Dialplan> {
        self.plans.iter().find(|plan| plan.id.as_str() == id)
    }

    /// The contact with this id, and its dialplan.
    pub fn contact(&self, id: &str) -> Option<(&Dialplan, &Contact)> {
        self.plans.iter().find_map(|plan| {
            plan.contacts
                .iter()
                .find(|contact| contact.id.as_str() == id)
                .map(|contact| (plan, contact))
        })
    }

    /// The dialplan an incident routes to: the most specific matching `[[match]]` rule wins,
    /// ties go to the dialplan id that sorts first (plans are kept in id order). `None`:
    /// unrouted.
    pub fn route(&self, incident: &crate::incident::Incident) -> Option<&Dialplan> {
        let mut best: Option<(&Dialplan, usize)> = None;
        for plan in &self.plans {
            for rule in plan.rules.iter().filter(|r| r.matches(incident)) {
                let s = rule.specificity();
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((plan, s));
                }
            }
        }
        best.map(|(p, _)| p)
    }
}

/// Loads one dialplan file; its id is the file stem.
pub fn load_file(path: &Path) -> Result<Dialplan, DialplanError> {
    let (lines, errors) = Lines::load(path.parent().unwrap_or(Path::new(".")));
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    read_file(path, &lines).map_err(first)
}

/// Loads every `*.toml` in `dir` (other files are ignored), failing on the first
/// error in file-name order.
pub fn load_dir(dir: &Path) -> Result<Dialplans, DialplanError> {
    let (plans, errors) = load_dir_collecting(dir);
    match errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(plans),
    }
}

/// Loads what it can from `dir`, returning every error found (for `hotline check`).
pub(crate) fn load_dir_collecting(dir: &Path) -> (Dialplans, Vec<DialplanError>) {
    let mut errors = Vec::new();
    let mut paths = match toml_files(dir) {
        Ok(paths) => paths,
        Err(source) => {
            let path = dir.to_path_buf();
            return (
                Dialplans::default(),
                vec![DialplanError::Read { path, source }],
            );
        }
    };
    paths.sort();
    let (lines, mut line_errors) = Lines::load(dir);
    errors.append(&mut line_errors);
    let mut plans = Vec::new();
    let mut seen: HashMap<ContactId, Location> = HashMap::new();
    for path in paths {
        match read_file(&path, &lines) {
            Ok(plan) => {
                for contact in &plan.contacts {
                    if lines.is_line(contact) {
                        continue; // one line, listed by several plans
                    }
                    if let Some(line) = lines.get(&contact.id) {
                        errors.push(DialplanError::DuplicateContact {
                            at: contact.location.clone(),
                            id: contact.id.to_string(),
                            first: line.contact.location.clone(),
                        });
                    } else if let Some(first) = seen.get(&contact.id) {
                        errors.push(DialplanError::DuplicateContact {
                            at: contact.location.clone(),
                            id: contact.id.to_string(),
                            first: first.clone(),
                        });
                    } else {
                        seen.insert(contact.id.clone(), contact.location.clone());
                    }
                }
                plans.push(plan);
            }
            Err(file_errors) => errors.extend(file_errors),
        }
    }
    (Dialplans { plans, lines }, errors)
}

/// Paths of the regular `*.toml` files directly in `dir`.
fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    Ok(paths)
}

/// Loads one file, returning every error found in it.
fn read_file(path: &Path, lines: &Lines) -> Result<Dialplan, Vec<DialplanError>> {
    let id = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .and_then(|stem| DialplanId::parse(stem).ok())
        .ok_or_else(|| {
            vec![DialplanError::BadId {
                path: path.to_path_buf(),
            }]
        })?;
    let text = fs::read_to_string(path).map_err(|source| {
        vec![DialplanError::Read {
            path: path.to_path_buf(),
            source,
        }]
    })?;
    let file: DialplanFile = toml::from_str(&text).map_err(|e| {
        let (at, message) = Location::of_toml_error(path, &text, &e);
        vec![DialplanError::Invalid { at, message }]
    })?;
    file.into_dialplan(id, path, &text, lines)
}

/// The first of a file's errors.
fn first(errors: Vec<DialplanError>) -> DialplanError {
    // `read_file` only fails with at least one error.
    errors
        .into_iter()
        .next()
        .expect("read_file returns a non-empty error list")
}
