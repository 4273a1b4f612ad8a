//! `hotline trunk-test NAME` (issue 10): OPTIONS through one trunk, a challenge answered with
//! its credentials, and what worked printed; exit 0 when the trunk answered, 1 when not.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// A config with one trunk `carrier` at `port` (credentials `ops` / `password`).
fn config(dir: &std::path::Path, port: u16, password: &str) -> std::path::PathBuf {
    let s = setup("udp", port, "10s", "", "");
    let mut cfg = std::fs::read_to_string(&s.config).expect("config");
    cfg.push_str(&format!(
        r#"
[[trunks]]
name = "carrier"
proxy = "sip:127.0.0.1:{port}"
[trunks.auth]
username = "ops"
password = "{password}"
"#
    ));
    let path = dir.join("hotline.toml");
    std::fs::write(&path, cfg).expect("config");
    std::fs::create_dir_all(dir.join("dialplans")).expect("dialplans");
    std::fs::copy(
        s.dir.path().join("dialplans/t.toml"),
        dir.join("dialplans/t.toml"),
    )
    .expect("plan");
    path
}

fn trunk_test(config: &std::path::Path, name: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["trunk-test", name, "--config"])
        .arg(config)
        .args(["--timeout", "3s"])
        .current_dir(config.parent().expect("dir"))
        .output()
        .expect("run hotline trunk-test");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_challenging_trunk_answers_options_with_the_credentials() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_options_auth.xml",
        "u1",
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let cfg = config(dir.path(), sipp.port, "s3cret");
    let (code, text) = trunk_test(&cfg, "carrier");
    println!("{text}");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("transport: udp"), "{text}");
    assert!(
        text.contains(&format!("resolved: 127.0.0.1:{}", sipp.port)),
        "{text}"
    );
    assert!(text.contains("response: 200 OK"), "{text}");
    assert!(
        text.contains("answered with the trunk's credentials"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("ok"), "{text}");
    assert!(!text.contains("s3cret"), "the password is never printed");
    assert_eq!(
        sipp.wait(Duration::from_secs(10)),
        0,
        "sipp verified the digest"
    );
}

#[test]
fn wrong_credentials_fail_the_test() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_options_auth.xml",
        "u1",
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let cfg = config(dir.path(), sipp.port, "wrong");
    let (code, text) = trunk_test(&cfg, "carrier");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("response: 403"), "{text}");
    assert!(text.trim_end().ends_with("FAILED"), "{text}");
}

#[test]
fn a_closed_port_fails_the_test_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), free_port(false), "s3cret");
    let t0 = std::time::Instant::now();
    let (code, text) = trunk_test(&cfg, "carrier");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("response: none"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
}

#[test]
fn kamailio_challenging_with_407_and_no_algorithm_answers_options() {
    let dir = tempfile::tempdir().expect("tmp");
    let auth = support::kamailio::KamailioAuth {
        realm: "hotline.test",
        username: "ops",
        password: "s3cret",
        algorithm: None,
        proxy: true,
        nonce_expire: 30,
        challenge_bye: false,
    };
    let kam = support::kamailio::Kamailio::start(dir.path(), &auth);
    let cfg = config(dir.path(), kam.port, "s3cret");
    let (code, text) = trunk_test(&cfg, "carrier");
    println!("{text}");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("response: 200 OK"), "{text}");
    assert!(
        text.contains("answered with the trunk's credentials"),
        "{text}"
    );
    let ok = kam.auth_lines();
    assert!(
        ok.iter().any(|l| l.contains("HOTLINE-AUTH-OK OPTIONS")),
        "kamailio accepted our digest: {ok:?}"
    );
}

#[test]
fn an_unknown_trunk_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path(), free_port(false), "s3cret");
    let (code, text) = trunk_test(&cfg, "nope");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no trunk \"nope\""), "{text}");
    assert!(
        text.contains("carrier"),
        "names the trunks there are: {text}"
    );
}
