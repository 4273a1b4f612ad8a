//! `[[trunks]]`: loading, the implicit `[sip]` trunk, number formats, conflicts.

use std::fs;
use std::time::Duration;

use super::*;

const BASE: &str = r#"[sip]
bind = "127.0.0.1:5070"
transport = "udp"
from_user = "hotline"

[media]
advertise = "127.0.0.1"
rtp_ports = "20000-20999"
srtp = "optional"

[recording]
dir = "recordings"

[sla]
answer_within = "30s"

[dialplans]
dir = "dialplans"
"#;

const TWO: &str = r#"
[[trunks]]
name = "carrier"
proxy = "sip:sip.carrier.example"
transport = "tls"
max_channels = 10
max_cps = 5
options_interval = "15s"
test_number = "+15550100999"
srtp = "required"
advertise = "203.0.113.7"
caller_id = { display = "ACME NOC", user = "+15550100777", asserted = "sip:+15550100777@carrier.example" }
numbers = { style = "national", country_code = "49", national_prefix = "0", tech_prefix = "1234#" }
[trunks.auth]
username = "acme"
password = "secret"
[trunks.tls]
ca_file = "carrier-ca.pem"

[[trunks]]
name = "pbx"
proxy = "sip:127.0.0.1:5080"
"#;

fn load_text(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hotline.toml");
    fs::write(&path, text).unwrap();
    load(&path)
}

#[test]
fn without_trunks_sip_is_the_implicit_trunk() {
    let text = BASE.replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\nproxy = \"sip:trunk.example.net\"",
    );
    let config = load_text(&text).unwrap();
    let trunks = config.trunks();
    assert_eq!(trunks.len(), 1);
    assert_eq!(trunks[0].name, IMPLICIT_TRUNK);
    assert_eq!(trunks[0].number_domain(), Some("trunk.example.net"));
    assert_eq!(trunks[0].srtp, SrtpMode::Optional);
    assert_eq!(
        trunks[0].number_uri("+15550100123").as_deref(),
        Some("sip:+15550100123@trunk.example.net")
    );
    assert!(config.trunk_conflicts().is_empty());
}

#[test]
fn loads_several_trunks_with_their_settings() {
    let config = load_text(&format!("{BASE}{TWO}")).unwrap();
    let trunks = config.trunks();
    let names: Vec<&str> = trunks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["carrier", "pbx"]);
    let c = &trunks[0];
    assert_eq!(c.transport, Transport::Tls);
    assert_eq!(c.max_channels, Some(10));
    assert_eq!(c.max_cps, Some(5));
    assert_eq!(c.options_interval, Duration::from_secs(15));
    assert_eq!(c.srtp, SrtpMode::Required);
    assert_eq!(c.caller_id.display.as_deref(), Some("ACME NOC"));
    assert!(
        c.tls
            .as_ref()
            .unwrap()
            .ca_file
            .as_ref()
            .unwrap()
            .is_absolute()
    );
    assert_eq!(
        c.number_uri("+4930123456").as_deref(),
        Some("sip:1234#030123456@sip.carrier.example")
    );
    // Another country under `national` stays international.
    assert_eq!(c.numbers.format("+15550100123"), "1234#+15550100123");
    let p = &trunks[1];
    assert_eq!(p.transport, Transport::Udp, "[sip] transport by default");
    assert_eq!(p.srtp, SrtpMode::Optional, "[media] srtp by default");
    assert_eq!(p.options_interval, Duration::from_secs(30));
    assert_eq!(p.max_channels, None);
    assert!(config.trunk_conflicts().is_empty());
}

#[test]
fn number_styles() {
    let mut f = NumberFormat::default();
    assert_eq!(f.format("+15550100123"), "+15550100123");
    f.style = NumberStyle::E164NoPlus;
    assert_eq!(f.format("+15550100123"), "15550100123");
    f.style = NumberStyle::National;
    f.country_code = Some("1".into());
    assert_eq!(f.format("+15550100123"), "5550100123");
}

#[test]
fn bad_trunk_values_name_their_line() {
    let bad = TWO.replace("name = \"pbx\"", "name = \"p b x\"");
    let err = load_text(&format!("{BASE}{bad}")).unwrap_err().to_string();
    assert!(err.contains("bad trunk name"), "{err}");
    assert!(err.contains(":39:8:"), "{err}");
    let bad = TWO.replace("max_cps = 5", "max_cps = 0");
    let err = load_text(&format!("{BASE}{bad}")).unwrap_err().to_string();
    assert!(err.contains("at least 1"), "{err}");
    let bad = TWO.replace("proxy = \"sip:127.0.0.1:5080\"", "proxy = \"http://x\"");
    assert!(load_text(&format!("{BASE}{bad}")).is_err());
}

#[test]
fn conflicts_between_entries() {
    let dup = TWO.replace("name = \"pbx\"", "name = \"carrier\"");
    let config = load_text(&format!("{BASE}{dup}")).unwrap();
    let found = config.trunk_conflicts();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, Some(1));
    assert!(found[0].1.contains("defined twice"));

    let both = BASE.replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\nproxy = \"sip:trunk.example.net\"",
    );
    let config = load_text(&format!("{both}{TWO}")).unwrap();
    assert!(config.trunk_conflicts().iter().any(|(at, _)| at.is_none()));
}

#[test]
fn a_call_goes_out_on_the_first_preferred_trunk_of_the_endpoints_transport() {
    let config = load_text(&format!("{BASE}{TWO}")).unwrap();
    // No preference: the first trunk whose transport is [sip] transport (udp): pbx.
    assert_eq!(config.trunk_for(&[]).name, "pbx");
    let want = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(config.trunk_for(&want(&["carrier", "pbx"])).name, "pbx");
    // Only a TLS trunk preferred: it is still the one (the endpoint decides if it can).
    assert_eq!(config.trunk_for(&want(&["carrier"])).name, "carrier");
    // Without [[trunks]]: the implicit one.
    assert_eq!(load_text(BASE).unwrap().trunk_for(&[]).name, IMPLICIT_TRUNK);
}
