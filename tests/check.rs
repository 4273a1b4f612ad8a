//! `hotline check` exit codes: 0 clean (or warnings), 1 warnings with --strict, 2 errors.

use std::path::Path;
use std::process::Command;

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

const PLAN: &str = r#"vendor = "A"
[[match]]
vendor = "a"
[[contacts]]
id = "a"
name = "n"
uri = "sip:a@127.0.0.1"
source = "s"
verified_on = "VERIFIED"
ring_timeout = "20s"
menu = [{ dtmf = "{contract_digits}#" }, { play = "briefing" }]
"#;

fn run(dir: &Path, config: &str, plan: &str, strict: bool) -> (i32, String) {
    std::fs::create_dir_all(dir.join("plans")).expect("mkdir");
    std::fs::write(dir.join("hotline.toml"), config).expect("config");
    let today = chrono::Utc::now().date_naive().to_string();
    std::fs::write(dir.join("plans/a.toml"), plan.replace("VERIFIED", &today)).expect("plan");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
    cmd.args(["check", "--config"])
        .arg(dir.join("hotline.toml"));
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().expect("run hotline check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes() {
    let d = tempfile::tempdir().expect("tmp");
    let (code, err) = run(d.path(), CONFIG, PLAN, true);
    assert_eq!(code, 0, "clean, even with --strict: {err}");

    let no_fallback = CONFIG.replace("fallback_url = \"https://tickets.example.net/p0\"\n", "");
    let (code, err) = run(d.path(), &no_fallback, PLAN, false);
    assert_eq!(code, 0, "warnings alone pass: {err}");
    assert!(
        err.contains("warning: ") && err.contains("no [ladder] fallback_url"),
        "{err}"
    );
    let (code, err) = run(d.path(), &no_fallback, PLAN, true);
    assert_eq!(code, 1, "--strict fails on warnings: {err}");

    let typo = PLAN.replace("{contract_digits}", "{contract_digit}");
    let (code, err) = run(d.path(), CONFIG, &typo, false);
    assert_eq!(code, 2, "errors fail: {err}");
    assert!(
        err.contains("plans/a.toml:11:") && err.contains("unknown placeholder {contract_digit}"),
        "{err}"
    );
}
