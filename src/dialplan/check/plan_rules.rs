//! Checks on dialplans that loading alone does not make: placeholders the ladder cannot fill,
//! prompts that are not built in, empty menus, ring timeouts the ladder cuts short, and
//! `[[match]]` rules another dialplan shadows.

use std::collections::HashMap;
use std::time::Duration;

use super::Report;
use crate::config::{Config, Located, Location, Seg};
use crate::dialplan::{
    BUILTIN_PROMPTS, Dialplan, Dialplans, MatchRule, MenuStep, PLACEHOLDERS, PlaySource,
};

/// Runs every dialplan rule.
pub(super) fn check(cfg: &Config, plans: &Dialplans, report: &mut Report) {
    // A rule (normalized) -> the first dialplan that has it, and where.
    let mut rules: HashMap<RuleKey, (String, Location)> = HashMap::new();
    for plan in plans.iter() {
        // It loaded, so it reads and parses again for positions.
        let text = std::fs::read_to_string(&plan.path).unwrap_or_default();
        let doc = Located::new(&plan.path, &text);
        contacts(cfg, plan, &doc, report);
        for (i, rule) in plan.rules.iter().enumerate() {
            let at = doc.at(&[Seg::Key("match"), Seg::At(i)]);
            match rules.get(&RuleKey::of(rule)) {
                Some((first, first_at)) if *first != plan.id.as_str() => {
                    report.errors.push(format!(
                        "{at}: this [[match]] rule is identical to one in dialplan {first} \
                         ({first_at}); ties go to the id that sorts first, so it never routes \
                         here"
                    ));
                }
                Some(_) => {}
                None => {
                    rules.insert(RuleKey::of(rule), (plan.id.to_string(), at));
                }
            }
        }
    }
}

fn contacts(cfg: &Config, plan: &Dialplan, doc: &Located, report: &mut Report) {
    for (i, c) in plan.contacts.iter().enumerate() {
        let here = |rest: &[Seg]| {
            let mut path = vec![Seg::Key("contacts"), Seg::At(i)];
            path.extend_from_slice(rest);
            doc.at(&path)
        };
        if c.menu.is_empty() {
            let at = here(&[Seg::Key("menu")]);
            report.warnings.push(format!(
                "{at}: contact {}: the menu is empty: an answered call hears nothing and ends \
                 the ladder as taken; add {{ play = \"briefing\" }}",
                c.id
            ));
        }
        for (j, step) in c.menu.iter().enumerate() {
            let at = || here(&[Seg::Key("menu"), Seg::At(j)]);
            match step {
                MenuStep::Dtmf(t) => {
                    for name in t.placeholders().filter(|n| !PLACEHOLDERS.contains(n)) {
                        let hint = nearest(name)
                            .map(|n| format!("did you mean {{{n}}}? "))
                            .unwrap_or_default();
                        report.errors.push(format!(
                            "{}: contact {}: unknown placeholder {{{name}}}: every call would \
                             fail; {hint}known: {}",
                            at(),
                            c.id,
                            known()
                        ));
                    }
                }
                MenuStep::Play(PlaySource::Prompt(name))
                    if !BUILTIN_PROMPTS.contains(&name.as_str()) =>
                {
                    report.warnings.push(format!(
                        "{}: contact {}: prompt:{name} is not a built-in prompt ({}); it would \
                         be spoken as the words \"{}\"",
                        at(),
                        c.id,
                        BUILTIN_PROMPTS.join(", "),
                        name.replace(['-', '_'], " ")
                    ));
                }
                _ => {}
            }
        }
        let cap = c.answer_within_or(cfg.sla.answer_within);
        // Under `overlap` the call rings on past the SLA while the next contact is called.
        if c.ring_timeout > cap && plan.strategy == crate::dialplan::Strategy::Sequential {
            let at = here(&[Seg::Key("ring_timeout")]);
            report.warnings.push(format!(
                "{at}: contact {}: ring_timeout {} is longer than its answer_within {}: a \
                 sequential ladder stops ringing at {} (an SLA miss moves on at once); only \
                 `hotline dial` or strategy = \"overlap\" rings for {}",
                c.id,
                secs(c.ring_timeout),
                secs(cap),
                secs(cap),
                secs(c.ring_timeout)
            ));
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

fn known() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known placeholder within two edits of `name`, if any.
fn nearest(name: &str) -> Option<&'static str> {
    PLACEHOLDERS
        .iter()
        .map(|p| (edits(name, p), *p))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, p)| p)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A `[[match]]` rule as it matches: text compared case-insensitively, severities as a set.
#[derive(PartialEq, Eq, Hash)]
struct RuleKey(Vec<String>);

impl RuleKey {
    fn of(r: &MatchRule) -> Self {
        let low = |v: &Option<String>| format!("{:?}", v.as_deref().map(str::to_lowercase));
        let mut severity: Vec<String> = r
            .severity
            .iter()
            .flatten()
            .map(|s| format!("{s:?}"))
            .collect();
        severity.sort();
        severity.dedup();
        let mut key = vec![
            low(&r.vendor),
            low(&r.model),
            low(&r.site),
            low(&r.region),
            format!("{}:{}", r.severity.is_some(), severity.join(",")),
        ];
        key.extend(
            r.labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.to_lowercase())),
        );
        Self(key)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_the_nearest_placeholder() {
        assert_eq!(super::nearest("contract_digit"), Some("contract_digits"));
        assert_eq!(super::nearest("serial"), None);
        assert_eq!(super::edits("kitten", "sitting"), 3);
    }
}
