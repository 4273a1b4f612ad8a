//! `hotline check`: one small config per case, in a temp dir.

use std::fs;
use std::path::{Path, PathBuf};

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
"#;

fn contact(id: &str, uri: &str, verified_on: &str) -> String {
    format!(
        "\n[[contacts]]\nid = \"{id}\"\nname = \"n\"\nuri = \"{uri}\"\nsource = \"s\"\n\
         verified_on = \"{verified_on}\"\nring_timeout = \"30s\"\nmenu = [{{ play = \"briefing\" }}]\n"
    )
}

fn setup(config: &str, plans: &[(&str, String)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("plans")).unwrap();
    for (name, text) in plans {
        fs::write(dir.path().join("plans").join(name), text).unwrap();
    }
    let path = dir.path().join("hotline.toml");
    fs::write(&path, config).unwrap();
    (dir, path)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[test]
fn config_error_stops_early() {
    let (_dir, path) = setup(&CONFIG.replace("\"udp\"", "\"sctp\""), &[]);
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    assert!(!report.is_ok());
    assert_eq!(report.errors.len(), 1, "{report:#?}");
    assert!(report.errors[0].ends_with(
        "hotline.toml:3:13: unknown variant `sctp`, expected one of `udp`, `tcp`, `tls`"
    ));
}

#[test]
fn collects_errors_and_warnings_from_all_files() {
    let (_dir, path) = setup(
        CONFIG,
        &[
            (
                "a.toml",
                format!(
                    "vendor = \"A\"\n{}",
                    contact("a-old", "+15550100123", "2025-01-01")
                ),
            ),
            (
                "b.toml",
                format!("vendor = \"B\"\n{}", contact("b-bad", "555", "2026-11-01")),
            ),
            (
                "c.toml",
                format!(
                    "vendor = \"C\"\n{}",
                    contact("a-old", "sip:x@example.com", "2026-11-01")
                ),
            ),
            (
                "d.toml",
                format!(
                    "vendor = \"D\"\n{}",
                    contact("d-future", "sip:y@example.com", "2027-01-01")
                ),
            ),
            ("e.toml", "vendor = \"E\"\ncolour = 1\n".to_string()),
        ],
    );
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    let errors: Vec<_> = report
        .errors
        .iter()
        .map(|e| e.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "b.toml:6:7: bad uri \"555\": use an e.164 number like \"+15550100123\" or a sip: uri",
            "a.toml:4:6)",
            "e.toml:2:1: unknown field `colour`, expected one of `vendor`, `match`, `hours`, `contacts`, `briefing`, `vars`, `strategy`, `group_by`, `max_calls`, `max_ladders`, `trunks`, `response_within`",
        ],
        "{report:#?}"
    );
    assert!(report.errors[1].contains("c.toml:4:6: duplicate contact id \"a-old\""));
    let warnings: Vec<_> = report
        .warnings
        .iter()
        .map(|w| w.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        warnings,
        [
            "a.toml:8:15: contact a-old: number last verified 694 days ago (over 365); check it again",
            "a.toml:4:6: contact a-old: +15550100123 cannot be dialled until sip.proxy or sip.domain is set",
            "d.toml:8:15: contact d-future: verified_on 2027-01-01 is in the future",
        ],
        "{report:#?}"
    );
}

#[test]
fn trunk_silences_the_e164_warning() {
    let config = CONFIG.replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\nproxy = \"sip:trunk.example.net\"",
    );
    let plan = format!(
        "vendor = \"A\"\n{}",
        contact("a", "+15550100123", "2026-11-01")
    );
    let (_dir, path) = setup(&config, &[("a.toml", plan)]);
    assert_eq!(
        check(&path, day("2026-11-26"), DEFAULT_MAX_AGE),
        Report::default()
    );
}

#[test]
fn empty_dialplan_dir_warns() {
    let (_dir, path) = setup(CONFIG, &[]);
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    assert!(report.is_ok());
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].ends_with("plans: no dialplans found"),
        "{report:#?}"
    );
}

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/hotline.toml");

#[test]
fn shipped_files_are_valid() {
    let config = config::load(Path::new(SHIPPED)).unwrap();
    assert_eq!(
        config.sip.bind,
        "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
    );
    let plans = crate::dialplan::load_dir(&config.dialplans.dir).unwrap();
    let ids: Vec<_> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["dell", "demo", "hpe", "inspur"]);
    let inspur = plans.get("inspur").unwrap();
    assert_eq!(inspur.briefing.language, crate::config::Language::Zh);
    assert_eq!(
        config.briefing.caller.as_deref(),
        Some("Example Corp operations")
    );
    let (_, demo) = plans.contact("demo-line").unwrap();
    assert_eq!(
        demo.destination.request_uri(None).unwrap(),
        "sip:hold@127.0.0.1:5090"
    );

    let report = check(Path::new(SHIPPED), day("2026-11-26"), DEFAULT_MAX_AGE);
    assert!(report.is_ok(), "{report:#?}");
    // The E.164 numbers (until a trunk is configured), the demo's deliberate SLA misses, the
    // unset webhook token of the loopback demo and the missing fallback ticket.
    let kinds = [
        "cannot be dialled until",
        "is longer than its answer_within",
        "HOTLINE_WEBHOOK_TOKEN is not set (accepted only because",
        "no [ladder] fallback_url",
    ];
    for w in &report.warnings {
        assert!(kinds.iter().any(|k| w.contains(k)), "{w}");
    }
    for k in kinds {
        assert!(report.warnings.iter().any(|w| w.contains(k)), "{k}");
    }
}

/// A clean plan: routed, the briefing played, a known placeholder.
const PLAN_A: &str = r#"vendor = "A"
[[match]]
vendor = "a"
[[contacts]]
id = "a"
name = "n"
uri = "sip:a@127.0.0.1"
source = "s"
verified_on = "2026-11-01"
ring_timeout = "20s"
menu = [
  { dtmf = "{contract_digits}#" },
  { play = "briefing" },
]
"#;

enum Kind {
    Error,
    Warning,
}

/// One case: edits to `CONFIG` and `PLAN_A` (or an extra plan), the file and the marker text
/// on the line the message must point at, and a piece of the message.
struct Case {
    name: &'static str,
    config: &'static [(&'static str, &'static str)],
    plan: &'static [(&'static str, &'static str)],
    extra_plan: Option<&'static str>,
    kind: Kind,
    file: &'static str,
    line_of: &'static str,
    says: &'static str,
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in {text}"));
    text[..at].matches('\n').count() + 1
}

fn run_case(config: &str, plan: &str, extra: Option<&str>) -> (tempfile::TempDir, Report) {
    let mut plans = vec![("a.toml", plan.to_string())];
    if let Some(b) = extra {
        plans.push(("b.toml", b.to_string()));
    }
    let (dir, path) = setup(config, &plans);
    fs::write(
        dir.path().join("blocker"),
        "a file where a folder should be",
    )
    .unwrap();
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    (dir, report)
}

#[test]
fn each_case_is_caught_with_its_file_and_line() {
    let (_d, clean) = run_case(CONFIG, PLAN_A, None);
    assert_eq!(clean, Report::default(), "the base fixtures are clean");
    let cases = [
        Case {
            name: "typo'd placeholder",
            config: &[],
            plan: &[("{contract_digits}#", "{contract_digit}#")],
            extra_plan: None,
            kind: Kind::Error,
            file: "a.toml",
            line_of: "{contract_digit}#",
            says: "contact a: unknown placeholder {contract_digit}: every call would fail; did you mean {contract_digits}?",
        },
        Case {
            name: "unset ${ENV} secret",
            config: &[(
                "from_user = \"hotline\"",
                "from_user = \"hotline\"\n[sip.auth]\nusername = \"u\"\npassword = \"${HOTLINE_TEST_UNSET_SIP}\"",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "${HOTLINE_TEST_UNSET_SIP}",
            says: "sip.auth.password: environment variable HOTLINE_TEST_UNSET_SIP is not set",
        },
        Case {
            name: "empty SIP password",
            config: &[(
                "from_user = \"hotline\"",
                "from_user = \"hotline\"\n[sip.auth]\nusername = \"u\"\npassword = \"\"",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "password = \"\"",
            says: "[sip.auth] password is empty",
        },
        Case {
            name: "operator uri neither SIP nor E.164",
            config: &[(
                "[dialplans]",
                "[[operators]]\nid = \"al\"\nname = \"Al\"\nuri = \"555-0100\"\n[dialplans]",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"555-0100\"",
            says: "operator al: bad uri \"555-0100\"",
        },
        Case {
            name: "ring_on_human names an unknown operator",
            config: &[(
                "[dialplans]",
                "[[operators]]\nid = \"al\"\nname = \"Al\"\nuri = \"sip:al@127.0.0.1\"\n\
                 [bridge]\nring_on_human = [\"al\", \"oncall-primary\"]\n[dialplans]",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"oncall-primary\"",
            says: "[bridge] ring_on_human names \"oncall-primary\", which is no [[operators]] id",
        },
        Case {
            name: "callback ring_operators names an unknown operator",
            config: &[(
                "[dialplans]",
                "[[operators]]\nid = \"al\"\nname = \"Al\"\nuri = \"sip:al@127.0.0.1\"\n\
                 [callback]\nnumber = \"+15550100200\"\nring_operators = [\"al\", \"bo\"]\n[dialplans]",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"bo\"",
            says: "[callback] ring_operators names \"bo\", which is no [[operators]] id",
        },
        Case {
            name: "fallback_url without a scheme",
            config: &[(
                "\"https://tickets.example.net/p0\"",
                "\"tickets.example.net/p0\"",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"tickets.example.net/p0\"",
            says: "[ladder] fallback_url \"tickets.example.net/p0\": no scheme; write it as https://tickets.example.net/p0",
        },
        Case {
            name: "public_url without a scheme",
            config: &[(
                "[ladder]",
                "[bridge]\npublic_url = \"hotline.example.net\"\n[ladder]",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"hotline.example.net\"",
            says: "[bridge] public_url \"hotline.example.net\": no scheme",
        },
        Case {
            name: "unknown prompt",
            config: &[],
            plan: &[("{ play = \"briefing\" }", "{ play = \"prompt:beeep\" }")],
            extra_plan: None,
            kind: Kind::Warning,
            file: "a.toml",
            line_of: "prompt:beeep",
            says: "contact a: prompt:beeep is not a built-in prompt (beep); it would be spoken as the words \"beeep\"",
        },
        Case {
            name: "empty menu",
            config: &[],
            plan: &[(
                "menu = [\n  { dtmf = \"{contract_digits}#\" },\n  { play = \"briefing\" },\n]",
                "menu = []",
            )],
            extra_plan: None,
            kind: Kind::Warning,
            file: "a.toml",
            line_of: "menu = []",
            says: "contact a: the menu is empty",
        },
        Case {
            name: "identical [[match]] rules",
            config: &[],
            plan: &[],
            extra_plan: Some(
                "vendor = \"B\"\n[[match]]\nvendor = \"A\"\n[[contacts]]\nid = \"b\"\nname = \"n\"\n\
                 uri = \"sip:b@127.0.0.1\"\nsource = \"s\"\nverified_on = \"2026-11-01\"\n\
                 ring_timeout = \"20s\"\nmenu = [{ play = \"briefing\" }]\n",
            ),
            kind: Kind::Error,
            file: "b.toml",
            line_of: "[[match]]",
            says: "this [[match]] rule is identical to one in dialplan a (",
        },
        Case {
            name: "ring_timeout beyond the ladder's ring",
            config: &[],
            plan: &[("ring_timeout = \"20s\"", "ring_timeout = \"45s\"")],
            extra_plan: None,
            kind: Kind::Warning,
            file: "a.toml",
            line_of: "ring_timeout",
            says: "contact a: ring_timeout 45s is longer than its answer_within 30s: a sequential ladder stops ringing at 30s",
        },
        Case {
            name: "recordings folder cannot be written",
            config: &[("dir = \"recordings\"", "dir = \"blocker/recordings\"")],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "\"blocker/recordings\"",
            says: "blocker is not a folder",
        },
        Case {
            name: "no fallback at all",
            config: &[("fallback_url = \"https://tickets.example.net/p0\"\n", "")],
            plan: &[],
            extra_plan: None,
            kind: Kind::Warning,
            file: "hotline.toml",
            line_of: "[ladder]",
            says: "no [ladder] fallback_url",
        },
        Case {
            name: "webhook token unset but loopback demo mode",
            config: &[(
                "[ladder]",
                "[intake.auth.generic]\nbearer = \"${HOTLINE_TEST_UNSET_HOOK}\"\n[ladder]",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Warning,
            file: "hotline.toml",
            line_of: "${HOTLINE_TEST_UNSET_HOOK}",
            says: "environment variable HOTLINE_TEST_UNSET_HOOK is not set (accepted only because",
        },
        Case {
            name: "API token unset off loopback",
            config: &[(
                "listen = \"127.0.0.1:8080\"\nallow_unauthenticated_loopback = true",
                "listen = \"0.0.0.0:8080\"\napi_token = \"${HOTLINE_TEST_UNSET_API}\"",
            )],
            plan: &[],
            extra_plan: None,
            kind: Kind::Error,
            file: "hotline.toml",
            line_of: "${HOTLINE_TEST_UNSET_API}",
            says: "http.api_token: environment variable HOTLINE_TEST_UNSET_API is not set",
        },
    ];
    for case in cases {
        let mut config = CONFIG.to_string();
        for (from, to) in case.config {
            assert!(config.contains(from), "{}: {from}", case.name);
            config = config.replacen(from, to, 1);
        }
        let mut plan = PLAN_A.to_string();
        for (from, to) in case.plan {
            assert!(plan.contains(from), "{}: {from}", case.name);
            plan = plan.replacen(from, to, 1);
        }
        let (_d, report) = run_case(&config, &plan, case.extra_plan);
        let text = match case.file {
            "hotline.toml" => config.as_str(),
            "a.toml" => plan.as_str(),
            _ => case.extra_plan.unwrap_or_default(),
        };
        let want = format!("{}:{}:", case.file, line_of(text, case.line_of));
        let (found, other) = match case.kind {
            Kind::Error => (&report.errors, &report.warnings),
            Kind::Warning => (&report.warnings, &report.errors),
        };
        assert!(
            found
                .iter()
                .any(|m| m.contains(&format!("/{want}")) && m.contains(case.says)),
            "{}: want {want} ... {}\n{report:#?}",
            case.name,
            case.says
        );
        assert_eq!(found.len(), 1, "{}: one finding\n{report:#?}", case.name);
        assert!(other.is_empty(), "{}: nothing else\n{report:#?}", case.name);
    }
}

#[test]
fn every_missing_secret_is_named_at_once() {
    let config = CONFIG
        .replace(
            "from_user = \"hotline\"",
            "from_user = \"hotline\"\n[sip.auth]\nusername = \"u\"\npassword = \"${HOTLINE_TEST_UNSET_1}\"",
        )
        .replace(
            "fallback_url = \"https://tickets.example.net/p0\"",
            "fallback_url = \"https://tickets.example.net/p0\"\nfallback_token = \"${HOTLINE_TEST_UNSET_2}\"",
        )
        .replace(
            "[ladder]",
            "[intake.auth.grafana]\nhmac_secret = \"${HOTLINE_TEST_UNSET_3}\"\n[ladder]",
        )
        .replace("allow_unauthenticated_loopback = true", "");
    let (_d, report) = run_case(&config, PLAN_A, None);
    for name in [
        "HOTLINE_TEST_UNSET_1",
        "HOTLINE_TEST_UNSET_2",
        "HOTLINE_TEST_UNSET_3",
    ] {
        assert!(
            report.errors.iter().any(|e| e.contains(name)),
            "{name}\n{report:#?}"
        );
    }
    // Plus the API with no token at all (not loopback demo mode any more).
    assert_eq!(report.errors.len(), 4, "{report:#?}");
}

#[test]
fn a_set_secret_passes() {
    // HOME is set wherever tests run.
    let config = CONFIG.replace(
        "from_user = \"hotline\"",
        "from_user = \"hotline\"\n[sip.auth]\nusername = \"u\"\npassword = \"${HOME}\"",
    );
    let (_d, report) = run_case(&config, PLAN_A, None);
    assert_eq!(report, Report::default());
}

#[test]
fn tls_and_srtp_settings_are_checked_with_positions() {
    let plan = format!(
        "vendor = \"S\"\n{}",
        contact("secure", "sips:support@example.com", "2026-11-01")
    );
    // [sip.tls] with a missing CA file, a sips: proxy and a sips: contact, all without
    // transport = "tls"; SRTP over UDP.
    let cfg = CONFIG
        .replace(
            "from_user = \"hotline\"\n",
            "from_user = \"hotline\"\nproxy = \"sips:trunk.example.com\"\n\
             [sip.tls]\nca_file = \"missing-ca.pem\"\n",
        )
        .replace(
            "rtp_ports = \"20000-20999\"\n",
            "rtp_ports = \"20000-20999\"\nsrtp = \"required\"\n",
        );
    let (_dir, path) = setup(&cfg, &[("s.toml", plan.clone())]);
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    let all = format!("{report:#?}");
    let has = |text: &str| report.errors.iter().any(|e| e.contains(text));
    assert!(
        has("hotline.toml:6:1: [sip.tls] is set but transport is not"),
        "{all}"
    );
    assert!(has("hotline.toml:7:11: [sip.tls] ca_file"), "{all}");
    assert!(has("missing-ca.pem"), "{all}");
    assert!(
        has("hotline.toml:5:9: proxy sips:trunk.example.com needs transport"),
        "{all}"
    );
    assert!(
        has("contact secure: sips:support@example.com needs [sip] transport"),
        "{all}"
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains(":srtp keys travel in the SDP") || w.contains("srtp keys travel")),
        "{all}"
    );
    // The same over TLS with a readable CA file: clean.
    let (dir, path) = setup(&cfg.replace("\"udp\"", "\"tls\""), &[("s.toml", plan)]);
    fs::write(
        dir.path().join("missing-ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2W9\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let report = check(&path, day("2026-11-26"), DEFAULT_MAX_AGE);
    assert!(
        !report
            .errors
            .iter()
            .any(|e| e.contains("tls") || e.contains("sips")),
        "{report:#?}"
    );
    assert!(
        !report.warnings.iter().any(|w| w.contains("srtp")),
        "{report:#?}"
    );
}
