//! A PostgreSQL server for tests: Debian's PostgreSQL 15 binaries (`postgresql-15`,
//! /usr/lib/postgresql/15/bin), `initdb` into a temporary folder, listening on a free port of
//! 127.0.0.1. Started once per test binary on first use; a watchdog shell stops it and
//! removes its folder when the test process is gone, however it ended. Each test takes a
//! fresh database on it ([`fresh_database`]).
//!
//! Shared by the store's unit tests (`src/store/tests`, through `#[path]`) and the
//! integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where Debian puts the server binaries (`apt-get install postgresql-15`).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// The superuser `initdb` creates (trust authentication on 127.0.0.1 only).
const USER: &str = "hotline";

/// The running test server.
pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
}

fn bin(name: &str) -> PathBuf {
    Path::new(PG_BIN).join(name)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `cmd` as the `postgres` system user when we are root (initdb and postgres refuse root).
fn as_pg_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn start() -> Result<PgServer, String> {
    if !bin("initdb").exists() {
        return Err(format!(
            "{PG_BIN}/initdb missing: apt-get install postgresql-15 (the README's test command does)"
        ));
    }
    let dir = std::env::temp_dir().join(format!("hotline-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !ok.success() {
            return Err("chown of the test PostgreSQL folder failed".into());
        }
    }
    let data = dir.join("data");
    let out = as_pg_user(&bin("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            USER,
            "--auth=trust",
            "--locale=C",
            "-E",
            "UTF8",
            "--no-sync",
        ])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port();
    // The watchdog: starts postgres, waits for this process to end, then stops it fast and
    // removes the folder. Its output goes to a log in the folder.
    let runner = if is_root() {
        "runuser -u postgres --"
    } else {
        ""
    };
    let script = format!(
        r#"{runner} "{pg}/postgres" -D "$1/data" -p "$2" -k "$1" -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=400 >"$1/log" 2>&1 &
           while kill -0 "$3" 2>/dev/null; do sleep 0.5; done
           {runner} "{pg}/pg_ctl" -D "$1/data" stop -m immediate >/dev/null 2>&1
           rm -rf "$1""#,
        pg = PG_BIN
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sh: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(format!("test PostgreSQL did not start on {port}: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(PgServer { port, dir })
}

/// The test server, started on first use.
pub fn server() -> &'static PgServer {
    static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// A new, empty database on the test server; its `postgres://` URL.
pub fn fresh_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let s = server();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let out = Command::new(bin("createdb"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &s.port.to_string(),
            "-U",
            USER,
            &name,
        ])
        .output()
        .expect("createdb runs");
    assert!(
        out.status.success(),
        "createdb {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    url(&name)
}

/// The URL of database `name` on the test server.
pub fn url(name: &str) -> String {
    format!("postgres://{USER}@127.0.0.1:{}/{name}", server().port)
}
