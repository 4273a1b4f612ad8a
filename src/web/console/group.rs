//! The incident page's group rows ("grouped with incident X", the group's members) and a
//! ladder step's reason with its queue wait.

use super::{esc, url};
use crate::store::{Group, IncidentId, LadderStep};
use std::fmt::Write as _;

/// `<dt>/<dd>` rows for the incident's group: its leader and every member with its status.
pub fn group_rows(g: &Group, this: &IncidentId) -> String {
    let mut b = String::new();
    let link = |id: &IncidentId| {
        format!(
            "<a href='/console/incidents/{}'>{}</a>",
            url(id.as_str()),
            esc(id.as_str())
        )
    };
    if g.leader == *this {
        let _ = write!(
            b,
            "<dt>Group</dt><dd>leads {} incidents on one call</dd>",
            g.members.len()
        );
    } else {
        let _ = write!(
            b,
            "<dt>Group</dt><dd>grouped with incident {}: its call covers this one</dd>",
            link(&g.leader)
        );
    }
    b.push_str("<dt>Members</dt><dd><ul>");
    for m in &g.members {
        let status = serde_json::json!(m.status);
        let _ = write!(
            b,
            "<li>{} · {} · {}</li>",
            link(&m.id),
            status.as_str().unwrap_or(""),
            esc(&m.summary)
        );
    }
    b.push_str("</ul></dd>");
    b
}

/// A step's reason, with how long its call waited for room when it did.
pub fn step_reason(s: &LadderStep) -> String {
    let reason = s.reason.clone().unwrap_or_default();
    match (s.queued_ms, &s.queue_reason) {
        (Some(ms), Some(why)) => {
            let waited = format!("waited {:.1} s for room ({why})", ms as f64 / 1000.0);
            if reason.is_empty() {
                waited
            } else {
                format!("{reason}; {waited}")
            }
        }
        _ => reason,
    }
}
