use hotline::config::IntakeConfig;
use hotline::incident::{Format, LabelMap, Target, alertmanager};
use serde_json::json;

use crate::fixture_json;

fn map(toml_text: &str) -> Result<LabelMap, String> {
    let value: toml::Value = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    LabelMap::from_toml_value(value).map_err(|e| e.to_string())
}

#[test]
fn overrides_replace_one_field_and_keep_the_rest() {
    let map = map(r#"serial = ["sn", "serial"]"#).unwrap();
    assert_eq!(map.names(Target::Serial), ["sn", "serial"]);
    assert_eq!(
        map.names(Target::Vendor),
        LabelMap::default().names(Target::Vendor)
    );
    let body = json!({"alerts": [{"status": "firing", "labels": {
        "alertname": "x", "sn": "SN-7", "serial_number": "IGNORED", "vendor": "Dell"}}]});
    let incidents = alertmanager::parse(body.to_string().as_bytes(), &map).unwrap();
    assert_eq!(incidents[0].asset.serial.as_deref(), Some("SN-7"));
    assert_eq!(incidents[0].asset.vendor.as_deref(), Some("Dell"));
}

#[test]
fn an_empty_list_turns_a_field_off_and_instance_can_be_opted_in() {
    let map = map("site = []\ninstance_id = [\"instance_id\", \"instance\"]").unwrap();
    let value = fixture_json("alertmanager.json");
    let incidents = Format::Alertmanager
        .parse(value.to_string().as_bytes(), &map)
        .unwrap();
    assert_eq!(incidents[0].asset.site, None);
    assert_eq!(
        incidents[0].asset.instance_id.as_deref(),
        Some("db-prod-07.fra1.example.net:9100")
    );
}

#[test]
fn annotations_fill_asset_fields_when_labels_do_not() {
    let body = json!({"alerts": [{"status": "firing", "labels": {"alertname": "x"},
        "annotations": {"serial": "SN-A", "tz": "Europe/Berlin", "tried": "reboot",
                        "pattern": "flapping", "timeline": "02:00 first\n\n02:10 second"}}]});
    let incidents = alertmanager::parse(body.to_string().as_bytes(), &LabelMap::default()).unwrap();
    let incident = &incidents[0];
    assert_eq!(incident.asset.serial.as_deref(), Some("SN-A"));
    assert_eq!(incident.asset.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(incident.fault.tried.as_deref(), Some("reboot"));
    assert_eq!(
        incident.fault.pattern,
        Some(hotline::incident::Pattern::Intermittent)
    );
    assert_eq!(incident.fault.timeline, ["02:00 first", "02:10 second"]);
}

#[test]
fn bad_tables_are_refused_with_a_reason() {
    for (text, expected) in [
        (r#"serail = ["sn"]"#, "unknown field `serail`"),
        (
            r#"serial = "sn""#,
            "invalid type: string \"sn\", expected a sequence",
        ),
        (r#"serial = [""]"#, "serial: names must not be empty"),
        (
            r#"contract = ["phone"]"#,
            "contract: \"phone\" looks like a phone number or uri",
        ),
        (
            r#"serial = ["sip_uri"]"#,
            "looks like a phone number or uri",
        ),
        (
            r#"details = ["callback_number"]"#,
            "looks like a phone number or uri",
        ),
        (
            r#"details = ["api_token"]"#,
            "details: \"api_token\" looks like a secret",
        ),
        (r#"summary = ["password"]"#, "looks like a secret"),
    ] {
        let e = map(text).unwrap_err();
        assert!(e.contains(expected), "{text}: {e}");
    }
}

#[test]
fn intake_section_reads_labels_and_auth() {
    let text = r#"
        [labels]
        serial = ["sn"]

        [auth.alertmanager]
        bearer = "0123456789abcdef-token"

        [auth.grafana]
        hmac_secret = "0123456789abcdef-secret"
    "#;
    let config: IntakeConfig = toml::from_str(text).unwrap();
    assert_eq!(config.labels.names(Target::Serial), ["sn"]);
    assert!(config.auth.get(Format::Alertmanager).is_some());
    assert!(config.auth.get(Format::Zabbix).is_none());
    // Secrets never show in Debug output (logs).
    let debug = format!("{config:?}");
    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    assert!(debug.contains("[redacted]"));

    let empty: IntakeConfig = toml::from_str("").unwrap();
    assert_eq!(empty.labels, LabelMap::default());
}

#[test]
fn bad_auth_tables_are_refused() {
    for (text, expected) in [
        (
            "[auth.alertmanager]\nbearer = \"short\"",
            "secret must be at least 16 characters",
        ),
        ("[auth.alertmanager]\n", "set bearer, hmac_secret, or both"),
        (
            "[auth.alertmanager]\nbearer = \"0123456789abcdef\"\nbasic = \"x\"",
            "unknown field `basic`",
        ),
        (
            "[auth.nagios]\nbearer = \"0123456789abcdef\"",
            "unknown field `nagios`",
        ),
        (
            "[auth.grafana]\nhmac_header = \"X-Sig\"\nbearer = \"0123456789abcdef\"",
            "hmac_header needs hmac_secret",
        ),
        (
            "[auth.grafana]\nhmac_secret = \"0123456789abcdef\"\nhmac_header = \"X Sig\"",
            "is not a header name",
        ),
        ("[lables]\n", "unknown field `lables`"),
    ] {
        let e = toml::from_str::<IntakeConfig>(text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{text}: {e}");
    }
}
