use chrono::{TimeZone, Utc};
use hotline::incident::{Format, IntakeError, LabelMap, Severity, Status, alertmanager};
use serde_json::json;

use crate::{error, fixture, fixture_json, one, parse_json};

#[test]
fn fixture_becomes_one_incident_per_alert() {
    let incidents = alertmanager::parse(&fixture("alertmanager.json"), &LabelMap::default())
        .expect("fixture parses");
    assert_eq!(incidents.len(), 2);
    let firing = &incidents[0];
    assert_eq!(firing.id, "");
    assert_eq!(firing.source, "alertmanager");
    assert_eq!(firing.fingerprint, "5f1c2e9a7b3d4c10");
    assert_eq!(firing.status, Status::Firing);
    assert_eq!(firing.severity, Severity::Critical);
    let asset = &firing.asset;
    assert_eq!(asset.tag.as_deref(), Some("AT-004711"));
    assert_eq!(asset.serial.as_deref(), Some("CZJ93801XY"));
    assert_eq!(asset.vendor.as_deref(), Some("hpe"));
    assert_eq!(asset.model.as_deref(), Some("ProLiant DL380 Gen10"));
    assert_eq!(asset.os.as_deref(), Some("Ubuntu 22.04.4 LTS"));
    assert_eq!(asset.site.as_deref(), Some("fra1"));
    assert_eq!(asset.rack.as_deref(), Some("R12-U18"));
    assert_eq!(asset.contract.as_deref(), Some("HPE-PC-2231-88812"));
    // Prometheus's `instance` is a scrape target, not a cloud instance id.
    assert_eq!(asset.instance_id, None);
    let fault = &firing.fault;
    assert_eq!(
        fault.summary,
        "RAID logical drive 1 degraded on db-prod-07 (physical disk 1I:1:3 failed)"
    );
    assert!(
        fault
            .details
            .as_deref()
            .unwrap()
            .starts_with("ssacli reports")
    );
    assert_eq!(
        fault.impact.as_deref(),
        Some("Primary payments DB running without redundancy; second disk loss = outage")
    );
    assert_eq!(
        fault.last_change.as_deref(),
        Some("2024-05-02T21:10:00Z firmware update SPP 2024.03 (CHG-88121)")
    );
    assert_eq!(
        fault.started_at,
        Some(
            Utc.with_ymd_and_hms(2024, 5, 3, 2, 14, 37).unwrap()
                + chrono::Duration::milliseconds(512)
        )
    );
    assert!(fault.timeline.is_empty());
    // Labels are kept as received; unused annotations join them; used ones do not.
    assert_eq!(firing.labels["physical_disk"], "1I:1:3");
    assert_eq!(
        firing.labels["instance"],
        "db-prod-07.fra1.example.net:9100"
    );
    assert_eq!(
        firing.labels["runbook_url"],
        "https://runbooks.example.net/hw/raid-degraded"
    );
    assert!(!firing.labels.contains_key("summary"));
}

#[test]
fn resolved_alert_is_resolved_with_its_end_on_the_timeline() {
    let incidents = alertmanager::parse(&fixture("alertmanager.json"), &LabelMap::default())
        .expect("fixture parses");
    let resolved = &incidents[1];
    assert_eq!(resolved.status, Status::Resolved);
    assert_eq!(resolved.fingerprint, "9a0b77e1c2d3f456");
    assert_eq!(
        resolved.fault.timeline,
        vec!["resolved at 2024-05-03T02:12:07+00:00"]
    );
}

#[test]
fn same_alert_twice_has_the_same_fingerprint_with_or_without_one_sent() {
    let body = fixture("alertmanager.json");
    let first = alertmanager::parse(&body, &LabelMap::default()).unwrap();
    let second = alertmanager::parse(&body, &LabelMap::default()).unwrap();
    assert_eq!(first, second);

    let mut value = fixture_json("alertmanager.json");
    value["alerts"][0]
        .as_object_mut()
        .unwrap()
        .remove("fingerprint");
    let a = parse_json(Format::Alertmanager, &value).unwrap();
    // Reordering labels (a different sender, a different JSON encoder) changes nothing.
    let labels = value["alerts"][0]["labels"].as_object().unwrap().clone();
    let reversed: serde_json::Map<_, _> = labels.into_iter().rev().collect();
    value["alerts"][0]["labels"] = serde_json::Value::Object(reversed);
    let b = parse_json(Format::Alertmanager, &value).unwrap();
    assert_eq!(a[0].fingerprint, b[0].fingerprint);
    assert_eq!(a[0].fingerprint.len(), 16);
    assert_ne!(a[0].fingerprint, a[1].fingerprint);
}

#[test]
fn severity_words_are_normalized_and_unknown_ones_default() {
    for (word, expected) in [
        ("critical", Severity::Critical),
        ("P1", Severity::Critical),
        ("page", Severity::Critical),
        ("high", Severity::Major),
        ("error", Severity::Major),
        ("warning", Severity::Warning),
        ("info", Severity::Info),
        ("bananas", Severity::Major),
    ] {
        let mut value = fixture_json("alertmanager.json");
        value["alerts"][0]["labels"]["severity"] = json!(word);
        let incidents = parse_json(Format::Alertmanager, &value).unwrap();
        assert_eq!(incidents[0].severity, expected, "{word}");
        assert_eq!(incidents[0].labels["severity"], word);
    }
}

#[test]
fn empty_group_is_no_incidents() {
    let incidents = parse_json(Format::Alertmanager, &json!({"version": "4", "alerts": []}));
    assert_eq!(incidents, Ok(vec![]));
}

#[test]
fn minimal_alert_uses_alertname_as_summary() {
    let incident = one(
        Format::Alertmanager,
        &json!({"alerts": [{"status": "firing", "labels": {"alertname": "DiskFull"}}]}),
    );
    assert_eq!(incident.fault.summary, "DiskFull");
    assert_eq!(incident.severity, Severity::Major);
    assert_eq!(incident.fault.started_at, None);
}

#[test]
fn malformed_bodies_name_the_field() {
    let cases = [
        (json!([]), "body: expected an object, found a list"),
        (json!({"version": "4"}), "alerts: required field is missing"),
        (
            json!({"version": "3", "alerts": []}),
            "version: \"3\" is not supported, expected \"4\"",
        ),
        (
            json!({"alerts": {}}),
            "alerts: expected a list, found an object",
        ),
        (
            json!({"alerts": [7]}),
            "alerts[0]: expected an object, found a number",
        ),
        (
            json!({"alerts": [{"labels": {}}]}),
            "alerts[0].status: required field is missing",
        ),
        (
            json!({"alerts": [{"status": "pending", "labels": {}}]}),
            "alerts[0].status: \"pending\" is not \"firing\" or \"resolved\"",
        ),
        (
            json!({"alerts": [{"status": "firing"}]}),
            "alerts[0].labels: required field is missing",
        ),
        (
            json!({"alerts": [{"status": "firing", "labels": {"severity": 5}}]}),
            "alerts[0].labels.severity: expected a string, found a number",
        ),
        (
            json!({"alerts": [{"status": "firing", "labels": {}, "annotations": []}]}),
            "alerts[0].annotations: expected an object, found a list",
        ),
        (
            json!({"alerts": [{"status": "firing", "labels": {}, "startsAt": "yesterday"}]}),
            "alerts[0].startsAt: \"yesterday\" is not a timestamp; expected RFC 3339, e.g. 2024-05-03T02:14:37Z",
        ),
        (
            json!({"alerts": [{"status": "firing", "labels": {}, "startsAt": "2024-05-03T02:14:37"}]}),
            "alerts[0].startsAt: \"2024-05-03T02:14:37\" is not a timestamp; expected RFC 3339, e.g. 2024-05-03T02:14:37Z",
        ),
        (
            json!({"alerts": [{"status": "firing", "labels": {}, "fingerprint": 12}]}),
            "alerts[0].fingerprint: expected a string, found a number",
        ),
    ];
    for (value, message) in cases {
        assert_eq!(error(Format::Alertmanager, &value).to_string(), message);
    }
}

#[test]
fn truncated_and_non_json_bodies_say_where() {
    let body = fixture("alertmanager.json");
    let e = alertmanager::parse(&body[..200], &LabelMap::default()).unwrap_err();
    assert!(matches!(e, IntakeError::Json { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("body is not json: EOF while parsing"),
        "{e}"
    );
    let e = alertmanager::parse(b"", &LabelMap::default()).unwrap_err();
    assert!(matches!(e, IntakeError::Json { .. }));
    let e = alertmanager::parse(b"\xff\xfe{}", &LabelMap::default()).unwrap_err();
    assert!(matches!(e, IntakeError::Json { .. }));
    let deep = "[".repeat(10_000);
    let e = alertmanager::parse(deep.as_bytes(), &LabelMap::default()).unwrap_err();
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[test]
fn huge_values_are_cut_and_huge_bodies_refused() {
    let mut value = fixture_json("alertmanager.json");
    value["alerts"][0]["annotations"]["summary"] = json!("é".repeat(100_000));
    value["alerts"][0]["labels"]["x".repeat(10_000)] = json!("y");
    let incidents = parse_json(Format::Alertmanager, &value).unwrap();
    let summary = &incidents[0].fault.summary;
    assert_eq!(summary.chars().count(), hotline::incident::MAX_TEXT_CHARS);
    assert!(summary.ends_with("..."));
    assert!(incidents[0].labels.keys().all(|k| k.chars().count() <= 128));

    let body = vec![b' '; hotline::incident::MAX_BODY_BYTES + 1];
    assert_eq!(
        alertmanager::parse(&body, &LabelMap::default()),
        Err(IntakeError::TooLarge {
            size: hotline::incident::MAX_BODY_BYTES + 1,
            limit: hotline::incident::MAX_BODY_BYTES
        })
    );

    let mut value = fixture_json("alertmanager.json");
    value["alerts"][0]["fingerprint"] = json!("f".repeat(300));
    assert_eq!(
        error(Format::Alertmanager, &value).to_string(),
        "alerts[0].fingerprint: longer than 255 characters"
    );
}

#[test]
fn error_paths_quote_received_keys_briefly() {
    let long_key = "k".repeat(1000);
    let e = error(
        Format::Alertmanager,
        &json!({"alerts": [{"status": "firing", "labels": {long_key: 1}}]}),
    );
    assert!(e.to_string().len() < 200, "{e}");
    assert_eq!(
        e.path().map(|p| p.starts_with("alerts[0].labels.kkk")),
        Some(true)
    );
}
