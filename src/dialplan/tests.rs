//! Loading dialplans: the happy path and every kind of error, by line.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

use super::*;

const GOOD: &str = r#"vendor = "Example Corp"

[[contacts]]
id = "ex-hotline"
name = "Example hotline"
uri = "+15550100123"
source = "warranty card"
verified_on = "2026-10-01"
ring_timeout = "30s"
menu = [
  { wait = "3s" },
  { dtmf = "2" },
  { dtmf = "{contract_digits}#" },
  { play = "briefing" },
  { hangup = true },
]
"#;

const SECOND: &str = r#"
[[contacts]]
id = "ex-vip"
name = "Example VIP line"
uri = "sip:vip@support.example.com:5061;transport=tcp"
source = "account manager email"
verified_on = "2026-09-15"
ring_timeout = "1m"
answer_within = "15s"
menu = []
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn loads_good_dialplan() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "example.toml", &format!("{GOOD}{SECOND}"));
    let plan = load_file(&path).unwrap();
    assert_eq!(plan.id.as_str(), "example");
    assert_eq!(plan.vendor, "Example Corp");
    assert_eq!(plan.path, path);
    let [hotline, vip] = &plan.contacts[..] else {
        panic!("want two contacts, got {:?}", plan.contacts);
    };
    assert_eq!(hotline.id.as_str(), "ex-hotline");
    assert_eq!(
        hotline.destination,
        Destination::E164("+15550100123".into())
    );
    assert_eq!(
        hotline.verified_on,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
    );
    assert_eq!(hotline.ring_timeout, Duration::from_secs(30));
    assert_eq!(hotline.answer_within, None);
    assert_eq!(
        hotline.answer_within_or(Duration::from_secs(45)),
        Duration::from_secs(45)
    );
    assert_eq!((hotline.location.line, hotline.location.column), (4, 6));
    assert_eq!(hotline.verified_on_location.line, 8);
    assert_eq!(
        hotline.menu,
        [
            MenuStep::Wait(Duration::from_secs(3)),
            MenuStep::Dtmf(Template::parse("2").unwrap()),
            MenuStep::Dtmf(Template::parse("{contract_digits}#").unwrap()),
            MenuStep::Play(PlaySource::Briefing),
            MenuStep::Hangup,
        ]
    );
    let MenuStep::Dtmf(template) = &hotline.menu[2] else {
        panic!("step 3 is dtmf");
    };
    let vars = HashMap::from([("contract_digits".to_string(), "4711".to_string())]);
    assert_eq!(template.expand(&vars).unwrap(), "4711#");
    assert_eq!(
        vip.destination.request_uri(None).unwrap(),
        "sip:vip@support.example.com:5061;transport=tcp"
    );
    assert_eq!(
        vip.answer_within_or(Duration::from_secs(45)),
        Duration::from_secs(15)
    );
    assert!(vip.menu.is_empty());
}

#[test]
fn accepts_bare_toml_dates() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("\"2026-10-01\"", "2026-10-01");
    let plan = load_file(&write(dir.path(), "example.toml", &text)).unwrap();
    assert_eq!(
        plan.contacts[0].verified_on,
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
    );
}

#[test]
fn resolves_wav_paths_against_the_dialplan() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("audio")).unwrap();
    fs::write(dir.path().join("audio/hello.wav"), b"RIFF").unwrap();
    let text = GOOD.replace("\"briefing\"", "\"audio/hello.wav\"");
    let plan = load_file(&write(dir.path(), "example.toml", &text)).unwrap();
    assert_eq!(
        plan.contacts[0].menu[3],
        MenuStep::Play(PlaySource::Wav(dir.path().join("audio/hello.wav")))
    );
}

#[test]
fn holiday_files_load_with_the_dialplan_and_their_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("holidays")).unwrap();
    fs::write(
        dir.path().join("holidays/de.txt"),
        "2026-12-25\n2026-12-26\n",
    )
    .unwrap();
    let text = GOOD.replace(
        "vendor = \"Example Corp\"\n",
        "vendor = \"Example Corp\"\nhours = { tz = \"Europe/Berlin\", windows = [\"daily 08:00-18:00\"], holidays = \"holidays/de.txt\" }\n",
    );
    let plan = load_file(&write(dir.path(), "example.toml", &text)).unwrap();
    let christmas =
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 25, 10, 0, 0).unwrap();
    assert!(!plan.contacts[0].hours.is_open(christmas));
    assert!(
        plan.contacts[0]
            .hours
            .is_open(christmas - chrono::Duration::days(2))
    );

    fs::write(dir.path().join("holidays/de.txt"), "2026-12-25\nXmas\n").unwrap();
    let text = load_file(&write(dir.path(), "example.toml", &text))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("example.toml:2:") && text.contains("de.txt:2") && text.contains("Xmas"),
        "{text}"
    );
}

const DELL_LINES: &str = r#"vendor = "Dell"

[[lines]]
id = "dell-prosupport"
name = "Dell ProSupport Plus"
uri = "+18004563355"
source = "Dell contract letter"
verified_on = "2026-09-14"
ring_timeout = "45s"
menu = [{ play = "briefing" }]
"#;

fn site_plan(site: &str, extra: &str) -> String {
    format!(
        "vendor = \"Dell\"\n[[match]]\nsite = \"{site}\"\n\n[[contacts]]\nline = \"dell-prosupport\"\n{extra}"
    )
}

/// Issue 20 item 6: one vendor line in several dialplans keeps one id and one provenance.
#[test]
fn shared_lines_are_listed_by_several_dialplans() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("lines")).unwrap();
    write(&dir.path().join("lines"), "dell.toml", DELL_LINES);
    write(dir.path(), "dell-sha.toml", &site_plan("sha*", ""));
    write(
        dir.path(),
        "dell-ber.toml",
        &site_plan("ber*", &SECOND.replace("ex-vip", "dell-ber-am")),
    );
    let plans = load_dir(dir.path()).unwrap();
    for id in ["dell-sha", "dell-ber"] {
        let c = &plans.get(id).unwrap().contacts[0];
        assert_eq!(c.id.as_str(), "dell-prosupport");
        assert_eq!(c.source, "Dell contract letter");
        assert!(
            c.location.to_string().contains("lines/dell.toml:4"),
            "{}",
            c.location
        );
    }
    assert_eq!(plans.get("dell-ber").unwrap().contacts.len(), 2);
    assert_eq!(plans.line("dell-prosupport").unwrap().vendor, "Dell");
    assert!(plans.line("dell-ber-am").is_none());

    // A single file loads its folder's lines too.
    let plan = load_file(&dir.path().join("dell-sha.toml")).unwrap();
    assert_eq!(plan.contacts[0].id.as_str(), "dell-prosupport");
}

#[test]
fn shared_line_mistakes_name_the_place() {
    let cases = [
        (
            site_plan("sha*", "").replace("dell-prosupport", "dell-typo"),
            "dell-sha.toml:6",
            "no shared line \"dell-typo\"",
        ),
        (
            site_plan("sha*", "").replace(
                "line = \"dell-prosupport\"",
                "line = \"dell-prosupport\"\nretries = 2",
            ),
            "dell-sha.toml:6",
            "remove `retries`",
        ),
        (
            site_plan("sha*", "\n[[contacts]]\nline = \"dell-prosupport\"\n"),
            "dell-sha.toml:9",
            "already on this ladder",
        ),
        (
            site_plan("sha*", &SECOND.replace("ex-vip", "dell-prosupport")),
            "dell-sha.toml:",
            "duplicate contact id \"dell-prosupport\"",
        ),
        (
            "vendor = \"Dell\"\n[[contacts]]\nid = \"x\"\nname = \"X\"\n".to_string(),
            "dell-sha.toml:2",
            "missing field `uri`",
        ),
    ];
    for (plan, at, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("lines")).unwrap();
        write(&dir.path().join("lines"), "dell.toml", DELL_LINES);
        write(dir.path(), "dell-sha.toml", &plan);
        let e = load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains(at) && e.contains(needle), "{needle}: {e}");
    }
}

/// Each case edits `GOOD` (replace the first `from` with `to`) and expects an
/// error at `line:col` whose message contains `needle`.
#[test]
fn errors_point_at_line_and_column() {
    let cases: &[(&str, &str, usize, usize, &str)] = &[
        // toml syntax
        (
            "\"Example hotline\"",
            "\"Example hotline",
            5,
            24,
            "invalid basic string",
        ),
        ("{ dtmf = \"2\" },", "{ dtmf = \"2\" ", 13, 3, ""),
        // unknown keys, also inside the routing sections
        (
            "[[contacts]]",
            "[hours]\nmon = \"9-17\"\n\n[[contacts]]",
            3,
            1,
            "unknown field `mon` in hours",
        ),
        (
            "[[contacts]]",
            "[[match]]\nalert = \"disk\"\n\n[[contacts]]",
            4,
            1,
            "unknown field `alert`",
        ),
        (
            "source =",
            "email = \"x@example.com\"\nsource =",
            7,
            1,
            "unknown field `email`",
        ),
        (
            "{ dtmf = \"2\" }",
            "{ press = \"2\" }",
            12,
            5,
            "unknown field `press`",
        ),
        // bad values
        ("\"ex-hotline\"", "\"Ex Hotline\"", 4, 6, "bad contact id"),
        ("\"+15550100123\"", "\"555-0100\"", 6, 7, "bad uri"),
        (
            "\"+15550100123\"",
            "\"+1 555 0100 123\"",
            6,
            7,
            "bad e.164 number",
        ),
        (
            "\"+15550100123\"",
            "\"sip:127.0.0.1:5090\"",
            6,
            7,
            "needs a user part",
        ),
        (
            "\"+15550100123\"",
            "\"sip:support@bad host\"",
            6,
            7,
            "bad sip uri",
        ),
        ("\"warranty card\"", "\"\"", 7, 10, "must not be empty"),
        ("\"Example Corp\"", "\"  \"", 1, 10, "must not be empty"),
        ("\"2026-10-01\"", "\"2026-13-01\"", 8, 15, "bad date"),
        ("\"2026-10-01\"", "\"01/10/2026\"", 8, 15, "bad date"),
        (
            "\"2026-10-01\"",
            "2026-10-01T10:00:00",
            8,
            15,
            "bad date \"2026-10-01T10:00:00\"",
        ),
        ("\"2026-10-01\"", "20261001", 8, 15, "bad date \"20261001\""),
        (
            "ring_timeout = \"30s\"",
            "ring_timeout = \"0s\"",
            9,
            16,
            "greater than zero",
        ),
        (
            "ring_timeout = \"30s\"",
            "ring_timeout = \"30s\"\nanswer_within = \"soon\"",
            10,
            17,
            "bad duration",
        ),
        (
            "{ wait = \"3s\" }",
            "{ wait = \"0ms\" }",
            11,
            12,
            "greater than zero",
        ),
        (
            "{ dtmf = \"2\" }",
            "{ dtmf = \"2x\" }",
            12,
            12,
            "'x' is not a dtmf digit",
        ),
        ("{ dtmf = \"2\" }", "{ dtmf = \"\" }", 12, 12, "empty"),
        (
            "{contract_digits}",
            "{Contract}",
            13,
            12,
            "placeholder names",
        ),
        ("\"briefing\"", "\"breifing\"", 14, 12, "bad play"),
        (
            "\"briefing\"",
            "\"missing.wav\"",
            14,
            3,
            "wav file not found",
        ),
        // menu steps need exactly one action
        (
            "{ wait = \"3s\" }",
            "{ wait = \"3s\", dtmf = \"2\" }",
            11,
            3,
            "exactly one of",
        ),
        ("{ wait = \"3s\" }", "{}", 11, 3, "exactly one of"),
        (
            "{ hangup = true }",
            "{ hangup = false }",
            15,
            3,
            "hangup must be true",
        ),
        (
            "{ hangup = true },",
            "{ hangup = true },\n  { wait = \"1s\" },",
            16,
            3,
            "after hangup",
        ),
        ("menu = [", "menu = 3\nx = [", 10, 8, "invalid type"),
        // missing keys point at their table
        (
            "source = \"warranty card\"\n",
            "",
            3,
            1,
            "missing field `source`",
        ),
        (
            "vendor = \"Example Corp\"\n",
            "",
            1,
            1,
            "missing field `vendor`",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (from, to, line, col, needle) in cases {
        assert!(GOOD.contains(from), "case {from:?} does not apply");
        let path = write(dir.path(), "example.toml", &GOOD.replacen(from, to, 1));
        let err = load_file(&path).expect_err(&format!("{to:?} should fail"));
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
fn rejects_empty_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.toml", "vendor = \"X\"\ncontacts = []\n");
    let err = load_file(&path).unwrap_err();
    assert!(matches!(err, DialplanError::NoContacts { .. }));
    assert_eq!(
        err.to_string(),
        format!("{}:2:12: contacts must not be empty", path.display())
    );
}

#[test]
fn rejects_duplicate_contact_in_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{GOOD}{}", SECOND.replace("ex-vip", "ex-hotline"));
    let path = write(dir.path(), "example.toml", &text);
    let err = load_file(&path).unwrap_err();
    let p = path.display();
    assert_eq!(
        err.to_string(),
        format!("{p}:19:6: duplicate contact id \"ex-hotline\" (first defined at {p}:4:6)")
    );
}

#[test]
fn rejects_duplicate_contact_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.toml", GOOD);
    let b = write(
        dir.path(),
        "b.toml",
        &format!("vendor = \"B\"\n{SECOND}").replace("ex-vip", "ex-hotline"),
    );
    let err = load_dir(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4:6: duplicate contact id \"ex-hotline\" (first defined at {}:4:6)",
            b.display(),
            a.display()
        )
    );
}

#[test]
fn rejects_bad_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "HPE.toml", GOOD);
    let err = load_file(&path).unwrap_err();
    assert!(matches!(err, DialplanError::BadId { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", path.display()))
    );
}

#[test]
fn loads_a_directory_in_name_order_ignoring_other_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "zeta.toml",
        &format!("vendor = \"Z\"\n{SECOND}"),
    );
    write(dir.path(), "alpha.toml", GOOD);
    write(dir.path(), "README.md", "not a dialplan");
    fs::create_dir(dir.path().join("old.toml")).unwrap();
    let plans = load_dir(dir.path()).unwrap();
    let ids: Vec<_> = plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["alpha", "zeta"]);
    assert_eq!(plans.get("zeta").unwrap().vendor, "Z");
    let (plan, contact) = plans.contact("ex-vip").unwrap();
    assert_eq!(
        (plan.id.as_str(), contact.name.as_str()),
        ("zeta", "Example VIP line")
    );
    assert!(plans.contact("nobody").is_none());
    assert!(plans.get("nope").is_none());
}

#[test]
fn missing_directory_is_a_read_error() {
    let err = load_dir(Path::new("/nonexistent/dialplans")).unwrap_err();
    assert!(matches!(err, DialplanError::Read { .. }), "{err}");
}

#[test]
fn collects_every_error_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.toml", &GOOD.replace("\"2\"", "\"2x\""));
    write(dir.path(), "b.toml", "vendor = \"B\"\ncontacts = []\n");
    let text = GOOD.replace("ex-hotline", "c-line").replace(
        "{ hangup = true },",
        "{ hangup = true },\n  { wait = \"1s\" },",
    );
    write(
        dir.path(),
        "c.toml",
        &format!("{text}{}", SECOND.replace("ex-vip", "c-line")),
    );
    write(dir.path(), "d.toml", &format!("vendor = \"D\"\n{SECOND}"));
    write(dir.path(), "e.toml", &format!("vendor = \"E\"\n{SECOND}"));
    let (plans, errors) = load_dir_collecting(dir.path());
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(lines[0].contains("a.toml:12:12: bad dtmf"), "{lines:#?}");
    assert!(
        lines[1].contains("b.toml:2:12: contacts must not be empty"),
        "{lines:#?}"
    );
    assert!(
        lines[2].contains("c.toml:16:3: step after hangup"),
        "{lines:#?}"
    );
    assert!(
        lines[3].contains("c.toml:20:6: duplicate contact id"),
        "{lines:#?}"
    );
    assert!(
        lines[4].contains("e.toml:4:6: duplicate contact id \"ex-vip\""),
        "{lines:#?}"
    );
    assert!(lines[4].contains("d.toml:4:6)"), "{lines:#?}");
    assert_eq!(plans.iter().count(), 2);
}

#[test]
fn briefing_table_defaults_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let plain = load_file(&write(dir.path(), "plain.toml", GOOD)).unwrap();
    assert_eq!(plain.briefing, PlanBriefing::default());
    assert_eq!(plain.briefing.repeats, 1);
    assert!(plain.briefing.repeat_on_star);
    let text = format!(
        "{GOOD}\n[briefing]\nlanguage = \"zh\"\nengine = \"piper\"\nrepeats = 0\n\
         repeat_on_star = false\ntemplate = \"\"\"\nCall {{caller}}.\n\nTag {{tag}}, {{label:team}}.\n\"\"\"\n"
    );
    let plan = load_file(&write(dir.path(), "zh.toml", &text)).unwrap();
    let b = &plan.briefing;
    assert_eq!(b.language, crate::config::Language::Zh);
    assert_eq!(b.engine, Some(crate::config::EngineKind::Piper));
    assert_eq!((b.repeats, b.repeat_on_star), (0, false));
    let template = b.template.as_ref().unwrap();
    assert_eq!(template.lines.len(), 2);
    assert_eq!(
        template.lines[1],
        [
            Piece::Text("Tag ".into()),
            Piece::Field("tag".into()),
            Piece::Text(", ".into()),
            Piece::Label("team".into()),
            Piece::Text(".".into()),
        ]
    );
}

#[test]
fn briefing_table_errors_point_at_line() {
    // GOOD has 16 lines; [briefing] starts on line 17, its first key on line 18.
    let cases = [
        ("langage = \"en\"", 18, "unknown field `langage`"),
        ("language = \"fr\"", 18, "unknown variant `fr`"),
        ("engine = \"festival\"", 18, "unknown variant `festival`"),
        ("repeats = 9", 18, "repeats must be 0 to 5"),
        ("repeats = -1", 18, "repeats must be 0 to 5"),
        ("repeat_on_star = \"yes\"", 18, "invalid type"),
        (
            "template = \"Hello {name}\"",
            18,
            "unknown placeholder {name}",
        ),
        ("template = \"Hello {tag\"", 18, "unclosed"),
        ("template = \"  \"", 18, "template must not be empty"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (line_text, line, needle) in cases {
        let path = write(
            dir.path(),
            "example.toml",
            &format!("{GOOD}[briefing]\n{line_text}\n"),
        );
        let err = load_file(&path).expect_err(line_text);
        let text = err.to_string();
        let prefix = format!("{}:{line}:", path.display());
        assert!(
            text.starts_with(&prefix),
            "{line_text}: want {prefix:?}, got {text:?}"
        );
        assert!(
            text.contains(needle),
            "{line_text}: want {needle:?} in {text:?}"
        );
    }
}

#[test]
fn wait_steps_for_the_prompt_and_for_a_human() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace(
        "  { wait = \"3s\" },",
        "  { wait = \"prompt\" },\n  { wait = \"prompt\", timeout = \"12s\" },\n  { wait = \"human\", timeout = \"20m\" },\n  { wait = \"human\" },",
    );
    let plan = load_file(&write(dir.path(), "example.toml", &text)).unwrap();
    assert_eq!(
        plan.contacts[0].menu[..4],
        [
            MenuStep::WaitPrompt(Duration::from_secs(30)),
            MenuStep::WaitPrompt(Duration::from_secs(12)),
            MenuStep::WaitHuman(Duration::from_secs(1200)),
            MenuStep::WaitHuman(Duration::from_secs(1200)),
        ]
    );
    for (bad, msg) in [
        ("{ wait = \"3s\", timeout = \"5s\" }", "timeout goes with"),
        ("{ wait = \"person\" }", "bad wait \"person\""),
        (
            "{ wait = \"human\", timeout = \"0s\" }",
            "greater than zero",
        ),
    ] {
        let text = GOOD.replace("{ wait = \"3s\" }", bad);
        let e = load_file(&write(dir.path(), "example.toml", &text)).unwrap_err();
        assert!(e.to_string().contains(msg), "{bad}: {e}");
    }
}

/// Issue 20.7: `[vars]` defaults and the letters policy; a missing or unkeyable value is an
/// error before dialling, never a wrong DTMF string.
#[test]
fn vars_table_fills_defaults_and_refuses_letters_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let plain = load_file(&write(dir.path(), "plain.toml", GOOD)).unwrap();
    assert_eq!(plain.vars, PlanVars::default());
    let text = format!("{GOOD}\n[vars]\ncontract = \"HPE-PC-2231-88812\"\nletters = \"drop\"\n");
    let plan = load_file(&write(dir.path(), "v.toml", &text)).unwrap();
    assert_eq!(plan.vars.contract.as_deref(), Some("HPE-PC-2231-88812"));
    assert_eq!(plan.vars.letters, Letters::Drop);
    let text = format!("{GOOD}\n[vars]\ncontrakt = \"1\"\n");
    let err = load_file(&write(dir.path(), "bad.toml", &text)).unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown field `contrakt`"),
        "{err:?}"
    );
    let text = format!("{GOOD}\n[vars]\nletters = \"spell\"\n");
    let err = load_file(&write(dir.path(), "bad2.toml", &text)).unwrap_err();
    assert!(
        format!("{err:?}").contains("unknown variant `spell`"),
        "{err:?}"
    );

    // Letters: an error by default, dropped or keyed on the keypad when told.
    let c = "HPE-PC-2231-88812";
    let e = digits_of(c, Letters::Error).unwrap_err();
    assert!(
        e.contains("has letters (HPEPC)") && e.contains("letters = \"drop\""),
        "{e}"
    );
    assert_eq!(digits_of(c, Letters::Drop).as_deref(), Ok("223188812"));
    assert_eq!(
        digits_of(c, Letters::Keypad).as_deref(),
        Ok("47372223188812")
    );
    assert_eq!(
        digits_of("2231 / 888-12", Letters::Error).as_deref(),
        Ok("223188812")
    );
    assert!(
        digits_of("--", Letters::Drop)
            .unwrap_err()
            .contains("no digits")
    );
    assert!(
        digits_of("ABC", Letters::Drop)
            .unwrap_err()
            .contains("no digits")
    );

    // The alert wins; [vars] fills in; nothing anywhere is a reason, not "#".
    let t = Template::parse("{contract_digits}#").unwrap();
    let defaults = PlanVars {
        contract: Some("5550-123".into()),
        ..Default::default()
    };
    let v = MenuVars::new(Some("777/01"), None, None, &defaults);
    assert_eq!(v.values["contract_digits"], "77701");
    assert_eq!(v.check(&t), Ok(()));
    let v = MenuVars::new(None, None, None, &defaults);
    assert_eq!(v.values["contract_digits"], "5550123");
    let v = MenuVars::new(Some("  "), None, None, &PlanVars::default());
    let why = v.check(&t).unwrap_err();
    assert_eq!(
        why,
        "no value for {contract_digits}: the alert has no contract and the dialplan's [vars] sets none"
    );
    let v = MenuVars::new(Some(c), None, None, &PlanVars::default());
    assert!(
        v.check(&t)
            .unwrap_err()
            .starts_with("{contract_digits}: \"HPE-PC-2231-88812\" has letters")
    );
    // Other placeholders are checked too.
    let s = Template::parse("1{serial_digits}").unwrap();
    assert!(v.check(&s).unwrap_err().contains("no serial"));
}

#[test]
fn max_calls_per_contact_overrides_the_dialplans_and_group_by_is_per_dialplan() {
    let dir = tempfile::tempdir().unwrap();
    let head = "vendor = \"Example Corp\"\ngroup_by = \"site\"\nmax_calls = 2\nmax_ladders = 7\n";
    let second = SECOND.replace("menu = []", "menu = []\nmax_calls = 5");
    let path = write(
        dir.path(),
        "example.toml",
        &format!("{head}{}{second}", &GOOD[23..]),
    );
    let plan = load_file(&path).unwrap();
    assert_eq!(plan.group_by, Some(crate::config::GroupBy::Site));
    assert_eq!(plan.max_ladders, Some(7));
    let calls: Vec<_> = plan.contacts.iter().map(|c| c.max_calls).collect();
    assert_eq!(calls, [Some(2), Some(5)]);
    // None set: the [ladder] defaults apply.
    let path = write(
        dir.path(),
        "plain.toml",
        &GOOD.replace("ex-hotline", "plain-1"),
    );
    let plan = load_file(&path).unwrap();
    assert_eq!((plan.group_by, plan.max_ladders), (None, None));
    assert_eq!(plan.contacts[0].max_calls, None);
    let bad = GOOD.replace("menu = [", "max_calls = 0\nmenu = [");
    let path = write(
        dir.path(),
        "zero.toml",
        &bad.replace("ex-hotline", "zero-1"),
    );
    assert!(load_file(&path).is_err());
}

#[test]
fn response_within_defaults_to_15_minutes_and_must_be_positive() {
    let dir = tempfile::tempdir().unwrap();
    let plan = load_file(&write(dir.path(), "a.toml", GOOD)).unwrap();
    assert_eq!(plan.response_within, Duration::from_secs(15 * 60));
    let head = "vendor = \"Example Corp\"\nresponse_within = \"30m\"\n";
    let path = write(dir.path(), "b.toml", &format!("{head}{}", &GOOD[23..]));
    assert_eq!(
        load_file(&path).unwrap().response_within,
        Duration::from_secs(30 * 60)
    );
    let head = "vendor = \"Example Corp\"\nresponse_within = \"0s\"\n";
    let path = write(dir.path(), "c.toml", &format!("{head}{}", &GOOD[23..]));
    assert!(load_file(&path).is_err());
}
