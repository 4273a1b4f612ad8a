//! Labels and annotations -> asset, fault, severity and the kept labels, by a
//! [`LabelMap`]. Shared by every format that carries key/value pairs.

use std::collections::{BTreeMap, BTreeSet};

use super::mapping::{LabelMap, Target};
use super::sensitive::{REDACTED, is_destination_name, is_secret_name, looks_like_secret_value};
use super::{Asset, Fault, Pattern, Severity};

/// What a set of labels and annotations says.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub(crate) asset: Asset,
    pub(crate) fault: Fault,
    /// `None` when no severity label is present or its word is unknown.
    pub(crate) severity: Option<Severity>,
    /// Every label (secrets redacted), then every annotation not used for a
    /// field and not shadowed by a label. Destination-like names stay here, inert.
    pub(crate) labels: BTreeMap<String, String>,
}

/// Fills fields from `labels` and `annotations` by `map`.
pub(crate) fn extract(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    map: &LabelMap,
) -> Extracted {
    let mut used = BTreeSet::new();
    let mut find = |target: Target| -> Option<String> {
        let order = if target.is_asset() {
            [(labels, false), (annotations, true)]
        } else {
            [(annotations, true), (labels, false)]
        };
        for name in map.names(target) {
            // `LabelMap` refuses such names already; this keeps defaults honest too.
            if is_secret_name(name) || is_destination_name(name) {
                continue;
            }
            for (source, is_annotation) in order {
                let Some(value) = source.get(name.as_str()) else {
                    continue;
                };
                let value = value.trim();
                if value.is_empty() || looks_like_secret_value(value) {
                    continue;
                }
                if is_annotation {
                    used.insert(name.clone());
                }
                return Some(value.to_string());
            }
        }
        None
    };

    let asset = Asset {
        tag: find(Target::Tag),
        serial: find(Target::Serial),
        vendor: find(Target::Vendor),
        model: find(Target::Model),
        os: find(Target::Os),
        site: find(Target::Site),
        room: find(Target::Room),
        rack: find(Target::Rack),
        unit: find(Target::Unit),
        instance_id: find(Target::InstanceId),
        region: find(Target::Region),
        contract: find(Target::Contract),
        timezone: find(Target::Timezone),
    };
    let fault = Fault {
        summary: find(Target::Summary).unwrap_or_default(),
        started_at: None,
        last_change: find(Target::LastChange),
        impact: find(Target::Impact),
        loss_per_minute: find(Target::LossPerMinute),
        pattern: find(Target::Pattern).as_deref().and_then(pattern),
        tried: find(Target::Tried),
        request: find(Target::Request),
        timeline: find(Target::Timeline)
            .map(|text| lines(&text))
            .unwrap_or_default(),
        details: find(Target::Details),
    };
    let severity = find(Target::Severity)
        .as_deref()
        .and_then(Severity::from_word);

    let mut kept: BTreeMap<String, String> = labels
        .iter()
        .map(|(name, value)| (name.clone(), inert(name, value)))
        .collect();
    for (name, value) in annotations {
        if !used.contains(name) {
            kept.entry(name.clone())
                .or_insert_with(|| inert(name, value));
        }
    }
    Extracted {
        asset,
        fault,
        severity,
        labels: kept,
    }
}

/// A label's value as kept: secrets redacted, everything else as received.
pub(crate) fn inert(name: &str, value: &str) -> String {
    if is_secret_name(name) || looks_like_secret_value(value) {
        REDACTED.to_string()
    } else {
        value.to_string()
    }
}

/// `constant` / `intermittent` and their synonyms.
pub(crate) fn pattern(word: &str) -> Option<Pattern> {
    match word.trim().to_ascii_lowercase().as_str() {
        "constant" | "permanent" | "persistent" | "continuous" => Some(Pattern::Constant),
        "intermittent" | "flapping" | "sporadic" | "recurring" => Some(Pattern::Intermittent),
        _ => None,
    }
}

/// Non-blank lines, trimmed.
pub(crate) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}
