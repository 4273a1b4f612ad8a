//! The last pass over every parsed incident: text cut to sane lengths (a briefing
//! is read aloud; a label is a routing key), credential-looking values redacted.

use std::collections::BTreeMap;

use super::redact::redact_text;
use super::sensitive::{REDACTED, looks_like_secret_value};
use super::{Asset, Fault, Incident};

/// Longest text field kept, in characters; longer text is cut and ends in "...".
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest label name kept, in characters.
pub const MAX_LABEL_NAME_CHARS: usize = 128;
/// Most labels kept per incident (in name order).
pub const MAX_LABELS: usize = 256;
/// Most timeline entries kept (the first ones).
pub const MAX_TIMELINE: usize = 100;

/// `text` cut to `max` characters on a character boundary.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => {
            let end = text[..end].char_indices().nth_back(2).map_or(0, |(i, _)| i);
            format!("{}...", &text[..end])
        }
        None => text.to_string(),
    }
}

fn text(value: &mut String) {
    if looks_like_secret_value(value) {
        *value = REDACTED.to_string();
        return;
    }
    if value.chars().nth(MAX_TEXT_CHARS).is_some() {
        *value = clip(value, MAX_TEXT_CHARS);
    }
    // Secrets in free text, whatever their phrasing (security review finding 4).
    let masked = redact_text(value);
    if masked != *value {
        *value = masked;
    }
}

fn opt(value: &mut Option<String>) {
    if let Some(value) = value {
        text(value);
    }
}

/// Applies the limits to every text field of `incident`.
pub(crate) fn finish(mut incident: Incident) -> Incident {
    let Asset {
        tag,
        serial,
        vendor,
        model,
        os,
        site,
        room,
        rack,
        unit,
        instance_id,
        region,
        contract,
        timezone,
    } = &mut incident.asset;
    for field in [
        tag,
        serial,
        vendor,
        model,
        os,
        site,
        room,
        rack,
        unit,
        instance_id,
        region,
        contract,
        timezone,
    ] {
        opt(field);
    }
    let Fault {
        summary,
        started_at: _,
        last_change,
        impact,
        loss_per_minute,
        pattern: _,
        tried,
        request,
        timeline,
        details,
    } = &mut incident.fault;
    text(summary);
    for field in [
        last_change,
        impact,
        loss_per_minute,
        tried,
        request,
        details,
    ] {
        opt(field);
    }
    timeline.truncate(MAX_TIMELINE);
    timeline.iter_mut().for_each(text);

    let labels = std::mem::take(&mut incident.labels);
    incident.labels = labels
        .into_iter()
        .take(MAX_LABELS)
        .map(|(name, mut value)| {
            text(&mut value);
            (clip(&name, MAX_LABEL_NAME_CHARS), value)
        })
        .collect::<BTreeMap<_, _>>();
    incident
}
