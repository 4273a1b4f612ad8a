//! `[[trunks]]` end to end: the real `hotline dial` binary places an E.164 contact on the
//! trunk its dialplan prefers (sipp as that trunk, answering a digest challenge), with the
//! trunk's number format and credentials, while another trunk is defined first.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn an_e164_contact_goes_out_on_its_preferred_trunk_with_its_format_and_credentials() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_auth.xml",
        "u1",
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "300ms" }, { hangup = true }"#,
        "",
    );
    // A first trunk nobody prefers (a closed port), then the sipp trunk.
    let dead = free_port(false);
    let trunks = format!(
        r#"
[[trunks]]
name = "carrier"
proxy = "sip:127.0.0.1:{dead}"

[[trunks]]
name = "pbx"
proxy = "sip:127.0.0.1:{port}"
max_channels = 2
max_cps = 1
caller_id = {{ user = "4930999" }}
numbers = {{ style = "national", country_code = "49", national_prefix = "0", tech_prefix = "77" }}
[trunks.auth]
username = "ops"
password = "s3cret"
"#,
        port = sipp.port
    );
    let mut cfg = std::fs::read_to_string(&s.config).expect("config");
    cfg.push_str(&trunks);
    std::fs::write(&s.config, cfg).expect("config");
    let plan_path = s.dir.path().join("dialplans/t.toml");
    let plan = std::fs::read_to_string(&plan_path).expect("plan");
    let plan = plan
        .replace(
            "vendor = \"Test vendor (sipp)\"",
            "vendor = \"Test vendor (sipp)\"\ntrunks = [\"pbx\"]",
        )
        .replace(
            &format!("uri = \"sip:support@127.0.0.1:{}\"", sipp.port),
            "uri = \"+4930123456\"",
        );
    std::fs::write(&plan_path, plan).expect("plan");

    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["termination"]["result"], "answered", "{v:#}");
    let invites: Vec<_> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "invite_sent")
        .collect();
    assert_eq!(
        invites.len(),
        2,
        "challenged once, answered with the trunk's credentials"
    );
    assert_eq!(invites[1]["authenticated"], true);
    assert_eq!(
        sipp.wait(Duration::from_secs(20)),
        0,
        "sipp verified our digest"
    );
    let text = v.to_string();
    assert!(
        text.contains("sip:77030123456@127.0.0.1"),
        "national format with the tech prefix: {text}"
    );
    let log = std::fs::read_to_string(s.dir.path().join("hotline.err")).expect("log");
    assert!(!log.contains("s3cret"), "the password never reaches a log");
}

#[test]
fn the_trunks_caller_id_is_on_the_invite() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_caller_id.xml", "u1", &[]);
    let s = setup("udp", sipp.port, "10s", "", "");
    let trunks = format!(
        r#"
[[trunks]]
name = "carrier"
proxy = "sip:127.0.0.1:{port}"
domain = "carrier.example"
caller_id = {{ display = "ACME NOC", user = "4930999", asserted = "sip:+4930999@carrier.example" }}
"#,
        port = sipp.port
    );
    let mut cfg = std::fs::read_to_string(&s.config).expect("config");
    cfg.push_str(&trunks);
    std::fs::write(&s.config, cfg).expect("config");
    let plan_path = s.dir.path().join("dialplans/t.toml");
    let plan = std::fs::read_to_string(&plan_path).expect("plan").replace(
        &format!("uri = \"sip:support@127.0.0.1:{}\"", sipp.port),
        "uri = \"+4930123456\"",
    );
    std::fs::write(&plan_path, plan).expect("plan");

    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 3, "sipp refuses with 486 once it checked: {v:#}");
    assert_eq!(v["trunk"], "carrier");
    assert_eq!(v["uri"], "sip:+4930123456@carrier.example");
    assert_eq!(
        sipp.wait(Duration::from_secs(10)),
        0,
        "From display name and user, P-Asserted-Identity and Privacy as configured"
    );
}
