//! `hotline serve` as a child process on 127.0.0.1, with its addresses read from stdout.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub http: String,
    log: std::path::PathBuf,
}

pub const API_TOKEN: &str = "api-token-0123456789abcdef";
pub const HOOK_TOKEN: &str = "hook-token-0123456789abcdef";

impl Server {
    /// Starts `hotline serve --config <config>` on free ports.
    pub fn start(config: &Path) -> Server {
        Self::start_on(config, "127.0.0.1:0")
    }

    /// Starts it with its SIP endpoint on `sip` (a restart keeps its SIP address, as a
    /// configured `[sip] bind` does: peers answer where the dialog began).
    pub fn start_on(config: &Path, sip: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["serve", "--config"])
            .arg(config)
            .args(["--http", "127.0.0.1:0", "--sip", sip])
            .env(
                "RUST_LOG",
                std::env::var("HOTLINE_TEST_LOG").unwrap_or_else(|_| "hotline=debug".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(config.with_file_name("serve.err")).expect("log"),
            ))
            .spawn()
            .expect("spawn hotline serve");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let log =
                std::fs::read_to_string(config.with_file_name("serve.err")).unwrap_or_default();
            panic!("serve did not start ({e}): {line}\n{log}")
        });
        let http = format!("http://{}", v["http"].as_str().expect("http addr"));
        Server {
            child,
            http,
            log: config.with_file_name("serve.err"),
        }
    }

    /// SIGTERM (graceful), then wait.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- serve log (last lines) ---");
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// Writes hotline.toml for serve tests (dialplans dir next to it, to be filled by the test).
pub fn serve_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("dialplans")).expect("mkdir");
    let cfg = format!(
        r#"[sip]
bind = "127.0.0.1:0"
transport = "udp"
from_user = "hotline"

[media]
advertise = "127.0.0.1"
rtp_ports = "40000-47998"

[recording]
dir = "recordings"

[sla]
answer_within = "30s"

[dialplans]
dir = "dialplans"

[http]
listen = "127.0.0.1:0"
api_token = "{API_TOKEN}"

[store]
path = "data/hotline.db"

[intake.auth.generic]
bearer = "{HOOK_TOKEN}"

[intake.auth.alertmanager]
bearer = "{HOOK_TOKEN}"
{extra}
"#
    );
    let p = dir.join("hotline.toml");
    std::fs::write(&p, cfg).expect("config");
    p
}

/// One contact of a test dialplan.
pub fn contact(id: &str, sip_port: u16, answer_within: &str, menu: &str) -> String {
    format!(
        r#"
[[contacts]]
id = "{id}"
name = "{id} line"
uri = "sip:{id}@127.0.0.1:{sip_port}"
source = "test"
verified_on = "2026-11-01"
ring_timeout = "30s"
answer_within = "{answer_within}"
menu = [{menu}]
"#
    )
}

/// `GET path` with the admin token: the status and the JSON body (a body that is not JSON
/// comes back as a JSON string).
/// Posts `body` to the generic webhook as a monitoring system would; asserts the 202 and
/// returns the first incident's id.
pub async fn post_incident(s: &Server, body: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/hooks/generic", s.http))
        .header("authorization", format!("Bearer {HOOK_TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 202);
    let text = resp.text().await.expect("body");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["incidents"][0]["id"].as_str().expect("id").to_string()
}

pub async fn get(s: &Server, path: &str) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", s.http))
        .header("authorization", format!("Bearer {API_TOKEN}"))
        .send()
        .await
        .expect("get");
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (code, v)
}

/// Polls the incident until its ladder leaves `running`/`pending`.
pub async fn settled(s: &Server, id: &str, within: std::time::Duration) -> serde_json::Value {
    let end = std::time::Instant::now() + within;
    loop {
        let (_, v) = get(s, &format!("/v1/incidents/{id}")).await;
        let state = v["ladder_state"].as_str().unwrap_or("");
        if !matches!(state, "running" | "pending" | "") {
            return v;
        }
        assert!(
            std::time::Instant::now() < end,
            "ladder still {state}: {v:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
