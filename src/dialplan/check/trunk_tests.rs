//! `hotline check` on `[[trunks]]` and dialplans' `trunks = [..]`.

use std::fs;

use super::*;

const CONFIG: &str = r#"[sip]
bind = "127.0.0.1:5070"
transport = "udp"
from_user = "hotline"
[media]
advertise = "127.0.0.1"
rtp_ports = "20000-20999"
[recording]
dir = "recordings"
[sla]
answer_within = "30s"
[dialplans]
dir = "plans"
[http]
listen = "127.0.0.1:8080"
allow_unauthenticated_loopback = true
[ladder]
fallback_url = "https://tickets.example.net/p0"

[[trunks]]
name = "carrier"
proxy = "sip:sip.carrier.example"

[[trunks]]
name = "pbx"
proxy = "sip:127.0.0.1:5080"
"#;

const PLAN: &str = r#"vendor = "A"
trunks = ["carrier", "pbx"]

[[contacts]]
id = "a-support"
name = "n"
uri = "+15550100123"
source = "s"
verified_on = "2026-11-01"
ring_timeout = "30s"
menu = [{ play = "briefing" }]
trunks = ["pbx"]
"#;

fn run(config: &str, plan: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("plans")).unwrap();
    fs::write(dir.path().join("plans").join("a.toml"), plan).unwrap();
    let path = dir.path().join("hotline.toml");
    fs::write(&path, config).unwrap();
    check(&path, "2026-11-26".parse().unwrap(), DEFAULT_MAX_AGE)
}

#[test]
fn known_trunks_pass_and_numbers_have_a_trunk() {
    let report = run(CONFIG, PLAN);
    assert!(report.is_ok(), "{report:#?}");
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("cannot be dialled")),
        "{report:#?}"
    );
}

#[test]
fn unknown_trunk_names_are_reported_where_written() {
    let plan = PLAN
        .replace(
            "trunks = [\"carrier\", \"pbx\"]",
            "trunks = [\"carrier\", \"backup\"]",
        )
        .replace("trunks = [\"pbx\"]", "trunks = [\"pbxx\"]");
    let report = run(CONFIG, &plan);
    assert_eq!(report.errors.len(), 2, "{report:#?}");
    assert!(
        report.errors[0].ends_with(
            "a.toml:2:22: unknown trunk \"backup\" (hotline.toml defines: carrier, pbx)"
        ),
        "{report:#?}"
    );
    assert!(
        report.errors[1].contains("a.toml:12:11: unknown trunk \"pbxx\""),
        "{report:#?}"
    );
}

#[test]
fn without_trunks_the_implicit_one_is_named_sip() {
    let config = CONFIG.split("\n[[trunks]]").next().unwrap().to_string();
    let report = run(&config, PLAN);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("unknown trunk \"carrier\" (hotline.toml defines: sip)")),
        "{report:#?}"
    );
}

#[test]
fn bad_trunk_entries() {
    let config =
        CONFIG.replace("name = \"pbx\"", "name = \"carrier\"") + "proxy = \"sip:x.example\"\n";
    // A duplicate key is a TOML error at its line, reported alone.
    let report = run(&config, PLAN);
    assert!(!report.is_ok());
    let config = CONFIG.replace("name = \"pbx\"", "name = \"carrier\"");
    let report = run(&config, &PLAN.replace("\"pbx\"", "\"carrier\""));
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("hotline.toml:25:8: trunk \"carrier\" is defined twice")),
        "{report:#?}"
    );
    let config = CONFIG.replace(
        "proxy = \"sip:sip.carrier.example\"",
        "proxy = \"sips:sip.carrier.example\"\ntest_number = \"555\"",
    );
    let report = run(&config, PLAN);
    assert!(
        report.errors.iter().any(|e| e.contains("hotline.toml:22:9: trunk \"carrier\": proxy sips:sip.carrier.example needs transport = \"tls\"")),
        "{report:#?}"
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("test_number \"555\" is not an e.164 number")),
        "{report:#?}"
    );
    let both = CONFIG.replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\nproxy = \"sip:t.example\"",
    );
    let report = run(&both, PLAN);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.contains("[sip] proxy/auth/register and [[trunks]] both given")),
        "{report:#?}"
    );
}
