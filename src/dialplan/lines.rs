//! Shared lines: one vendor line used by several dialplans (Dell's hotline for every site),
//! written once in `<dialplans>/lines/*.toml` and referenced with `[[contacts]] line = "id"`.
//! The line keeps one id, one provenance (`source`, `verified_on`) and one scorecard row,
//! whichever dialplan called it.
//!
//! ```toml
//! # dialplans/lines/dell.toml
//! vendor = "Dell"
//! [[lines]]
//! id = "dell-prosupport"
//! name = "Dell ProSupport Plus"
//! uri = "+18004563355"
//! source = "Dell ProSupport contract letter"
//! verified_on = "2026-09-14"
//! ring_timeout = "45s"
//! menu = [{ wait = "prompt" }, { dtmf = "2" }, { play = "briefing" }]
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::file::{ContactTable, Entry, hours_or};
use super::{Contact, ContactId, DialplanError, Hours};
use crate::config::{Location, non_empty_string};

/// The folder of shared lines, inside the dialplans folder.
pub const DIR: &str = "lines";

/// A file of shared lines as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesFile {
    #[serde(deserialize_with = "non_empty_string")]
    vendor: String,
    /// Default hours for the lines below.
    #[serde(default)]
    hours: Option<Spanned<Hours>>,
    lines: Vec<Spanned<ContactTable>>,
}

/// One shared line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLine {
    /// The vendor whose line it is (the scorecard's row).
    pub vendor: String,
    pub contact: Contact,
}

/// Every shared line, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    by_id: BTreeMap<ContactId, SharedLine>,
}

impl Lines {
    /// The line with this id.
    pub fn get(&self, id: &ContactId) -> Option<&SharedLine> {
        self.by_id.get(id)
    }

    /// Whether `c` is a shared line as written in its file (not a plan's own contact that
    /// happens to reuse the id).
    pub fn is_line(&self, c: &Contact) -> bool {
        self.by_id
            .get(&c.id)
            .is_some_and(|l| l.contact.location == c.location)
    }

    /// Loads `<plans_dir>/lines/*.toml` (none: no shared lines), with every error found.
    pub fn load(plans_dir: &Path) -> (Lines, Vec<DialplanError>) {
        let dir = plans_dir.join(DIR);
        let mut lines = Lines::default();
        let mut errors = Vec::new();
        if !dir.is_dir() {
            return (lines, errors);
        }
        let mut paths: Vec<PathBuf> = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
                .collect(),
            Err(source) => {
                errors.push(DialplanError::Read { path: dir, source });
                return (lines, errors);
            }
        };
        paths.sort();
        for path in paths {
            if let Err(mut e) = lines.load_file(&path) {
                errors.append(&mut e);
            }
        }
        (lines, errors)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), Vec<DialplanError>> {
        let text = fs::read_to_string(path).map_err(|source| {
            vec![DialplanError::Read {
                path: path.to_path_buf(),
                source,
            }]
        })?;
        let file: LinesFile = toml::from_str(&text).map_err(|e| {
            let (at, message) = Location::of_toml_error(path, &text, &e);
            vec![DialplanError::Invalid { at, message }]
        })?;
        let at = |offset: usize| Location::at_offset(path, &text, offset);
        let base = path.parent().unwrap_or(Path::new(""));
        let mut errors = Vec::new();
        let hours = hours_or(file.hours, &Hours::default(), base, &at, &mut errors);
        for table in file.lines {
            let at_table = at(table.span().start);
            match table
                .into_inner()
                .build(at_table.clone(), base, &at, &hours, None, &mut errors)
            {
                Some(Entry::Own(contact)) => {
                    let contact = *contact;
                    if let Some(first) = self.by_id.get(&contact.id) {
                        errors.push(DialplanError::DuplicateContact {
                            at: contact.location.clone(),
                            id: contact.id.to_string(),
                            first: first.contact.location.clone(),
                        });
                        continue;
                    }
                    self.by_id.insert(
                        contact.id.clone(),
                        SharedLine {
                            vendor: file.vendor.clone(),
                            contact,
                        },
                    );
                }
                Some(Entry::Line(_, at)) => errors.push(DialplanError::Invalid {
                    at,
                    message: "a shared line cannot refer to another line".into(),
                }),
                None => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
