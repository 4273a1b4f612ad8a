//! Vendor callbacks, the pure decisions (issue 11): who may call the callback line
//! ([`screen`]), which incident a call is about ([`match_caller`], then [`match_case`] with
//! the digits keyed in), and the response clock ([`response_verdict`]).
//!
//! Screening is stateless on purpose: a refused INVITE never creates a call core, a dialog,
//! a recording or an outbound call, so a scan (sipvicious `svmap` / `svwar`) or an INVITE
//! flood costs one response per request and leaves nothing behind.

use crate::config::CallbackConfig;
use crate::dialplan::{Destination, Dialplans};
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::time::Duration;

/// What to do with an inbound INVITE before anything is set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The callback line, from a trunk address (or an authenticated caller): take it.
    Admit,
    /// The callback line from elsewhere with inbound auth configured: 401 with a challenge.
    Challenge,
    /// Refused: the status to answer and the reason (also the `/metrics` label).
    Refuse { status: u16, why: Refusal },
}

/// Why an inbound INVITE was refused (one `/metrics` counter each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No `[callback]` in hotline.toml: hotline takes no calls.
    NoCallbackLine,
    /// The Request-URI's user part is not the callback number.
    WrongNumber,
    /// From an address not in `allow_from`, and no inbound auth to prove otherwise.
    NotFromTrunk,
    /// Inbound auth configured and the caller's credentials were wrong.
    BadCredentials,
}

impl Refusal {
    /// The label in `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoCallbackLine => "no_callback_line",
            Refusal::WrongNumber => "wrong_number",
            Refusal::NotFromTrunk => "not_from_trunk",
            Refusal::BadCredentials => "bad_credentials",
        }
    }
}

/// What the caller's credentials (an `Authorization` header) proved, checked by the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    None,
    Valid,
    Invalid,
}

/// Decides an inbound INVITE for `to_user` (the Request-URI's user part) from `source`
/// (the packet's address, never a header).
pub fn screen(
    cfg: Option<&CallbackConfig>,
    to_user: &str,
    source: IpAddr,
    creds: Credentials,
) -> Screen {
    let refuse = |status, why| Screen::Refuse { status, why };
    let Some(cfg) = cfg else {
        return refuse(404, Refusal::NoCallbackLine);
    };
    if !same_number(to_user, &cfg.number) {
        return refuse(404, Refusal::WrongNumber);
    }
    if cfg.allow_from.contains(&source) {
        return Screen::Admit;
    }
    match (&cfg.auth, creds) {
        (None, _) => refuse(403, Refusal::NotFromTrunk),
        (Some(_), Credentials::Valid) => Screen::Admit,
        (Some(_), Credentials::None) => Screen::Challenge,
        (Some(_), Credentials::Invalid) => refuse(403, Refusal::BadCredentials),
    }
}

/// `+15550100` and `15550100` are the same DID; a user part (`incident`) matches exactly.
fn same_number(a: &str, b: &str) -> bool {
    a.trim_start_matches('+') == b.trim_start_matches('+')
}

/// An incident still open, as matching needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenIncident {
    pub incident_id: String,
    /// The dialplan (vendor) its ladder called.
    pub dialplan: String,
    /// Case numbers the vendor gave, stored by an operator.
    pub case_numbers: Vec<String>,
}

/// How a callback was tied to its incident, most certain first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// The caller's number is this contact of the incident's dialplan.
    Contact(String),
    /// The caller keyed in this stored case number.
    CaseNumber(String),
    /// The only open incident (of the caller's vendor, if known).
    OnlyOpen,
}

impl MatchedBy {
    /// For the timeline and the incident page.
    pub fn describe(&self) -> String {
        match self {
            MatchedBy::Contact(c) => format!("caller is contact {c}"),
            MatchedBy::CaseNumber(n) => format!("case number {n} keyed in"),
            MatchedBy::OnlyOpen => "the only open incident".into(),
        }
    }
}

/// The result of matching (so far).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallerMatch {
    Matched {
        incident_id: String,
        by: MatchedBy,
    },
    /// Play "enter your case number, then hash" and call [`match_case`] with the digits.
    /// `vendor`: the dialplan the caller's number belongs to, if any.
    AskCaseNumber {
        vendor: Option<String>,
    },
    /// Still recorded; rings the on-call.
    Unmatched,
}

/// The caller's number (`From` user part) against the dialplans' contacts: a contact of a
/// dialplan with exactly one open incident matches it; otherwise the case-number prompt when
/// any open incident has a stored case number; otherwise the fallback of [`match_case`].
pub fn match_caller(caller: &str, plans: &Dialplans, open: &[OpenIncident]) -> CallerMatch {
    let mut vendor = None;
    for plan in plans.iter() {
        let Some(contact) = plan
            .contacts
            .iter()
            .find(|c| is_number_of(caller, &c.destination))
        else {
            continue;
        };
        vendor = Some(plan.id.to_string());
        let mut theirs = open.iter().filter(|o| o.dialplan == plan.id.as_str());
        if let (Some(one), None) = (theirs.next(), theirs.next()) {
            return CallerMatch::Matched {
                incident_id: one.incident_id.clone(),
                by: MatchedBy::Contact(contact.id.to_string()),
            };
        }
        break;
    }
    if open.iter().any(|o| !o.case_numbers.is_empty()) {
        return CallerMatch::AskCaseNumber { vendor };
    }
    fallback(vendor.as_deref(), open)
}

/// The digits keyed in after the prompt (without the `#`) against the stored case numbers
/// (their digits: `CS-0042` is keyed `0042`); else the only open incident of the caller's
/// vendor (or the only one at all for an unknown caller); else unmatched.
pub fn match_case(digits: &str, vendor: Option<&str>, open: &[OpenIncident]) -> CallerMatch {
    if !digits.is_empty() {
        for o in open {
            if let Some(n) = o.case_numbers.iter().find(|n| digits_only(n) == digits) {
                return CallerMatch::Matched {
                    incident_id: o.incident_id.clone(),
                    by: MatchedBy::CaseNumber(n.clone()),
                };
            }
        }
    }
    fallback(vendor, open)
}

fn fallback(vendor: Option<&str>, open: &[OpenIncident]) -> CallerMatch {
    let mut candidates = open
        .iter()
        .filter(|o| vendor.is_none_or(|v| o.dialplan == v));
    match (candidates.next(), candidates.next()) {
        (Some(one), None) => CallerMatch::Matched {
            incident_id: one.incident_id.clone(),
            by: MatchedBy::OnlyOpen,
        },
        _ => CallerMatch::Unmatched,
    }
}

fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Whether `caller` (a From user part or URI) is the number or URI of `dest`.
fn is_number_of(caller: &str, dest: &Destination) -> bool {
    let user = caller
        .strip_prefix("sips:")
        .or_else(|| caller.strip_prefix("sip:"))
        .unwrap_or(caller);
    let user = user.split(['@', ';']).next().unwrap_or(user);
    match dest {
        Destination::E164(n) => {
            let d = digits_only(user);
            !d.is_empty() && user.trim_start_matches('+').len() == d.len() && d == digits_only(n)
        }
        Destination::Sip(uri) => {
            let theirs = uri
                .strip_prefix("sips:")
                .or_else(|| uri.strip_prefix("sip:"))
                .unwrap_or(uri);
            theirs.split(['@', ';']).next() == Some(user)
        }
    }
}

/// The response clock of one incident (issue 11): from the first answered outbound call to
/// the first answered callback or a response an operator recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseVerdict {
    /// Running; a miss at `deadline`.
    Waiting { deadline: DateTime<Utc> },
    /// Responded `after` the clock started, within the limit.
    Met { after: Duration },
    /// Responded late (`after`), or not at all by now (`after: None`).
    Missed { after: Option<Duration> },
}

impl ResponseVerdict {
    /// `waiting`, `met`, `missed` (the incident page, `/metrics`, the scorecard).
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseVerdict::Waiting { .. } => "waiting",
            ResponseVerdict::Met { .. } => "met",
            ResponseVerdict::Missed { .. } => "missed",
        }
    }
}

/// The verdict at `now`; `None` until the clock has started (no answered call yet).
pub fn response_verdict(
    started: Option<DateTime<Utc>>,
    responded: Option<DateTime<Utc>>,
    within: Duration,
    now: DateTime<Utc>,
) -> Option<ResponseVerdict> {
    let started = started?;
    // A limit too large for chrono is no limit at all.
    let limit = chrono::Duration::from_std(within).unwrap_or(chrono::Duration::MAX);
    let deadline = started
        .checked_add_signed(limit)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    Some(match responded {
        // A callback before the first answered call (the vendor called first) counts as at once.
        Some(at) => {
            let after = (at - started).to_std().unwrap_or_default();
            if at <= deadline {
                ResponseVerdict::Met { after }
            } else {
                ResponseVerdict::Missed { after: Some(after) }
            }
        }
        None if now > deadline => ResponseVerdict::Missed { after: None },
        None => ResponseVerdict::Waiting { deadline },
    })
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
