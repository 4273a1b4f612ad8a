//! Routing: which dialplan an incident goes to. Each dialplan may have `[[match]]` rules; a rule
//! matches when every field it sets matches the incident. Among matching rules the most
//! specific wins (the number of fields and labels it sets); a tie goes to the dialplan whose id
//! sorts first. No match: the incident is unrouted and goes to the fallback.

use crate::incident::{Incident, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One `[[match]]` rule as written. Text fields compare case-insensitively; `model`, `site`
/// and `region` may use `*` and `?` globs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRule {
    pub vendor: Option<String>,
    pub model: Option<String>,
    /// Any of these severities.
    pub severity: Option<Vec<Severity>>,
    pub site: Option<String>,
    pub region: Option<String>,
    /// Every one of these labels must be present with this value.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Case-insensitive glob with `*` and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn field(pattern: &Option<String>, value: &Option<String>) -> bool {
    match (pattern, value) {
        (None, _) => true,
        (Some(p), Some(v)) => glob(p, v),
        (Some(_), None) => false,
    }
}

impl MatchRule {
    /// Whether the incident satisfies every condition of the rule.
    pub fn matches(&self, i: &Incident) -> bool {
        field(&self.vendor, &i.asset.vendor)
            && field(&self.model, &i.asset.model)
            && field(&self.site, &i.asset.site)
            && field(&self.region, &i.asset.region)
            && self
                .severity
                .as_ref()
                .is_none_or(|s| s.contains(&i.severity))
            && self
                .labels
                .iter()
                .all(|(k, v)| i.labels.get(k).is_some_and(|x| x.eq_ignore_ascii_case(v)))
    }

    /// How specific the rule is: more conditions win.
    pub fn specificity(&self) -> usize {
        [
            self.vendor.is_some(),
            self.model.is_some(),
            self.severity.is_some(),
            self.site.is_some(),
            self.region.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
            + self.labels.len()
    }

    /// A rule with no condition would match everything: refused at load time.
    pub fn is_empty(&self) -> bool {
        self.specificity() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("ProLiant*", "proliant DL380 Gen10"));
        assert!(glob("*gen1?", "ProLiant DL380 Gen10"));
        assert!(!glob("PowerEdge*", "ProLiant DL380"));
        assert!(glob("fra?", "FRA1"));
        assert!(glob("*", ""));
    }

    #[test]
    fn rule_matching_and_specificity() {
        let mut i = Incident::default();
        i.asset.vendor = Some("HPE".into());
        i.asset.model = Some("ProLiant DL380".into());
        i.severity = Severity::Critical;
        i.labels.insert("team".into(), "payments".into());
        let broad = MatchRule {
            vendor: Some("hpe".into()),
            ..Default::default()
        };
        let narrow = MatchRule {
            vendor: Some("HPE".into()),
            model: Some("ProLiant*".into()),
            severity: Some(vec![Severity::Critical]),
            labels: [("team".to_string(), "payments".to_string())].into(),
            ..Default::default()
        };
        assert!(broad.matches(&i) && narrow.matches(&i));
        assert!(narrow.specificity() > broad.specificity());
        i.severity = Severity::Warning;
        assert!(!narrow.matches(&i));
        i.asset.vendor = None;
        assert!(
            !broad.matches(&i),
            "a rule on a missing field does not match"
        );
    }
}

#[cfg(test)]
mod load_tests {
    use crate::dialplan::{Hours, load_dir};
    use crate::incident::{Incident, Severity};

    const CONTACT: &str = r#"
[[contacts]]
id = "ID"
name = "n"
uri = "sip:x@127.0.0.1"
source = "s"
verified_on = "2026-11-01"
ring_timeout = "10s"
menu = []
"#;

    fn plan(dir: &std::path::Path, id: &str, head: &str) {
        let text = format!("vendor = \"v\"\n{head}\n{}", CONTACT.replace("ID", id));
        std::fs::write(dir.join(format!("{id}.toml")), text).expect("write");
    }

    #[test]
    fn most_specific_dialplan_wins_and_ties_go_to_the_first_id() {
        let d = tempfile::tempdir().expect("tmp");
        plan(d.path(), "a-broad", "[[match]]\nvendor = \"HPE\"\n");
        plan(
            d.path(),
            "b-narrow",
            "[[match]]\nvendor = \"HPE\"\nmodel = \"ProLiant*\"\nseverity = [\"critical\"]\n",
        );
        plan(d.path(), "c-tie", "[[match]]\nvendor = \"hpe\"\n");
        plan(
            d.path(),
            "d-hours",
            "hours = { tz = \"Asia/Shanghai\", windows = [\"mon-fri 09:00-18:00\"] }\n",
        );
        let plans = load_dir(d.path()).expect("valid");
        let mut i = Incident::default();
        i.asset.vendor = Some("HPE".into());
        i.asset.model = Some("ProLiant DL380".into());
        i.severity = Severity::Critical;
        assert_eq!(plans.route(&i).map(|p| p.id.as_str()), Some("b-narrow"));
        i.severity = Severity::Warning;
        assert_eq!(plans.route(&i).map(|p| p.id.as_str()), Some("a-broad"));
        i.asset.vendor = Some("Dell".into());
        assert!(plans.route(&i).is_none(), "unrouted");
        let d_plan = plans.get("d-hours").expect("plan");
        assert!(matches!(d_plan.contacts[0].hours, Hours::Windows { .. }));
    }

    #[test]
    fn bad_rules_and_hours_are_errors_with_a_line() {
        for (head, line, what) in [
            ("[[match]]\nvendr = \"HPE\"\n", 3, "unknown field"),
            ("[[match]]\n", 2, "at least one condition"),
            ("hours = \"sometimes\"\n", 2, "bad hours"),
            (
                "hours = { tz = \"Mars/Base\", windows = [\"daily 00:00-24:00\"] }\n",
                2,
                "time zone",
            ),
        ] {
            let d = tempfile::tempdir().expect("tmp");
            plan(d.path(), "x", head);
            let e = load_dir(d.path()).expect_err(head).to_string();
            assert!(e.contains(&format!("x.toml:{line}:")), "{e}");
            assert!(e.contains(what), "{e}");
        }
    }
}
