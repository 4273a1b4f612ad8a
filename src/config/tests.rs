//! Loading `hotline.toml`: the happy path and every kind of error, by line.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::*;

const GOOD: &str = r#"[sip]
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
dir = "dialplans"
"#;

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("hotline.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn loads_good_config_and_resolves_paths() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(&write(dir.path(), GOOD)).unwrap();
    assert_eq!(
        config.sip.bind,
        "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
    );
    assert_eq!(config.sip.transport, Transport::Udp);
    assert_eq!(config.sip.user_agent, None);
    assert_eq!(config.sip.trunk_domain(), None);
    assert_eq!(
        config.media.rtp_ports,
        PortRange {
            start: 20000,
            end: 20999
        }
    );
    assert_eq!(config.recording.dir, dir.path().join("recordings"));
    assert_eq!(config.dialplans.dir, dir.path().join("dialplans"));
    assert_eq!(config.sla.answer_within, Duration::from_secs(30));
}

#[test]
fn absolute_paths_stay_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("dir = \"recordings\"", "dir = \"/var/lib/hotline\"");
    let config = load(&write(dir.path(), &text)).unwrap();
    assert_eq!(config.recording.dir, Path::new("/var/lib/hotline"));
}

#[test]
fn loads_trunk_settings() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD
        .replace(
            "from_user = \"hotline\"\n",
            r#"from_user = "hotline"
user_agent = "hotline/0.1"
proxy = "sip:trunk.example.net:5060"

[sip.auth]
username = "alice"
password = "s3cret"

[sip.register]
registrar = "sip:trunk.example.net"
expires = "10m"
"#,
        )
        .replace("transport = \"udp\"", "transport = \"tcp\"");
    let config = load(&write(dir.path(), &text)).unwrap();
    let sip = &config.sip;
    assert_eq!(sip.transport, Transport::Tcp);
    assert_eq!(sip.user_agent.as_deref(), Some("hotline/0.1"));
    assert_eq!(sip.trunk_domain(), Some("trunk.example.net"));
    let auth = sip.auth.as_ref().unwrap();
    assert_eq!((auth.username.as_str(), auth.realm.len()), ("alice", 0));
    assert!(!format!("{auth:?}").contains("s3cret"));
    let register = sip.register.as_ref().unwrap();
    assert_eq!(register.registrar.host(), "trunk.example.net");
    assert_eq!(register.expires, Duration::from_secs(600));

    let with_domain = text.replace(
        "[sip.auth]",
        "domain = \"carrier.example.org\"\n\n[sip.auth]",
    );
    let config = load(&write(dir.path(), &with_domain)).unwrap();
    assert_eq!(config.sip.trunk_domain(), Some("carrier.example.org"));
}

#[test]
fn port_zero_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("127.0.0.1:5070", "0.0.0.0:0");
    assert_eq!(load(&write(dir.path(), &text)).unwrap().sip.bind.port(), 0);
}

#[test]
fn missing_file_names_the_path() {
    let err = load(Path::new("/nonexistent/hotline.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/hotline.toml: cannot read"),
        "{err}"
    );
}

/// Each case edits `GOOD` (replace `from` with `to`) and expects an error at
/// `line:col` whose message contains `needle`.
#[test]
fn errors_point_at_line_and_column() {
    let cases: &[(&str, &str, usize, usize, &str)] = &[
        // toml syntax
        (
            "bind = \"127.0.0.1:5070\"",
            "bind = \"127.0.0.1:5070",
            2,
            23,
            "invalid basic string",
        ),
        // unknown keys and sections
        (
            "transport = \"udp\"",
            "transport = \"udp\"\ncolour = \"red\"",
            4,
            1,
            "unknown field `colour`",
        ),
        (
            "[dialplans]",
            "[extra]\nx = 1\n\n[dialplans]",
            16,
            2,
            "unknown field `extra`",
        ),
        (
            "dir = \"recordings\"",
            "dir = \"recordings\"\nformat = \"wav\"",
            12,
            1,
            "unknown field `format`",
        ),
        // bad values
        (
            "\"udp\"",
            "\"sctp\"",
            3,
            13,
            "unknown variant `sctp`, expected one of `udp`, `tcp`, `tls`",
        ),
        (
            "\"127.0.0.1:5070\"",
            "\"localhost\"",
            2,
            8,
            "bad address \"localhost\"",
        ),
        ("\"hotline\"", "\"hot line\"", 4, 13, "bad sip user"),
        (
            "advertise = \"127.0.0.1\"",
            "advertise = \"0.0.0.0\"",
            7,
            13,
            "unspecified",
        ),
        (
            "advertise = \"127.0.0.1\"",
            "advertise = \"my-host\"",
            7,
            13,
            "bad ip address \"my-host\"",
        ),
        (
            "\"20000-20999\"",
            "\"20001-20999\"",
            8,
            13,
            "start must be even",
        ),
        (
            "\"20000-20999\"",
            "\"21000-20000\"",
            8,
            13,
            "start is after end",
        ),
        ("\"20000-20999\"", "\"20000\"", 8, 13, "bad port range"),
        ("\"30s\"", "\"30 s\"", 14, 17, "bad duration \"30 s\""),
        ("\"30s\"", "\"0s\"", 14, 17, "greater than zero"),
        ("\"30s\"", "\"-5s\"", 14, 17, "negative"),
        ("\"30s\"", "\"30\"", 14, 17, "missing unit"),
        ("\"30s\"", "\"3d\"", 14, 17, "unknown unit"),
        ("\"30s\"", "30", 14, 17, "expected a duration"),
        (
            "dir = \"dialplans\"",
            "dir = \"\"",
            17,
            7,
            "must not be empty",
        ),
        // missing keys point at their table
        (
            "from_user = \"hotline\"\n",
            "",
            1,
            1,
            "missing field `from_user`",
        ),
        // optional sections
        (
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\nproxy = \"trunk.example.net\"",
            5,
            9,
            "must start with sip:",
        ),
        (
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\ndomain = \"bad domain\"",
            5,
            10,
            "bad domain",
        ),
        (
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\n[sip.auth]\nusername = \"a\"\npassword = \"b\"\nrealmm = \"x\"",
            8,
            1,
            "unknown field `realmm`",
        ),
        (
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\n[sip.register]\nregistrar = \"sip:trunk.example.net\"\nexpires = \"0s\"",
            7,
            11,
            "greater than zero",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (from, to, line, col, needle) in cases {
        assert!(GOOD.contains(from), "case {from:?} does not apply");
        let path = write(dir.path(), &GOOD.replacen(from, to, 1));
        let err = load(&path).expect_err(&format!("{to:?} should fail"));
        let text = err.to_string();
        let prefix = format!("{}:{line}:{col}: ", path.display());
        assert!(
            text.starts_with(&prefix),
            "{to:?}: want {prefix:?}, got {text:?}"
        );
        assert!(text.contains(needle), "{to:?}: want {needle:?} in {text:?}");
    }
}

#[test]
fn briefing_section_is_optional_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let plain = load(&write(dir.path(), GOOD)).unwrap();
    assert_eq!(plain.briefing, BriefingConfig::default());
    assert_eq!(plain.briefing.timeout, Duration::from_secs(10));
    let text = format!(
        "{GOOD}\n[briefing]\ncaller = \"Example Corp operations\"\ncallback = \"+1 555 0100 999\"\n\
         engine = \"openai\"\nurl = \"http://127.0.0.1:8000\"\nvoice = \"alloy\"\ntimeout = \"3s\"\n"
    );
    let b = load(&write(dir.path(), &text)).unwrap().briefing;
    assert_eq!(b.caller.as_deref(), Some("Example Corp operations"));
    assert_eq!(b.engine, EngineKind::Openai);
    assert_eq!(b.timeout, Duration::from_secs(3));
    let lines = GOOD.lines().count();
    for (bad, needle) in [
        ("calller = \"x\"", "unknown field `calller`"),
        ("engine = \"festival\"", "unknown variant `festival`"),
        ("timeout = \"0s\"", ""),
        ("caller = \"\"", "must not be empty"),
    ] {
        let path = write(dir.path(), &format!("{GOOD}\n[briefing]\n{bad}\n"));
        let err = load(&path).unwrap_err().to_string();
        let prefix = format!("{}:{}:", path.display(), lines + 3);
        assert!(err.starts_with(&prefix), "{bad}: want {prefix}, got {err}");
        assert!(err.contains(needle), "{bad}: {err}");
    }
}

#[test]
fn sip_auth_realm_is_one_or_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let with = |realm: &str| {
        GOOD.replace(
            "from_user = \"hotline\"",
            &format!(
                "from_user = \"hotline\"\n[sip.auth]\nusername = \"a\"\npassword = \"b\"\n{realm}"
            ),
        )
    };
    let one = load(&write(dir.path(), &with("realm = \"t.example\""))).unwrap();
    assert_eq!(one.sip.auth.unwrap().realm, vec!["t.example"]);
    let two = load(&write(
        dir.path(),
        &with("realm = [\"a.example\", \"b.example\"]"),
    ))
    .unwrap();
    assert_eq!(two.sip.auth.unwrap().realm, vec!["a.example", "b.example"]);
    let err = load(&write(dir.path(), &with("realm = [\"\"]"))).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("empty realm") && text.contains(":8:"),
        "{text}"
    );
}

#[test]
fn ladder_reached_defaults_to_every_fact_and_refuses_an_empty_list() {
    use super::Reached;
    let dir = tempfile::tempdir().unwrap();
    let config = load(&write(dir.path(), GOOD)).unwrap();
    assert_eq!(config.ladder.reached, Reached::DEFAULT);
    let text = format!("{GOOD}\n[ladder]\nreached = [\"operator_joined\"]\n");
    let config = load(&write(dir.path(), &text)).unwrap();
    assert_eq!(config.ladder.reached, [Reached::OperatorJoined]);
    let text = format!("{GOOD}\n[ladder]\nreached = []\n");
    let err = load(&write(dir.path(), &text)).unwrap_err().to_string();
    assert!(err.contains("reached must name at least one"), "{err}");
    let text =
        format!("{GOOD}\n[ladder]\nreached = [\"person_briefed\"]\nhuman_sla_miss = \"keep\"\n");
    let config = load(&write(dir.path(), &text)).unwrap();
    assert_eq!(config.ladder.reached, [Reached::PersonBriefed]);
    assert_eq!(config.ladder.human_sla_miss, super::HumanSlaMiss::Keep);
    let text = format!("{GOOD}\n[ladder]\nhuman_sla_miss = \"hang_up\"\n");
    let err = load(&write(dir.path(), &text)).unwrap_err().to_string();
    assert!(err.contains("unknown variant `hang_up`"), "{err}");
    let text = format!("{GOOD}\n[ladder]\nreached = [\"human_heard\"]\n");
    let err = load(&write(dir.path(), &text)).unwrap_err().to_string();
    assert!(err.contains("unknown variant `human_heard`"), "{err}");
}

#[test]
fn storm_caps_have_defaults_and_refuse_zero() {
    use crate::config::GroupBy;
    let dir = tempfile::tempdir().unwrap();
    let config = load(&write(dir.path(), GOOD)).unwrap();
    let l = &config.ladder;
    assert_eq!(
        (
            l.group_by,
            l.max_calls,
            l.per_delivery,
            l.per_dialplan,
            l.rtp_share_percent
        ),
        (GroupBy::Asset, 1, 10, 20, 50)
    );
    let text = format!(
        "{GOOD}\n[ladder]\ngroup_by = \"site\"\nmax_calls = 3\nper_delivery = 4\n\
         per_dialplan = 5\nrtp_share_percent = 25\n"
    );
    let l = load(&write(dir.path(), &text)).unwrap().ladder;
    assert_eq!(
        (
            l.group_by,
            l.max_calls,
            l.per_delivery,
            l.per_dialplan,
            l.rtp_share_percent
        ),
        (GroupBy::Site, 3, 4, 5, 25)
    );
    for bad in [
        "max_calls = 0",
        "per_delivery = 0",
        "rtp_share_percent = 0",
        "rtp_share_percent = 101",
        "group_by = \"rack\"",
    ] {
        let text = format!("{GOOD}\n[ladder]\n{bad}\n");
        assert!(load(&write(dir.path(), &text)).is_err(), "{bad}");
    }
    // 20000-20999: 500 even ports; half of them for one dialplan's calls.
    let r = config.media.rtp_ports;
    let ports = u32::from((r.end - r.start) / 2 + 1);
    assert_eq!(crate::config::rtp_calls(ports, 50), 250);
    assert_eq!(crate::config::rtp_calls(1, 50), 1, "never none");
}

#[test]
fn tls_transport_trust_and_srtp_load() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD
        .replacen("transport = \"udp\"", "transport = \"tls\"", 1)
        .replacen(
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\n[sip.tls]\nca_file = \"ca/trunk.pem\"\nserver_name = \"sip.trunk.example\"",
            1,
        )
        .replacen(
            "rtp_ports = \"20000-20999\"",
            "rtp_ports = \"20000-20999\"\nsrtp = \"optional\"",
            1,
        );
    let config = load(&write(dir.path(), &text)).expect("loads");
    assert_eq!(config.sip.transport, Transport::Tls);
    let tls = config.sip.tls.expect("[sip.tls]");
    assert_eq!(
        tls.ca_file,
        Some(dir.path().join("ca/trunk.pem")),
        "relative to the file"
    );
    assert_eq!(tls.server_name.as_deref(), Some("sip.trunk.example"));
    assert_eq!(config.media.srtp, crate::config::SrtpMode::Optional);
    let bad = text.replacen("srtp = \"optional\"", "srtp = \"maybe\"", 1);
    let err = load(&write(dir.path(), &bad)).expect_err("bad srtp");
    assert!(err.to_string().contains("unknown variant `maybe`"), "{err}");
}
