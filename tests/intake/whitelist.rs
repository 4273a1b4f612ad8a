//! Nothing in a webhook can carry a destination: hotline dials only the contacts
//! in its dialplans. These tests try to smuggle one in every way a sender could.

use std::collections::HashMap;

use hotline::dialplan::{Template, TemplateError};
use hotline::incident::{Format, Incident, REDACTED, is_destination_name};
use serde_json::{Value, json};

use crate::{all_text, fixture_json, one, parse_json};

/// Destination-looking names and values a hostile or careless sender might use.
const NAMES: &[&str] = &[
    "uri",
    "sip_uri",
    "SipURI",
    "phone",
    "phone_number",
    "vendor_phone",
    "number",
    "sip",
    "contact",
    "contact_number",
    "dial",
    "dial_string",
    "callback",
    "callback_url",
    "tel",
    "destination",
    "mobile",
    "fax",
    "pager",
];
const VALUES: &[&str] = &[
    "sip:+15550100666@evil.example.net",
    "tel:+15550100666",
    "+1 555 0100 666",
];

/// Labels: every destination name with a destination value.
fn hostile_labels() -> serde_json::Map<String, Value> {
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| (name.to_string(), json!(VALUES[i % VALUES.len()])))
        .collect()
}

/// Asset and fault, where a dialable value could do harm, as one string.
fn asset_and_fault(incident: &Incident) -> String {
    format!(
        "{}{}",
        serde_json::to_string(&incident.asset).unwrap(),
        serde_json::to_string(&incident.fault).unwrap()
    )
}

fn assert_inert(incident: &Incident) {
    let text = asset_and_fault(incident);
    for value in VALUES {
        assert!(!text.contains(value), "{value} reached asset/fault: {text}");
        assert!(!text.contains("15550100666"), "{text}");
    }
    for name in NAMES {
        if let Some(kept) = incident.labels.get(*name) {
            assert!(VALUES.contains(&kept.as_str()), "{name} = {kept}");
        }
    }
}

#[test]
fn the_model_has_no_field_that_could_hold_a_destination() {
    let incident = serde_json::to_value(Incident::default()).unwrap();
    let mut names = Vec::new();
    for part in [&incident, &incident["asset"], &incident["fault"]] {
        names.extend(part.as_object().unwrap().keys().cloned());
    }
    for name in names {
        assert!(
            !is_destination_name(&name),
            "Incident has a field named {name}"
        );
    }
}

#[test]
fn alertmanager_labels_and_annotations_stay_inert() {
    let mut value = fixture_json("alertmanager.json");
    for (name, v) in hostile_labels() {
        value["alerts"][0]["labels"][&name] = v.clone();
        value["alerts"][1]["annotations"][&name] = v;
    }
    let incidents = parse_json(Format::Alertmanager, &value).unwrap();
    for incident in &incidents {
        assert_inert(incident);
    }
    // Kept as labels, verbatim, for routing rules and the operator's eyes.
    assert_eq!(incidents[0].labels["sip_uri"], VALUES[1]);
    assert!(incidents[1].labels.contains_key("callback"));
}

#[test]
fn grafana_pagerduty_and_zabbix_keep_destinations_inert() {
    let mut grafana = fixture_json("grafana.json");
    for (name, v) in hostile_labels() {
        grafana["alerts"][0]["labels"][&name] = v.clone();
        grafana["alerts"][0]["annotations"][&name] = v;
    }
    assert_inert(&one(Format::Grafana, &grafana));

    let mut pagerduty = fixture_json("pagerduty_v2.json");
    let mut details = hostile_labels();
    details.insert(
        "escalation".into(),
        json!({"contact": {"number": VALUES[2]}}),
    );
    pagerduty["payload"]["custom_details"] = Value::Object(details);
    pagerduty["payload"]["component"] = json!("disk");
    let incident = one(Format::Pagerduty, &pagerduty);
    assert_inert(&incident);
    assert_eq!(incident.labels["escalation.contact.number"], VALUES[2]);

    let mut zabbix = fixture_json("zabbix.json");
    for (name, v) in hostile_labels() {
        zabbix[&name] = v;
    }
    zabbix["event_tags_json"] = json!(r#"[{"tag":"office_phone","value":"+1 555 0100 666"}]"#);
    let incident = one(Format::Zabbix, &zabbix);
    assert_inert(&incident);
    assert_eq!(incident.labels["office_phone"], "+1 555 0100 666");
    // The fixture's POC phone is a label and nothing else.
    assert_eq!(
        incident.labels["inventory_poc_primary_phone_a"],
        "+49 69 5550 1234"
    );
    assert!(!asset_and_fault(&incident).contains("5550 1234"));
}

#[test]
fn generic_labels_may_be_named_like_destinations_but_stay_inert() {
    let value =
        json!({"fingerprint": "x", "fault": {"summary": "disk"}, "labels": hostile_labels()});
    assert_inert(&one(Format::Generic, &value));
}

#[test]
fn template_looking_values_are_text_never_expanded() {
    let injections = [
        "{{ .Values }}",
        "{contract_digits}",
        "{{ template \"phone\" . }}",
        "${PHONE}",
        "{{ .CommonLabels.phone }}#",
    ];
    for injection in injections {
        let mut value = fixture_json("alertmanager.json");
        let alert = &mut value["alerts"][0];
        alert["labels"]["support_contract"] = json!(injection);
        alert["labels"]["vendor"] = json!(injection);
        alert["annotations"]["summary"] = json!(injection);
        alert["labels"]["phone"] = json!("+1 555 0100 666");
        let incident = &parse_json(Format::Alertmanager, &value).unwrap()[0];
        assert_eq!(incident.asset.contract.as_deref(), Some(injection));
        assert_eq!(incident.asset.vendor.as_deref(), Some(injection));
        assert_eq!(incident.fault.summary, injection);
        assert!(!all_text(incident).contains("Values\":"));
        assert!(!asset_and_fault(incident).contains("0100 666"));

        // And the dialplan refuses to key such a value in as DTMF.
        let template = Template::parse("{contract_digits}#").unwrap();
        let vars = HashMap::from([(
            "contract_digits".to_string(),
            incident.asset.contract.clone().unwrap(),
        )]);
        assert!(matches!(
            template.expand(&vars),
            Err(TemplateError::NotDtmf { .. })
        ));
    }
}

#[test]
fn secrets_are_never_copied_into_text() {
    let secrets = [
        ("password", "hunter2-very-secret"),
        ("db_pass", "pass-value-very-secret"),
        ("api_token", "tok-value-very-secret"),
        ("apiKey", "key-value-very-secret"),
        ("client_secret", "cs-value-very-secret"),
        ("Authorization", "Bearer abcdefghijklmnop"),
        ("note", "Bearer qrstuvwxyz012345"),
        (
            "ssh",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
        ),
    ];
    let check = |incident: &Incident| {
        let text = all_text(incident);
        for (_, secret) in secrets {
            let needle = secret.lines().nth(1).unwrap_or(secret);
            assert!(!text.contains(needle), "{needle} leaked: {text}");
        }
        assert_eq!(
            incident.labels.get("password").map(String::as_str),
            Some(REDACTED)
        );
    };

    let mut value = fixture_json("alertmanager.json");
    for (name, secret) in secrets {
        value["alerts"][0]["labels"][name] = json!(secret);
        value["alerts"][0]["annotations"][name] = json!(secret);
    }
    // Even a description made only of a token is not read aloud.
    value["alerts"][0]["annotations"]["description"] = json!("Bearer abcdefghijklmnop");
    let incident = &parse_json(Format::Alertmanager, &value).unwrap()[0];
    check(incident);
    assert_eq!(incident.fault.details, None);

    let mut pagerduty = fixture_json("pagerduty_v2.json");
    for (name, secret) in secrets {
        pagerduty["payload"]["custom_details"][name] = json!(secret);
    }
    pagerduty["payload"]["custom_details"]["db"] = json!({"password": "nested-very-secret"});
    let incident = one(Format::Pagerduty, &pagerduty);
    check(&incident);
    assert!(!all_text(&incident).contains("nested-very-secret"));

    let mut zabbix = fixture_json("zabbix.json");
    for (name, secret) in secrets {
        zabbix[name] = json!(secret);
    }
    zabbix["Token"] = json!("zabbix-token-very-secret");
    let incident = one(Format::Zabbix, &zabbix);
    assert!(!all_text(&incident).contains("zabbix-token-very-secret"));
    for (_, secret) in secrets {
        assert!(!all_text(&incident).contains(secret.lines().nth(1).unwrap_or(secret)));
    }

    let generic = json!({"fingerprint": "x", "fault": {"summary": "s", "details": "Bearer abcdefghijklmnop"},
                         "labels": {"password": "hunter2-very-secret"}});
    let incident = one(Format::Generic, &generic);
    check(&incident);
}
