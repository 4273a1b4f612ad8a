//! Unit tests of intake's helpers; whole bodies are tested in tests/intake/.

use std::collections::BTreeMap;

use super::json::{parse_time, quote};
use super::limits::clip;
use super::mapping::{LabelMap, Target};
use super::{Severity, fingerprint, is_destination_name, is_secret_name, looks_like_secret_value};

#[test]
fn destination_names() {
    for name in [
        "uri",
        "sip_uri",
        "SipUri",
        "phone",
        "phoneNumber",
        "vendor_phone",
        "number",
        "sip",
        "contact",
        "contact_number",
        "dial",
        "dialString",
        "callback",
        "callback_url",
        "tel",
        "fax",
        "pager",
        "destination",
        "inventory_poc_primary_phone_a",
        "MSISDN",
        "e164",
    ] {
        assert!(is_destination_name(name), "{name}");
    }
    for name in [
        "serial_number",
        "contract_number",
        "security",
        "site",
        "instance",
        "runbook_url",
        "description",
        "vendor",
        "model",
        "numbers_of_disks",
        "celsius",
    ] {
        assert!(!is_destination_name(name), "{name}");
    }
}

#[test]
fn secret_names_and_values() {
    for name in [
        "password",
        "db_pass",
        "passwd",
        "api_token",
        "apiToken",
        "api_key",
        "apiKey",
        "client_secret",
        "Authorization",
        "session_cookie",
        "routing_key",
        "pin",
        "ssh-key",
        "x_hub_signature",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    for name in [
        "summary",
        "passenger_count",
        "monkey",
        "keyboard",
        "author",
        "serial",
    ] {
        assert!(!is_secret_name(name), "{name}");
    }
    assert!(looks_like_secret_value("Bearer abcdefgh12345"));
    assert!(looks_like_secret_value("basic dXNlcjpwYXNz"));
    assert!(looks_like_secret_value(
        "x\n-----BEGIN RSA PRIVATE KEY-----\n"
    ));
    assert!(!looks_like_secret_value("Basic health check failed"));
    assert!(!looks_like_secret_value("bearer"));
}

#[test]
fn severity_vocabularies() {
    for (word, severity) in [
        ("CRITICAL", Severity::Critical),
        ("Disaster", Severity::Critical),
        ("P1", Severity::Critical),
        ("sev-1", Severity::Critical),
        ("High", Severity::Major),
        ("major", Severity::Major),
        ("Average", Severity::Warning),
        ("Not classified", Severity::Info),
        ("informational", Severity::Info),
    ] {
        assert_eq!(Severity::from_word(word), Some(severity), "{word}");
    }
    assert_eq!(Severity::from_word("whatever"), None);
    assert_eq!(Severity::from_word(""), None);
    assert_eq!(Severity::from_zabbix_level("5"), Some(Severity::Critical));
    assert_eq!(Severity::from_zabbix_level("0"), Some(Severity::Info));
    assert_eq!(Severity::from_zabbix_level("6"), None);
}

#[test]
fn every_target_has_a_key_and_defaults() {
    let defaults = LabelMap::default();
    let keys: Vec<&str> = Target::all().map(Target::key).collect();
    assert_eq!(keys.len(), 23);
    for target in Target::all() {
        assert!(!target.key().is_empty());
        assert!(!defaults.names(target).is_empty(), "{target}");
        // Every key is accepted by the table reader.
        let table: toml::Value = toml::from_str(&format!("{} = [\"x\"]", target.key())).unwrap();
        assert_eq!(
            LabelMap::from_toml_value(table).unwrap().names(target),
            ["x"]
        );
        for name in defaults.names(target) {
            assert!(
                !is_secret_name(name) && !is_destination_name(name),
                "{name}"
            );
        }
    }
    assert!(Target::Timezone.is_asset() && !Target::Summary.is_asset());
}

#[test]
fn fingerprints_are_stable_and_unambiguous() {
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let a = fingerprint::of_labels(&labels(&[("alertname", "X"), ("instance", "h:9100")]));
    // Fixed across builds and machines: a stored incident keeps its identity.
    assert_eq!(
        a,
        fingerprint::of_labels(&labels(&[("instance", "h:9100"), ("alertname", "X")]))
    );
    assert_eq!(a.len(), 16);
    assert_ne!(
        fingerprint::of_labels(&labels(&[("ab", "c")])),
        fingerprint::of_labels(&labels(&[("a", "bc")]))
    );
    assert_eq!(fingerprint::of_labels(&BTreeMap::new()), "e3b0c44298fc1c14");
}

#[test]
fn clip_and_quote_respect_characters() {
    assert_eq!(clip("abc", 5), "abc");
    assert_eq!(clip("ééééééé", 5), "éé...");
    assert_eq!(clip("ééééééé", 5).chars().count(), 5);
    assert_eq!(quote(&"ü".repeat(100)).chars().count(), 67);
}

#[test]
fn times_with_and_without_colon_offsets() {
    assert!(parse_time("2024-05-03T02:14:37Z").is_some());
    assert!(parse_time("2024-05-03T02:14:37.512+00:00").is_some());
    assert!(parse_time("2024-05-03T02:14:37.512+0000").is_some());
    assert_eq!(
        parse_time("2024-05-03T04:14:37+0200"),
        parse_time("2024-05-03T02:14:37Z")
    );
    assert!(parse_time("2024-05-03T02:14:37").is_none());
    assert!(parse_time("2024-05-03").is_none());
}
