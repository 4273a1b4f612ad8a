use chrono::{TimeZone, Utc};
use hotline::incident::{Format, LabelMap, Severity, Status, zabbix};
use serde_json::json;

use crate::{error, fixture, fixture_json, one};

#[test]
fn problem_fixture_maps_inventory_out_of_the_box() {
    let incidents = zabbix::parse(&fixture("zabbix.json"), &LabelMap::default()).unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(incident.source, "zabbix");
    assert_eq!(incident.fingerprint, "8812345");
    assert_eq!(incident.status, Status::Firing);
    assert_eq!(incident.severity, Severity::Critical);
    let asset = &incident.asset;
    assert_eq!(asset.tag.as_deref(), Some("AT-004711"));
    assert_eq!(asset.serial.as_deref(), Some("CZJ93801XY"));
    assert_eq!(asset.vendor.as_deref(), Some("HPE"));
    assert_eq!(asset.model.as_deref(), Some("ProLiant DL380 Gen10"));
    assert_eq!(asset.os.as_deref(), Some("Ubuntu 22.04.4 LTS"));
    assert_eq!(asset.site.as_deref(), Some("FRA1 Hall B"));
    assert_eq!(asset.rack.as_deref(), Some("R12-U18"));
    assert_eq!(asset.contract.as_deref(), Some("HPE-PC-2231-88812"));
    let fault = &incident.fault;
    assert_eq!(fault.summary, "RAID array degraded on db-prod-07");
    assert_eq!(
        fault.details.as_deref(),
        Some(
            "Logical drive 1 left its Optimal state; check physical disks.\n\
             Operational data: Interim Recovery Mode"
        )
    );
    // {EVENT.DATE}/{EVENT.TIME} carry no zone: kept as written, not guessed.
    assert_eq!(fault.started_at, None);
    assert_eq!(
        fault.timeline,
        vec!["problem started 2024.05.03 02:14:07 (zabbix server time)"]
    );
    // Event tags become labels.
    assert_eq!(incident.labels["class"], "hardware");
    assert_eq!(incident.labels["service"], "payments-db");
    assert_eq!(incident.labels["host_name"], "db-prod-07");
    assert!(!incident.labels.contains_key("URL"));
    assert!(!incident.labels.contains_key("Message"));
}

#[test]
fn event_timestamp_sets_the_start() {
    let mut value = fixture_json("zabbix.json");
    value["event_timestamp"] = json!("1714702447");
    let incident = one(Format::Zabbix, &value);
    assert_eq!(
        incident.fault.started_at,
        Some(Utc.with_ymd_and_hms(2024, 5, 3, 2, 14, 7).unwrap())
    );
    assert!(incident.fault.timeline.is_empty());
    value["event_timestamp"] = json!("soon");
    assert_eq!(
        error(Format::Zabbix, &value).to_string(),
        "event_timestamp: \"soon\" is not unix seconds"
    );
    // An unresolved macro is absent, not an error.
    value["event_timestamp"] = json!("{EVENT.TIMESTAMP}");
    assert_eq!(one(Format::Zabbix, &value).fault.started_at, None);
}

#[test]
fn recovery_resolves_the_same_incident() {
    let mut value = fixture_json("zabbix.json");
    value["event_value"] = json!("0");
    value["event_recovery_id"] = json!("8812399");
    value["Subject"] = json!("Resolved: RAID array degraded on db-prod-07");
    let incident = one(Format::Zabbix, &value);
    assert_eq!(incident.status, Status::Resolved);
    assert_eq!(incident.fingerprint, "8812345");
}

#[test]
fn acknowledgement_update_acknowledges() {
    let mut value = fixture_json("zabbix.json");
    value["event_update_status"] = json!("1");
    value["event_update_action"] = json!("acknowledged and commented");
    value["event_update_message"] = json!("on it, replacement disk ordered");
    let incident = one(Format::Zabbix, &value);
    assert_eq!(incident.status, Status::Acknowledged);
    assert_eq!(
        incident.fault.timeline.last().map(String::as_str),
        Some("acknowledged and commented: on it, replacement disk ordered")
    );
    value["event_update_action"] = json!("unacknowledged");
    assert_eq!(one(Format::Zabbix, &value).status, Status::Firing);
    value["event_update_action"] = json!("closed");
    assert_eq!(one(Format::Zabbix, &value).status, Status::Resolved);
}

#[test]
fn severity_number_wins_over_renamed_levels() {
    let mut value = fixture_json("zabbix.json");
    value["event_nseverity"] = json!("4");
    value["event_severity"] = json!("Sehr schlimm");
    assert_eq!(one(Format::Zabbix, &value).severity, Severity::Major);
    value["event_nseverity"] = json!("3");
    assert_eq!(one(Format::Zabbix, &value).severity, Severity::Warning);
    value.as_object_mut().unwrap().remove("event_nseverity");
    value["event_severity"] = json!("Information");
    assert_eq!(one(Format::Zabbix, &value).severity, Severity::Info);
}

#[test]
fn unresolved_macros_and_unknowns_are_absent() {
    let mut value = fixture_json("zabbix.json");
    value["inventory_serialno_a"] = json!("{INVENTORY.SERIALNO.A}");
    value["inventory_vendor"] = json!("*UNKNOWN*");
    value["inventory_model"] = json!("");
    let incident = one(Format::Zabbix, &value);
    assert_eq!(incident.asset.serial, None);
    assert_eq!(incident.asset.vendor, None);
    assert_eq!(incident.asset.model, None);
    assert!(!incident.labels.contains_key("inventory_serialno_a"));
}

#[test]
fn mapped_tags_win_over_inventory() {
    let mut value = fixture_json("zabbix.json");
    value["event_tags_json"] = json!(
        r#"[{"tag":"serial","value":"FROM-TAG"},{"tag":"timezone","value":"Europe/Berlin"}]"#
    );
    let incident = one(Format::Zabbix, &value);
    assert_eq!(incident.asset.serial.as_deref(), Some("FROM-TAG"));
    assert_eq!(incident.asset.timezone.as_deref(), Some("Europe/Berlin"));
}

#[test]
fn malformed_events_name_the_field() {
    let fixture = fixture_json("zabbix.json");
    let with = |key: &str, v: serde_json::Value| {
        let mut value = fixture.clone();
        value[key] = v;
        value
    };
    let without = |key: &str| {
        let mut value = fixture.clone();
        value.as_object_mut().unwrap().remove(key);
        value
    };
    for (value, message) in [
        (without("event_id"), "event_id: required field is missing"),
        (
            without("event_value"),
            "event_value: required field is missing",
        ),
        (
            with("event_value", json!("2")),
            "event_value: \"2\" is not \"1\" (problem) or \"0\" (recovery)",
        ),
        (
            with("event_source", json!("3")),
            "event_source: \"3\": only trigger events (0) are incidents",
        ),
        (
            with("event_id", json!(8812345)),
            "event_id: expected a string (zabbix sends every parameter as text), found a number",
        ),
        (
            with("event_tags_json", json!("[{\"tag\": 1}]")),
            "event_tags_json[0].tag: expected a string, found a number",
        ),
        (
            with("event_tags_json", json!("{}")),
            "event_tags_json: expected a list, found an object",
        ),
    ] {
        assert_eq!(error(Format::Zabbix, &value).to_string(), message);
    }
    let broken = with("event_tags_json", json!("[{"));
    assert!(
        error(Format::Zabbix, &broken)
            .to_string()
            .starts_with("event_tags_json: not json")
    );
}

#[test]
fn media_type_posts_what_the_parser_reads() {
    let yaml = std::fs::read_to_string(format!(
        "{}/contrib/zabbix/hotline_media_type.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(yaml.contains("/v1/hooks/zabbix"));
    for param in [
        "event_id",
        "event_value",
        "event_source",
        "event_nseverity",
        "event_timestamp",
        "event_tags_json",
        "inventory_serialno_a",
        "inventory_asset_tag",
    ] {
        assert!(yaml.contains(&format!("name: {param},")), "{param}");
    }
    assert!(
        !yaml.contains("PHONE"),
        "the media type should not forward phone numbers"
    );
}
