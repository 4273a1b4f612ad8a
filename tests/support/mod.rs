//! Shared harness for end-to-end tests: a real sipp peer and the real `hotline` binary on
//! 127.0.0.1, each test in its own folder with its own ports.

#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port for both UDP and TCP (and, if `pair`, port+2 too, for sipp's -mp).
pub fn free_port(pair: bool) -> u16 {
    for _ in 0..200 {
        let p = 20000 + (rand_u16() % 10000) * 2;
        let ok = |p: u16| {
            UdpSocket::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("127.0.0.1", p)).is_ok()
        };
        if ok(p) && (!pair || (ok(p + 1) && ok(p + 2) && ok(p + 3))) {
            return p;
        }
    }
    panic!("no free port");
}

fn rand_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos() ^ std::process::id() as u128);
    h.finish() as u16
}

/// A sipp UAS running one scenario; killed when dropped.
pub struct Sipp {
    child: Option<Child>,
    pub port: u16,
    pub media_port: u16,
    pub out: PathBuf,
}

impl Sipp {
    /// Starts `scenario` (a file in tests/sipp) on a free port; `transport` is u1, t1 or tn.
    pub fn start(dir: &Path, scenario: &str, transport: &str, extra: &[&str]) -> Sipp {
        assert!(
            Command::new("sipp").arg("-v").output().is_ok(),
            "sipp is not installed: the test command installs Debian's sip-tester"
        );
        for _attempt in 0..5 {
            let port = free_port(false);
            let media_port = free_port(true);
            let cp = free_port(false);
            let sf = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/sipp")
                .join(scenario);
            let out = dir.join(format!("sipp-{scenario}.out"));
            let child = Command::new("sipp")
                .current_dir(dir)
                .arg("-sf")
                .arg(&sf)
                .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", transport])
                .args(["-mi", "127.0.0.1", "-mp", &media_port.to_string()])
                .args(["-cp", &cp.to_string()])
                .args(["-m", "1", "-nostdin", "-timeout", "40", "-timeout_error"])
                .args(["-max_socket", "1024", "-trace_err"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::from(std::fs::File::create(&out).expect("out file")))
                .stderr(Stdio::from(
                    std::fs::File::create(dir.join(format!("sipp-{scenario}.err"))).expect("err"),
                ))
                .spawn()
                .expect("spawn sipp");
            let mut s = Sipp {
                child: Some(child),
                port,
                media_port,
                out,
            };
            // Ready when its port is taken.
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                let taken = if transport == "u1" {
                    UdpSocket::bind(("127.0.0.1", port)).is_err()
                } else {
                    TcpListener::bind(("127.0.0.1", port)).is_err()
                };
                if taken {
                    return s;
                }
                if let Some(c) = s.child.as_mut()
                    && let Ok(Some(_)) = c.try_wait()
                {
                    break; // exited (port clash): try other ports
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = s.child.as_mut().map(|c| c.kill());
        }
        panic!("sipp did not start");
    }

    /// Waits for sipp to finish its one call; returns its exit code.
    pub fn wait(mut self, timeout: Duration) -> i32 {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                return st.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return -2;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A test folder with a hotline.toml and one dialplan `t` whose contact is sipp.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

/// Writes config + dialplan. `menu` is the TOML array body; `extra_sip` goes in [sip].
pub fn setup(
    transport: &str,
    sipp_port: u16,
    ring_timeout: &str,
    menu: &str,
    extra_sip: &str,
) -> Setup {
    let dir = match std::env::var("HOTLINE_TEST_TMP") {
        Ok(p) => {
            std::fs::create_dir_all(&p).ok();
            tempfile::tempdir_in(p).expect("tempdir")
        }
        Err(_) => tempfile::tempdir().expect("tempdir"),
    };
    let cfg = format!(
        r#"[sip]
bind = "127.0.0.1:0"
transport = "{transport}"
from_user = "hotline"
{extra_sip}

[media]
advertise = "127.0.0.1"
rtp_ports = "30000-39998"

[recording]
dir = "recordings"

[sla]
answer_within = "30s"

[dialplans]
dir = "dialplans"
"#
    );
    let config = dir.path().join("hotline.toml");
    std::fs::write(&config, cfg).expect("write config");
    std::fs::create_dir_all(dir.path().join("dialplans")).expect("mkdir");
    let tp = if transport == "tcp" {
        ";transport=tcp"
    } else {
        ""
    };
    let plan = format!(
        r#"vendor = "Test vendor (sipp)"
[[contacts]]
id = "line"
name = "sipp line"
uri = "sip:support@127.0.0.1:{sipp_port}{tp}"
source = "test"
verified_on = "2026-11-01"
ring_timeout = "{ring_timeout}"
answer_within = "5s"
menu = [{menu}]
"#
    );
    std::fs::write(dir.path().join("dialplans/t.toml"), plan).expect("write plan");
    Setup { dir, config }
}

/// Runs `hotline dial`; returns the exit code and the JSON record.
pub fn dial(s: &Setup, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("dial")
        .arg("--config")
        .arg(&s.config)
        .arg("t")
        .args(extra)
        .env("RUST_LOG", "hotline=debug")
        .output()
        .expect("run hotline");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::write(s.dir.path().join("hotline.err"), stderr.as_bytes()).ok();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON record ({e}); exit {code}; stderr:\n{stderr}"));
    (code, v)
}

/// Event kinds in order.
pub fn kinds(v: &serde_json::Value) -> Vec<String> {
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// The offset (ms) of the first event of `kind`.
pub fn offset(v: &serde_json::Value, kind: &str) -> Option<f64> {
    v["events"]
        .as_array()?
        .iter()
        .find(|e| e["kind"] == kind)
        .and_then(|e| e["offset_ms"].as_f64())
}

/// Reads the recording: (left, right) channels.
pub fn recording(v: &serde_json::Value, s: &Setup) -> (Vec<i16>, Vec<i16>) {
    let rel = v["recording"].as_str().expect("recording path");
    let p = if Path::new(rel).is_absolute() {
        PathBuf::from(rel)
    } else {
        s.dir.path().join(rel)
    };
    let mut r = hound::WavReader::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let spec = r.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let all: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
    let left = all.iter().step_by(2).copied().collect();
    let right = all.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// RMS of a slice of samples.
pub fn rms(s: &[i16]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    (s.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

/// Writes a mono 16 kHz WAV of a 1 kHz tone (exercises resampling too).
pub fn tone_wav(path: &Path, ms: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..(16 * ms) {
        let x = (n as f32 * 1000.0 * std::f32::consts::TAU / 16000.0).sin() * 12000.0;
        w.write_sample(x as i16).expect("sample");
    }
    w.finalize().expect("finalize");
}

pub mod kamailio;
pub mod postgres;
pub mod serve;
pub mod tls;
