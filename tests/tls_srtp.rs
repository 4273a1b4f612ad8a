//! SIP over TLS and SDES-SRTP end to end against real peers on 127.0.0.1: Kamailio (Debian
//! `kamailio-tls-modules`) as the TLS trunk proxy with a certificate made by the test, baresip
//! (Debian `baresip-core`, `srtp` module) as the far end with mandatory SRTP, and sipp as a
//! plain-RTP peer. A missing peer is a failure, not a skip.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::kamailio::Kamailio;
use support::tls::{Baresip, TestPki, tone_8k, tone_share, udp_payloads};
use support::*;

/// hotline dials `sip:support@127.0.0.1:<far_port>` through the TLS proxy on `proxy_port`.
fn tls_setup(far_port: u16, proxy_port: u16, tls: &str, srtp: &str, menu: &str) -> Setup {
    let extra = format!("proxy = \"sips:127.0.0.1:{proxy_port}\"\n[sip.tls]\n{tls}\n");
    let s = setup("tls", far_port, "10s", menu, &extra);
    let cfg = std::fs::read_to_string(&s.config).expect("config");
    let cfg = cfg.replace(
        "rtp_ports = \"30000-39998\"",
        &format!("rtp_ports = \"30000-39998\"\nsrtp = \"{srtp}\""),
    );
    std::fs::write(&s.config, cfg).expect("config");
    s
}

/// tshark on `lo` for UDP in the RTP port ranges, written as libpcap; stopped by `finish`.
struct Capture {
    child: Child,
    file: std::path::PathBuf,
}

impl Capture {
    fn start(dir: &Path) -> Capture {
        let file = dir.join("rtp.pcap");
        let mut child = Command::new("tshark")
            .args([
                "-i",
                "lo",
                "-F",
                "pcap",
                "-q",
                "-f",
                "udp portrange 20000-39999",
            ])
            .arg("-w")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tshark (Debian tshark) is installed");
        // Capturing once the file has its header.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::fs::metadata(&file).is_ok_and(|m| m.len() >= 24) {
                std::thread::sleep(Duration::from_millis(300));
                return Capture { child, file };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("tshark did not start capturing");
    }

    fn finish(mut self) -> Vec<(u16, u16, Vec<u8>)> {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        udp_payloads(&self.file)
    }
}

/// The media ports hotline used (from its record: where it sent and whence it heard).
fn rtp_ports(v: &serde_json::Value) -> (u16, u16) {
    let port_of = |kind: &str, field: &str| -> u16 {
        let e = v["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {v:#}"));
        let addr: std::net::SocketAddr = e[field].as_str().expect("addr").parse().expect("addr");
        addr.port()
    };
    (
        port_of("media_first_tx", "to"),
        port_of("media_first_rx", "from"),
    )
}

#[test]
fn tls_trunk_via_kamailio_to_baresip_with_srtp() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::new(dir.path(), "good", "trunk.test");
    let kam = Kamailio::start_tls(dir.path(), &pki.cert, &pki.key);
    let far_tone = dir.path().join("far.wav");
    tone_8k(&far_tone, 700.0, 30_000);
    let far = Baresip::start(dir.path(), &far_tone, "srtp-mand");
    let s = tls_setup(
        far.port,
        kam.port,
        &format!(
            "ca_file = \"{}\"\nserver_name = \"trunk.test\"",
            pki.ca.display()
        ),
        "required",
        r#"{ wait = "6s" }, { hangup = true }"#,
    );
    let ours = s.dir.path().join("ours.wav");
    tone_8k(&ours, 1000.0, 2_000);
    let cap = Capture::start(dir.path());
    let (code, v) = dial(&s, &["--play", ours.to_str().expect("path")]);
    let packets = cap.finish();
    let log = std::fs::read_to_string(s.dir.path().join("hotline.err")).unwrap_or_default();
    assert_eq!(
        code,
        0,
        "{v:#}\nkamailio:\n{}\nbaresip:\n{}",
        kam.log_text(),
        far.log_text()
    );
    assert_eq!(v["termination"]["result"], "answered", "{v:#}");
    let k = kinds(&v);
    assert!(k.contains(&"media_secured".to_string()), "{k:?}");
    // The INVITE and the BYE went over TLS.
    let kl = kam.log_text();
    assert!(kl.contains("HOTLINE-REQ INVITE proto=tls"), "{kl}");
    assert!(kl.contains("HOTLINE-REQ BYE proto=tls"), "{kl}");
    assert!(
        far.log_text().contains("SRTP is Enabled"),
        "{}",
        far.log_text()
    );
    // The far end's tone is in our recording (right channel): SRTP decrypted correctly.
    let (_left, right) = recording(&v, &s);
    let heard = &right[8000.min(right.len())..];
    assert!(
        rms(heard) > 1000.0,
        "far end audio recorded: rms {}",
        rms(heard)
    );
    let share = tone_share(heard, 700.0);
    assert!(share > 0.8, "the far end's 700 Hz tone: share {share:.2}");
    // baresip decrypted our 1 kHz tone.
    let theirs = far.heard();
    let share = tone_share(&theirs, 1000.0);
    assert!(share > 0.5, "baresip heard our tone: share {share:.2}");
    // On the wire: SRTP (an auth tag on every audio packet), no plain G.711.
    let (to, from) = rtp_ports(&v);
    let media: Vec<_> = packets
        .iter()
        .filter(|(sp, dp, p)| (*dp == to || *sp == from) && p.len() > 12 && p[1] & 0x7f == 0)
        .collect();
    assert!(media.len() > 100, "captured {} media packets", media.len());
    for (_, _, p) in &media {
        assert_eq!(p.len(), 12 + 160 + 10, "PCMU frame + 80-bit SRTP tag");
        let distinct = {
            let mut seen = [false; 256];
            p[12..172].iter().for_each(|b| seen[*b as usize] = true);
            seen.iter().filter(|x| **x).count()
        };
        // A G.711 tone or silence uses a handful of code words; ciphertext uses most.
        assert!(
            distinct > 80,
            "payload looks like plain audio ({distinct} byte values)"
        );
    }
    // RTCP went too, as SRTCP (RFC 3711 §3.4: the E flag set in the index before the
    // 80-bit tag), to baresip's RTP port + 1 or, muxed, to the RTP port.
    let rtcp: Vec<_> = packets
        .iter()
        .filter(|(_, dp, p)| (*dp == to || *dp == to + 1) && p.len() > 22 && p[1] == 200)
        .collect();
    assert!(!rtcp.is_empty(), "no SR from hotline on the wire");
    for (_, _, p) in &rtcp {
        assert!(p[p.len() - 14] & 0x80 != 0, "SRTCP E flag: encrypted");
    }
    // baresip's SRTCP came back and decrypted: its report on our stream and the round trip.
    let r = &v["media"]["rtcp"];
    assert!(r["reports_sent"].as_u64() >= Some(1), "{r:#}");
    assert!(r["reports_received"].as_u64() >= Some(1), "{r:#}");
    assert!(r["remote"]["fraction_lost"].as_f64().is_some(), "{r:#}");
    let rtt = r["rtt_ms"].as_f64().unwrap_or(f64::NAN);
    assert!(
        (0.0..50.0).contains(&rtt),
        "rtt from baresip's LSR/DLSR: {r:#}"
    );
    assert!(!log.contains("inline:"), "keys never reach the log");
}

/// A certificate from a CA hotline does not trust, or for another name: the call fails at
/// once (no ring timeout), naming the TLS failure.
#[test]
fn tls_wrong_ca_or_hostname_fails_fast() {
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::new(dir.path(), "good", "trunk.test");
    let other = TestPki::new(dir.path(), "other", "trunk.test");
    let kam = Kamailio::start_tls(dir.path(), &pki.cert, &pki.key);
    let cases = [
        (
            format!(
                "ca_file = \"{}\"\nserver_name = \"trunk.test\"",
                other.ca.display()
            ),
            "UnknownIssuer",
        ),
        (
            format!(
                "ca_file = \"{}\"\nserver_name = \"wrong.test\"",
                pki.ca.display()
            ),
            "not valid for name",
        ),
    ];
    for (tls, want) in cases {
        let s = tls_setup(5999, kam.port, &tls, "off", r#"{ hangup = true }"#);
        let t0 = Instant::now();
        let (code, v) = dial(&s, &[]);
        let took = t0.elapsed();
        assert_ne!(code, 0, "{v:#}");
        let reason = v["termination"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("tls handshake") && reason.contains(want),
            "{want}: {v:#}"
        );
        assert_eq!(v["termination"]["result"], "failed", "{v:#}");
        assert!(
            took < Duration::from_secs(5),
            "failed in {took:?} (ring timeout is 10 s)"
        );
        assert_eq!(offset(&v, "provisional"), None);
    }
}

/// `srtp = "required"` and a peer that answers plain RTP: refused with a clear reason, no
/// audio in the clear.
#[test]
fn srtp_required_refuses_a_plain_answer() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "2s" }, { hangup = true }"#,
        "",
    );
    let cfg = std::fs::read_to_string(&s.config).expect("config");
    std::fs::write(
        &s.config,
        cfg.replace(
            "rtp_ports = \"30000-39998\"",
            "rtp_ports = \"30000-39998\"\nsrtp = \"required\"",
        ),
    )
    .expect("config");
    let (code, v) = dial(&s, &[]);
    assert_ne!(code, 0, "{v:#}");
    assert_eq!(v["termination"]["result"], "failed", "{v:#}");
    let reason = v["termination"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("srtp required"), "{v:#}");
    assert_eq!(v["media"]["packets_sent"], 0, "{v:#}");
    let _ = sipp.wait(Duration::from_secs(10));
}

/// `srtp = "optional"` against a plain peer: the call goes on in plain RTP.
#[test]
fn srtp_optional_falls_back_to_plain_rtp() {
    let dir = tempfile::tempdir().expect("tmp");
    let far_tone = dir.path().join("far.wav");
    tone_8k(&far_tone, 700.0, 30_000);
    let far = Baresip::start(dir.path(), &far_tone, "");
    let s = setup(
        "udp",
        far.port,
        "10s",
        r#"{ wait = "2s" }, { hangup = true }"#,
        "",
    );
    let cfg = std::fs::read_to_string(&s.config).expect("config");
    std::fs::write(
        &s.config,
        cfg.replace(
            "rtp_ports = \"30000-39998\"",
            "rtp_ports = \"30000-39998\"\nsrtp = \"optional\"",
        ),
    )
    .expect("config");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}\n{}", far.log_text());
    assert!(!kinds(&v).contains(&"media_secured".to_string()));
    let (_l, right) = recording(&v, &s);
    assert!(tone_share(&right[4000.min(right.len())..], 700.0) > 0.8);
}

/// A Python with pjsua2: the system's, else a venv under the target's tmp folder with PyPI's
/// `pjsua2-python` installed into it (once).
fn pjsua2_python() -> std::path::PathBuf {
    let works = |py: &Path| {
        Command::new(py)
            .args(["-c", "import pjsua2"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = Path::new("python3");
    if works(system) {
        return system.to_path_buf();
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pjsua2-venv");
    let py = venv.join("bin/python");
    if !works(&py) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        let installed = Command::new(&py)
            .args(["-m", "pip", "install", "-q", "pjsua2-python"])
            .status();
        assert!(
            works(&py),
            "pjsua2 unavailable: python3 -m venv ({made:?}) + pip install pjsua2-python \
             ({installed:?})"
        );
    }
    py
}

/// pjsua2 (PyPI `pjsua2-python`, pjsip 2.15) as the far end, dialled directly at a `sips:`
/// URI: TLS to its listener (certificate checked against the test CA, by IP address), SDES
/// SRTP mandatory on its side; both tones cross.
#[test]
fn tls_and_srtp_direct_to_pjsua2() {
    let (v, _log) = call_pjsua2(None, r#"{ wait = "3s" }, { hangup = true }"#);
    assert_eq!(v["termination"]["result"], "answered");
}

/// pjsua2 hangs up: its BYE reaches hotline over the TLS connection hotline opened (pjsip
/// finds it by our Contact's address), and the call ends as the far end's doing.
#[test]
fn far_end_bye_arrives_over_our_tls_connection() {
    let (v, log) = call_pjsua2(Some(3), r#"{ wait = "500ms" }"#);
    assert!(log.contains("HANGUP"), "{log}");
    assert_eq!(v["termination"]["hangup_by"], "remote", "{v:#}");
    assert!(kinds(&v).contains(&"bye_received".to_string()), "{v:#}");
}

/// One call to pjsua2 over TLS with SRTP required; checks both directions' audio and returns
/// the record and pjsua2's log.
fn call_pjsua2(hangup_after: Option<u32>, menu: &str) -> (serde_json::Value, String) {
    // One pjsua2 at a time: two at once share pjsip's default RTP ports (4000 and up), so one
    // process can get the other's SRTP (and discards it), and both would make the venv.
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let py = pjsua2_python();
    let dir = tempfile::tempdir().expect("tmp");
    let pki = TestPki::new(dir.path(), "good", "trunk.test");
    let far_tone = dir.path().join("far.wav");
    tone_8k(&far_tone, 700.0, 20_000);
    let heard = dir.path().join("pjsua-heard.wav");
    let out = dir.path().join("pjsua.log");
    let port = free_port(false);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pjsua/uas_tls_srtp.py");
    let mut pj = Command::new(&py)
        .arg(&script)
        .arg(port.to_string())
        .arg(&pki.cert)
        .arg(&pki.key)
        .arg(&far_tone)
        .arg(&heard)
        .arg("30")
        .args(hangup_after.map(|s| s.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&out).expect("log")))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pjsua2");
    let log = || std::fs::read_to_string(&out).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !log().contains("READY") {
        assert!(
            Instant::now() < deadline,
            "pjsua2 did not start:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let s = setup(
        "tls",
        port,
        "10s",
        menu,
        &format!("[sip.tls]\nca_file = \"{}\"\n", pki.ca.display()),
    );
    let plan = s.dir.path().join("dialplans/t.toml");
    let text = std::fs::read_to_string(&plan).expect("plan");
    std::fs::write(&plan, text.replace("uri = \"sip:", "uri = \"sips:")).expect("plan");
    let cfg = std::fs::read_to_string(&s.config).expect("config");
    std::fs::write(
        &s.config,
        cfg.replace(
            "rtp_ports = \"30000-39998\"",
            "rtp_ports = \"30000-39998\"\nsrtp = \"required\"",
        ),
    )
    .expect("config");
    let ours = s.dir.path().join("ours.wav");
    tone_8k(&ours, 1000.0, 2_000);
    let (code, v) = dial(&s, &["--play", ours.to_str().expect("path")]);
    // pjsua2 exits on its own once the call is over (its recording is complete only then);
    // killed only if it hangs.
    let deadline = Instant::now() + Duration::from_secs(15);
    while pj.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = pj.kill();
    let _ = pj.wait();
    assert_eq!(code, 0, "{v:#}\npjsua2:\n{}", log());
    assert!(kinds(&v).contains(&"media_secured".to_string()), "{v:#}");
    let (_l, right) = recording(&v, &s);
    let share = tone_share(&right[8000.min(right.len())..], 700.0);
    assert!(
        share > 0.8,
        "pjsua2's 700 Hz tone in our recording: share {share:.2}"
    );
    let mut r = hound::WavReader::open(&heard).expect("pjsua2 recording");
    let rate = r.spec().sample_rate as f32;
    let theirs: Vec<i16> = r.samples::<i16>().map(|x| x.expect("sample")).collect();
    let share = tone_share(&theirs, 1000.0 * 8000.0 / rate);
    assert!(
        share > 0.5,
        "pjsua2 heard our tone: share {share:.2} at {rate} Hz ({} samples)\npjsua2:\n{}",
        theirs.len(),
        log()
    );
    (v, log())
}
