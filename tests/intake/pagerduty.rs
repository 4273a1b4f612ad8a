use chrono::{TimeZone, Utc};
use hotline::incident::{Format, LabelMap, Severity, Status, pagerduty};
use serde_json::json;

use crate::{all_text, error, fixture, fixture_json, one};

#[test]
fn trigger_fixture_becomes_a_firing_incident() {
    let incidents = pagerduty::parse(&fixture("pagerduty_v2.json"), &LabelMap::default()).unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(incident.source, "pagerduty");
    assert_eq!(
        incident.fingerprint,
        "db-prod-07/HardwareRaidDegraded/5f1c2e9a7b3d4c10"
    );
    assert_eq!(incident.status, Status::Firing);
    assert_eq!(incident.severity, Severity::Critical);
    assert_eq!(incident.asset.vendor.as_deref(), Some("HPE"));
    assert_eq!(incident.asset.serial.as_deref(), Some("CZJ93801XY"));
    assert_eq!(
        incident.asset.contract.as_deref(),
        Some("HPE-PC-2231-88812")
    );
    assert_eq!(incident.asset.rack.as_deref(), Some("R12-U18"));
    assert_eq!(
        incident.fault.summary,
        "RAID logical drive 1 degraded on db-prod-07 (physical disk 1I:1:3 failed)"
    );
    // PagerDuty's documented `+0000` offset (no colon) is read.
    assert_eq!(
        incident.fault.started_at,
        Some(
            Utc.with_ymd_and_hms(2024, 5, 3, 2, 14, 37).unwrap()
                + chrono::Duration::milliseconds(512)
        )
    );
    assert_eq!(incident.fault.timeline.len(), 3);
    assert_eq!(
        incident.fault.timeline[2],
        "2024-05-03T02:14:37Z alert fired"
    );
    assert_eq!(incident.labels["source"], "db-prod-07.fra1.example.net");
    assert_eq!(incident.labels["class"], "hardware/raid");
    // The routing key is PagerDuty's integration credential: never kept.
    assert!(!all_text(incident).contains("R0UT1NGKEY"));
}

#[test]
fn acknowledge_and_resolve_need_only_the_dedup_key() {
    for (action, status) in [
        ("acknowledge", Status::Acknowledged),
        ("resolve", Status::Resolved),
    ] {
        let incident = one(
            Format::Pagerduty,
            &json!({"routing_key": "R0UT1NGKEY0123456789abcdef012345", "event_action": action,
                    "dedup_key": "db-prod-07/HardwareRaidDegraded/5f1c2e9a7b3d4c10"}),
        );
        assert_eq!(incident.status, status);
        assert_eq!(
            incident.fingerprint,
            "db-prod-07/HardwareRaidDegraded/5f1c2e9a7b3d4c10"
        );
        assert_eq!(
            error(Format::Pagerduty, &json!({"event_action": action})).to_string(),
            "dedup_key: required field is missing"
        );
    }
}

#[test]
fn trigger_without_dedup_key_gets_a_stable_one() {
    let mut value = fixture_json("pagerduty_v2.json");
    value.as_object_mut().unwrap().remove("dedup_key");
    let a = one(Format::Pagerduty, &value);
    let b = one(Format::Pagerduty, &value);
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.fingerprint.len(), 16);
}

#[test]
fn severities_are_pagerdutys_four() {
    for (word, expected) in [
        ("critical", Severity::Critical),
        ("error", Severity::Major),
        ("warning", Severity::Warning),
        ("info", Severity::Info),
    ] {
        let mut value = fixture_json("pagerduty_v2.json");
        value["payload"]["severity"] = json!(word);
        assert_eq!(one(Format::Pagerduty, &value).severity, expected);
    }
    let mut value = fixture_json("pagerduty_v2.json");
    value["payload"]["severity"] = json!("P1");
    assert_eq!(
        error(Format::Pagerduty, &value).to_string(),
        "payload.severity: \"P1\" is not \"critical\", \"error\", \"warning\" or \"info\""
    );
}

#[test]
fn custom_details_nest_and_may_be_text() {
    let mut value = fixture_json("pagerduty_v2.json");
    value["payload"]["custom_details"] = json!({
        "hw": {"serial": "SN-1", "vendor": "Dell"},
        "tried": ["reseated disk", "rescanned controller"],
        "count": 3, "ok": false, "nothing": null
    });
    let incident = one(Format::Pagerduty, &value);
    assert_eq!(incident.labels["hw.serial"], "SN-1");
    assert_eq!(incident.labels["count"], "3");
    assert_eq!(incident.labels["ok"], "false");
    assert!(!incident.labels.contains_key("nothing"));
    assert_eq!(
        incident.fault.tried.as_deref(),
        Some("reseated disk\nrescanned controller")
    );

    value["payload"]["custom_details"] = json!("free text from the sender");
    let incident = one(Format::Pagerduty, &value);
    assert_eq!(
        incident.fault.details.as_deref(),
        Some("free text from the sender")
    );
}

#[test]
fn malformed_events_name_the_field() {
    let trigger = fixture_json("pagerduty_v2.json");
    let without = |path: &[&str]| {
        let mut value = trigger.clone();
        let (last, parents) = path.split_last().unwrap();
        let mut cursor = &mut value;
        for p in parents {
            cursor = &mut cursor[*p];
        }
        cursor.as_object_mut().unwrap().remove(*last);
        value
    };
    for (value, message) in [
        (
            without(&["event_action"]),
            "event_action: required field is missing",
        ),
        (without(&["payload"]), "payload: required field is missing"),
        (
            without(&["payload", "summary"]),
            "payload.summary: required field is missing",
        ),
        (
            without(&["payload", "source"]),
            "payload.source: required field is missing",
        ),
        (
            without(&["payload", "severity"]),
            "payload.severity: required field is missing",
        ),
    ] {
        assert_eq!(error(Format::Pagerduty, &value).to_string(), message);
    }
    let mut value = trigger.clone();
    value["event_action"] = json!("escalate");
    assert_eq!(
        error(Format::Pagerduty, &value).to_string(),
        "event_action: \"escalate\" is not \"trigger\", \"acknowledge\" or \"resolve\""
    );
    let mut value = trigger.clone();
    value["payload"]["summary"] = json!(["not", "text"]);
    assert_eq!(
        error(Format::Pagerduty, &value).to_string(),
        "payload.summary: expected a string, found a list"
    );
    let mut value = trigger;
    value["payload"]["timestamp"] = json!("03/05/2024");
    assert!(
        error(Format::Pagerduty, &value)
            .to_string()
            .starts_with("payload.timestamp: \"03/05/2024\" is not a timestamp")
    );
}
