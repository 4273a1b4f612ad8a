use chrono::{TimeZone, Utc};
use hotline::incident::{Format, LabelMap, Severity, Status, grafana};
use serde_json::json;

use crate::{error, fixture, fixture_json, parse_json};

#[test]
fn fixture_becomes_an_incident() {
    let incidents = grafana::parse(&fixture("grafana.json"), &LabelMap::default()).unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(incident.source, "grafana");
    assert_eq!(incident.fingerprint, "b1e3a9c0d4f27788");
    assert_eq!(incident.status, Status::Firing);
    assert_eq!(incident.severity, Severity::Critical);
    assert_eq!(incident.asset.tag.as_deref(), Some("CLD-EC2-0098"));
    assert_eq!(
        incident.asset.instance_id.as_deref(),
        Some("i-0a1b2c3d4e5f67890")
    );
    assert_eq!(incident.asset.region.as_deref(), Some("eu-central-1"));
    assert_eq!(incident.asset.os.as_deref(), Some("Amazon Linux 2023"));
    assert_eq!(incident.asset.vendor, None);
    assert_eq!(
        incident.fault.summary,
        "EC2 system status check failing for i-0a1b2c3d4e5f67890 (checkout-api) in eu-central-1b"
    );
    assert_eq!(
        incident.fault.started_at,
        Some(Utc.with_ymd_and_hms(2024, 5, 3, 2, 20, 0).unwrap())
    );
    assert_eq!(
        incident.fault.impact.as_deref(),
        Some("1 of 3 checkout-api nodes down; p99 latency +40%")
    );
    let details = incident.fault.details.as_deref().unwrap();
    assert!(details.starts_with("StatusCheckFailed_System = 1 for 10m"));
    assert!(details.ends_with("\nvalues: A=1, B=1"), "{details}");
    assert_eq!(incident.labels["availability_zone"], "eu-central-1b");
    assert_eq!(incident.labels["support_plan"], "aws-enterprise");
}

#[test]
fn resolved_and_idempotent() {
    let mut value = fixture_json("grafana.json");
    value["alerts"][0]["status"] = json!("resolved");
    value["alerts"][0]["endsAt"] = json!("2024-05-03T02:40:00Z");
    let resolved = parse_json(Format::Grafana, &value).unwrap();
    assert_eq!(resolved[0].status, Status::Resolved);
    assert_eq!(
        resolved[0].fault.timeline,
        vec!["resolved at 2024-05-03T02:40:00+00:00"]
    );
    let firing = grafana::parse(&fixture("grafana.json"), &LabelMap::default()).unwrap();
    assert_eq!(firing[0].fingerprint, resolved[0].fingerprint);
}

#[test]
fn values_must_be_numbers() {
    let mut value = fixture_json("grafana.json");
    value["alerts"][0]["values"] = json!({"A": "one"});
    assert_eq!(
        error(Format::Grafana, &value).to_string(),
        "alerts[0].values.A: expected a number, found a string"
    );
    value["alerts"][0]["values"] = json!({"A": null, "B": 2.5});
    let incidents = parse_json(Format::Grafana, &value).unwrap();
    assert!(
        incidents[0]
            .fault
            .details
            .as_deref()
            .unwrap()
            .ends_with("values: A=none, B=2.5")
    );
}

#[test]
fn legacy_grafana_alerting_body_is_refused_with_a_reason() {
    let legacy =
        json!({"title": "[Alerting] x", "ruleName": "x", "state": "alerting", "evalMatches": []});
    assert_eq!(
        error(Format::Grafana, &legacy).to_string(),
        "alerts: required field is missing"
    );
}
