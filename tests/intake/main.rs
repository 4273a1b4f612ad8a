//! Intake: every fixture in tests/data/ into incidents, malformed bodies into
//! precise errors, and nothing a webhook says into a destination.

mod alertmanager;
mod auth;
mod fuzz;
mod generic;
mod grafana;
mod mapping;
mod pagerduty;
mod whitelist;
mod zabbix;

use hotline::incident::{Format, Incident, IntakeError, LabelMap};
use serde_json::Value;

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON, to edit.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixtures are json")
}

/// Parses a JSON value in `format` with the default label map.
pub fn parse_json(format: Format, value: &Value) -> Result<Vec<Incident>, IntakeError> {
    format.parse(value.to_string().as_bytes(), &LabelMap::default())
}

/// Parses, expecting exactly one incident.
pub fn one(format: Format, value: &Value) -> Incident {
    let mut incidents = parse_json(format, value).expect("parses");
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    incidents.remove(0)
}

/// Parses, expecting an error.
pub fn error(format: Format, value: &Value) -> IntakeError {
    match parse_json(format, value) {
        Ok(incidents) => panic!("expected an error, got {incidents:#?}"),
        Err(e) => e,
    }
}

/// Everything an incident holds, as one string, to search for leaks.
pub fn all_text(incident: &Incident) -> String {
    serde_json::to_string(incident).expect("incidents serialize")
}
