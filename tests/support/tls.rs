//! TLS and SRTP peers for end-to-end tests: certificates made by the test with the
//! `openssl` CLI (a CA, and a server certificate it signs), and baresip (Debian
//! `baresip-core`, its `srtp` module) as a far end that answers by itself.

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A test CA and one server certificate it signed.
pub struct TestPki {
    /// The CA certificate (PEM): what hotline's `ca_file` trusts.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl (Debian openssl) is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestPki {
    /// A CA named `tag` and a certificate for `dns` (and 127.0.0.1) signed by it.
    pub fn new(dir: &Path, tag: &str, dns: &str) -> TestPki {
        let ca_key = format!("{tag}-ca.key");
        let ca = format!("{tag}-ca.pem");
        let key = format!("{tag}-server.key");
        let csr = format!("{tag}-server.csr");
        let cert = format!("{tag}-server.pem");
        let ext = format!("{tag}-ext.cnf");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &ca_key,
                "-out",
                &ca,
                "-days",
                "2",
                "-subj",
                &format!("/CN=hotline test CA {tag}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={dns}"),
            ],
        );
        std::fs::write(
            dir.join(&ext),
            format!(
                "subjectAltName=DNS:{dns},IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
                 keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .expect("ext file");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &cert,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
        TestPki {
            ca: dir.join(ca),
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }
}

/// A baresip user agent answering every call by itself; killed when dropped.
pub struct Baresip {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Baresip {
    /// Starts baresip on a free port in `dir`, sending `source` (an 8 kHz mono WAV) and
    /// dumping what it hears and sends (`sndfile`) into `dir`. `mediaenc` is baresip's
    /// account parameter: `srtp-mand` (RTP/SAVP, SDES), `srtp` (best effort) or "" (plain).
    pub fn start(dir: &Path, source: &Path, mediaenc: &str) -> Baresip {
        assert!(
            Command::new("baresip").arg("-h").output().is_ok(),
            "baresip is not installed: the test command installs Debian's baresip-core"
        );
        let dir = dir.join("baresip");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for _attempt in 0..5 {
            let port = free_port(false);
            let rtp = free_port(true);
            std::fs::write(
                dir.join("config"),
                format!(
                    "poll_method epoll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{port}\n\
                     audio_player aubridge,nil\naudio_alert aubridge,nil\n\
                     audio_source aufile,{src}\nausrc_srate 8000\nausrc_channels 1\n\
                     auplay_srate 8000\nauplay_channels 1\nrtp_ports {rtp}-{rtp_end}\n\
                     module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\n\
                     module aubridge.so\nmodule srtp.so\nmodule sndfile.so\n\
                     module_app account.so\nmodule_app menu.so\nsnd_path {dump}\n",
                    src = source.display(),
                    rtp_end = rtp + 3,
                    dump = dir.display(),
                ),
            )
            .expect("baresip config");
            let enc = if mediaenc.is_empty() {
                String::new()
            } else {
                format!(";mediaenc={mediaenc}")
            };
            std::fs::write(
                dir.join("accounts"),
                format!(
                    "<sip:support@127.0.0.1>;regint=0;answermode=auto{enc};audio_codecs=PCMU\n"
                ),
            )
            .expect("baresip accounts");
            let log = dir.join("baresip.log");
            let child = Command::new("baresip")
                .arg("-f")
                .arg(&dir)
                .arg("-v")
                .stdin(Stdio::null())
                .stdout(Stdio::from(std::fs::File::create(&log).expect("log")))
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn baresip");
            let mut b = Baresip {
                child: Some(child),
                port,
                dir: dir.clone(),
                log,
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if b.log_text().contains("baresip is ready") {
                    return b;
                }
                if let Some(c) = b.child.as_mut()
                    && let Ok(Some(_)) = c.try_wait()
                {
                    break; // port clash: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            b.stop();
        }
        panic!("baresip did not start");
    }

    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// What baresip decoded from the network (hotline's audio), from its `sndfile` dump.
    pub fn heard(&self) -> Vec<i16> {
        let file = std::fs::read_dir(&self.dir)
            .expect("baresip dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .unwrap_or_else(|| panic!("no -dec.wav dump in {}", self.dir.display()));
        let mut r = hound::WavReader::open(&file).expect("dump wav");
        r.samples::<i16>().map(|s| s.expect("sample")).collect()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes an 8 kHz mono WAV of a `hz` tone for `ms`.
pub fn tone_8k(path: &Path, hz: f32, ms: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..(8 * ms) {
        let x = (n as f32 * hz * std::f32::consts::TAU / 8000.0).sin() * 12000.0;
        w.write_sample(x as i16).expect("sample");
    }
    w.finalize().expect("finalize");
}

/// Share of `s`'s energy at `hz` (Goertzel over 20 ms blocks, weighted by block energy,
/// so a jitter buffer's gaps do not matter): near 1 for a clean tone.
pub fn tone_share(s: &[i16], hz: f32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz as f64 / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut tone, mut total) = (0.0f64, 0.0f64);
    for block in s.chunks_exact(160) {
        let (mut s1, mut s2, mut e) = (0.0f64, 0.0f64, 0.0f64);
        for x in block {
            let x = *x as f64;
            e += x * x;
            let s0 = x + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        // A pure tone of N samples gives power = energy * N / 2.
        tone += (s1 * s1 + s2 * s2 - coeff * s1 * s2) / 80.0;
        total += e;
    }
    if total == 0.0 { 0.0 } else { tone / total }
}

/// UDP payloads in a libpcap file captured on `lo` (Linux cooked or Ethernet framing):
/// (source port, destination port, payload).
pub fn udp_payloads(pcap: &Path) -> Vec<(u16, u16, Vec<u8>)> {
    let b = std::fs::read(pcap).expect("pcap");
    assert!(b.len() >= 24, "pcap too short");
    let le = b[0..4] == [0xd4, 0xc3, 0xb2, 0xa1] || b[0..4] == [0x4d, 0x3c, 0xb2, 0xa1];
    let u32_at = |i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let link = u32_at(20);
    let l2 = match link {
        1 => 14,   // Ethernet
        113 => 16, // Linux cooked (SLL)
        276 => 20, // SLL2
        0 => 4,    // BSD loopback
        other => panic!("pcap link type {other}"),
    };
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= b.len() {
        let incl = u32_at(i + 8) as usize;
        let pkt = &b[(i + 16).min(b.len())..(i + 16 + incl).min(b.len())];
        i += 16 + incl;
        if pkt.len() < l2 + 28 {
            continue;
        }
        let ip = &pkt[l2..];
        if ip[0] >> 4 != 4 || ip[9] != 17 {
            continue;
        }
        let ihl = (ip[0] & 0x0f) as usize * 4;
        let udp = &ip[ihl..];
        if udp.len() < 8 {
            continue;
        }
        let sp = u16::from_be_bytes([udp[0], udp[1]]);
        let dp = u16::from_be_bytes([udp[2], udp[3]]);
        out.push((sp, dp, udp[8..].to_vec()));
    }
    out
}
