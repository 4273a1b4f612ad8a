use chrono::{TimeZone, Utc};
use hotline::incident::{Format, IntakeError, Pattern, Severity, Status};
use serde_json::json;

use crate::{error, one, parse_json};

/// The example in docs/webhooks.md.
fn example() -> serde_json::Value {
    let docs = std::fs::read_to_string(format!("{}/docs/webhooks.md", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let start = docs
        .find("```json generic-example\n")
        .expect("example in docs")
        + 24;
    let end = start + docs[start..].find("```").unwrap();
    serde_json::from_str(&docs[start..end]).expect("docs example is json")
}

#[test]
fn documented_example_parses() {
    let incident = one(Format::Generic, &example());
    assert_eq!(incident.source, "generic");
    assert_eq!(incident.fingerprint, "db-prod-07/raid-ld1");
    assert_eq!(incident.status, Status::Firing);
    assert_eq!(incident.severity, Severity::Critical);
    assert_eq!(incident.asset.vendor.as_deref(), Some("HPE"));
    assert_eq!(incident.asset.serial.as_deref(), Some("CZJ93801XY"));
    assert_eq!(incident.asset.unit.as_deref(), Some("18"));
    assert_eq!(incident.asset.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(incident.fault.pattern, Some(Pattern::Constant));
    assert_eq!(
        incident.fault.started_at,
        Some(Utc.with_ymd_and_hms(2024, 5, 3, 2, 14, 7).unwrap())
    );
    assert_eq!(incident.fault.timeline.len(), 2);
    assert_eq!(incident.fault.loss_per_minute.as_deref(), Some("EUR 2,000"));
    assert_eq!(incident.labels["service"], "payments-db");
}

#[test]
fn minimal_and_list_forms() {
    let minimal = json!({"fingerprint": "x1", "fault": {"summary": "disk failed"}});
    let incident = one(Format::Generic, &minimal);
    assert_eq!(incident.severity, Severity::Major);
    assert_eq!(incident.status, Status::Firing);
    let resolved = json!({"fingerprint": "x1", "status": "resolved"});
    assert_eq!(one(Format::Generic, &resolved).status, Status::Resolved);
    let both = parse_json(Format::Generic, &json!([minimal, resolved])).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both[0].fingerprint, both[1].fingerprint);
}

#[test]
fn unknown_fields_are_refused_at_every_level() {
    for (value, path) in [
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "uri": "sip:+4969555@evil"}),
            "uri",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "phone": "+49 69 555"}),
            "phone",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "source": "me"}),
            "source",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "id": "42"}),
            "id",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "asset": {"number": "+1555"}}),
            "asset.number",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s", "callback": "tel:+1555"}}),
            "fault.callback",
        ),
        (
            json!([{"fingerprint": "x", "fault": {"summary": "s"}}, {"fingerprint": "y", "dial": "1"}]),
            "[1].dial",
        ),
    ] {
        let e = error(Format::Generic, &value);
        assert!(matches!(e, IntakeError::Unknown { .. }), "{e}");
        assert_eq!(e.path(), Some(path));
        assert!(
            e.to_string()
                .starts_with(&format!("{path}: unknown field, expected one of: ")),
            "{e}"
        );
    }
}

#[test]
fn malformed_bodies_name_the_field() {
    for (value, message) in [
        (
            json!({"fault": {"summary": "s"}}),
            "fingerprint: required field is missing",
        ),
        (json!({"fingerprint": ""}), "fingerprint: must not be empty"),
        (
            json!({"fingerprint": "x"}),
            "fault.summary: required field is missing",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "  "}}),
            "fault.summary: required field is missing",
        ),
        (
            json!({"fingerprint": "x", "status": "open", "fault": {"summary": "s"}}),
            "status: \"open\" is not \"firing\", \"acknowledged\" or \"resolved\"",
        ),
        (
            json!({"fingerprint": "x", "severity": "meh", "fault": {"summary": "s"}}),
            "severity: \"meh\" is not a severity; use \"critical\", \"major\", \"warning\" or \"info\"",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s", "pattern": "sometimes"}}),
            "fault.pattern: \"sometimes\" is not \"constant\" or \"intermittent\"",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s", "timeline": "one"}}),
            "fault.timeline: expected a list, found a string",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s", "timeline": ["a", 2]}}),
            "fault.timeline[1]: expected a string, found a number",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "asset": {"serial": 12345}}),
            "asset.serial: expected a string, found a number",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "labels": {"a": true}}),
            "labels.a: expected a string, found a boolean",
        ),
        (
            json!({"fingerprint": "x", "fault": {"summary": "s"}, "labels": []}),
            "labels: expected an object, found a list",
        ),
        (
            json!("just text"),
            "body: expected an object, found a string",
        ),
        (json!([1]), "[0]: expected an object, found a number"),
    ] {
        assert_eq!(error(Format::Generic, &value).to_string(), message);
    }
}

/// Security review finding 4: secrets in free text, in any phrasing, are masked at intake,
/// so the store, API, console, evidence zip and P0 ticket never hold them, and the briefing
/// (EN and ZH) never speaks them.
#[test]
fn secrets_in_free_text_are_masked_everywhere_they_travel() {
    use hotline::briefing::normalize::normalize;
    use hotline::config::Language;
    let phrasings = [
        "the admin password is Hunter2x",
        "password Hunter2x",
        "pass: Hunter2x",
        "pin: Hunter2x",
        "passphrase: correct horse Hunter2x",
        "root:Hunter2x",
        "login admin/Hunter2x",
        "mysql -pHunter2x",
        "creds Hunter2x",
        "see https://admin:Hunter2x@db.example/x",
        "dsn postgres://app:Hunter2x@db",
        "管理员密码是Hunter2x",
    ];
    for p in phrasings {
        let body = json!({
            "fingerprint": "fp-secret",
            "status": "firing",
            "asset": {"tag": "AT-1", "vendor": "HPE"},
            "fault": {"summary": format!("disk failed; {p}"), "tried": p, "impact": p,
                      "timeline": [p]},
            "labels": {"note": p}
        });
        let incident = one(Format::Generic, &body);
        let kept = serde_json::to_string(&incident).expect("json");
        assert!(!kept.contains("Hunter2x"), "{p:?} kept as {kept}");
        for lang in [Language::En, Language::Zh] {
            let spoken = normalize(&incident.fault.summary, lang);
            assert!(!spoken.contains("Hunter2x"), "{p:?} spoken as {spoken:?}");
            let raw_spoken = normalize(p, lang);
            assert!(
                !raw_spoken.contains("Hunter2x"),
                "{p:?} spoken as {raw_spoken:?}"
            );
        }
    }
}
