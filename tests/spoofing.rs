//! Security review findings 2 and 3, end to end on 127.0.0.1: a stranger who knows a live
//! call's Call-ID (the timeline, the log and the chat notify all show it) forges SIP
//! responses from a second socket, and a sprayer floods the RTP port range. Neither may
//! answer, steer or hijack the call, reach its recording, or flood its timeline.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::*;

/// Rewrites the setup's config: a known SIP port (the attacker aims at it) and, if given, a
/// narrow RTP range (the sprayer covers all of it).
fn pin_ports(s: &Setup, sip: u16, rtp: Option<(u16, u16)>) {
    let mut c = std::fs::read_to_string(&s.config).expect("config");
    c = c.replace(
        "bind = \"127.0.0.1:0\"",
        &format!("bind = \"127.0.0.1:{sip}\""),
    );
    if let Some((a, b)) = rtp {
        c = c.replace(
            "rtp_ports = \"30000-39998\"",
            &format!("rtp_ports = \"{a}-{b}\""),
        );
    }
    std::fs::write(&s.config, c).expect("config");
}

/// The Call-ID of the call in progress, from its sidecar (written as the call starts).
fn live_call_id(dir: &Path, within: Duration) -> String {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let end = Instant::now() + within;
    loop {
        let mut found = vec![];
        walk(&dir.join("recordings"), &mut found);
        if let Some(id) = found
            .first()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["call_id"].as_str().map(str::to_string))
        {
            return id;
        }
        assert!(Instant::now() < end, "no call in progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn forged(status: &str, call_id: &str, branch: &str, rtp_port: u16) -> Vec<u8> {
    let sdp = format!(
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    );
    format!(
        "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 127.0.0.1;branch={branch}\r\n\
         From: <sip:hotline@127.0.0.1>;tag=guess\r\nTo: <sip:support@127.0.0.1>;tag=forger\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:5999>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// Finding 3: forged 200 OK, 486 and a flood of 180s, all with the right Call-ID and the
/// branch the old derivation used, from a second socket. The call only rings, so it must end
/// as no answer (not "answered, SLA met", not busy); the forger gets no ACK; the timeline
/// keeps a handful of sampled rejections with the exact count.
#[test]
fn forged_responses_neither_answer_nor_steer_the_call() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_noanswer.xml", "u1", &[]);
    let s = setup("udp", sipp.port, "3s", r#"{ hangup = true }"#, "");
    let sip = free_port(false);
    pin_ports(&s, sip, None);
    let forger = UdpSocket::bind("127.0.0.1:0").expect("bind");
    forger
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let rtp_port = rtp.local_addr().expect("addr").port();
    let root = s.dir.path().to_path_buf();
    let flood = 3000u64;
    let attacker = std::thread::spawn(move || {
        let id = live_call_id(&root, Duration::from_secs(5));
        let to: SocketAddr = ([127, 0, 0, 1], sip).into();
        // What an attacker would guess: the branch derived from the Call-ID.
        let guess = format!("z9hG4bK{}.1", id.replace('@', "."));
        std::thread::sleep(Duration::from_millis(300));
        for status in ["200 OK", "486 Busy Here"] {
            forger
                .send_to(&forged(status, &id, &guess, rtp_port), to)
                .expect("send");
        }
        for i in 0..flood {
            let b = format!("z9hG4bK{i:x}");
            let _ = forger.send_to(&forged("180 Ringing", &id, &b, rtp_port), to);
        }
        // Anything sent back to the forger (an ACK would mean the forgery was taken)?
        let mut got = vec![];
        let mut buf = [0u8; 4096];
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end {
            if let Ok(n) = forger.recv(&mut buf) {
                got.push(String::from_utf8_lossy(&buf[..n]).to_string());
            }
        }
        got
    });
    let (code, v) = dial(&s, &[]);
    let back = attacker.join().expect("attacker");
    assert_eq!(code, 4, "no answer, as the vendor only rang: {v:#}");
    assert_eq!(v["termination"]["result"], "no_answer", "{v:#}");
    let k = kinds(&v);
    assert!(!k.iter().any(|x| x == "answered"), "{k:?}");
    assert!(
        back.iter().all(|m| !m.starts_with("ACK")),
        "the forger got: {back:?}"
    );
    let rejected: Vec<&serde_json::Value> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "response_rejected")
        .collect();
    assert!(
        (5..=10).contains(&rejected.len()),
        "sampled rejections, not one per forged packet: {}",
        rejected.len()
    );
    let last = rejected
        .last()
        .and_then(|e| e["count"].as_u64())
        .unwrap_or(0);
    // Loopback drops some of a tight burst; the count is exact for what arrived.
    assert!(last >= 100, "the count is kept: {last}");
    let total = v["media"]["sip_responses_rejected"].as_u64().unwrap_or(0);
    assert!(total >= last, "all rejections counted: {total}");
    assert!(v["events"].as_array().expect("events").len() < 60);
    assert_eq!(
        sipp.wait(Duration::from_secs(20)),
        0,
        "sipp saw a clean CANCEL"
    );
}

/// Finding 2: a sprayer floods every port of the RTP range with loud RTP from the moment
/// the INVITE leaves, before the vendor sends anything. The vendor's audio (sipp's pcap) is
/// on the recording's right channel and the sprayer's is not; the sprayer never receives
/// our audio; the timeline counts the rejected source.
#[test]
fn an_rtp_sprayer_cannot_hijack_the_media() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", "u1", &["-d", "1000"]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "2500ms" }, { hangup = true }"#,
        "",
    );
    let rtp0 = free_port(true);
    pin_ports(&s, free_port(false), Some((rtp0, rtp0 + 3)));
    let tone = s.dir.path().join("tone.wav");
    tone_wav(&tone, 2000);
    let stop = Arc::new(AtomicBool::new(false));
    let heard = Arc::new(AtomicU64::new(0));
    let sprayer = {
        let (stop, heard) = (stop.clone(), heard.clone());
        std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
            sock.set_nonblocking(true).expect("nonblocking");
            let mut seq = 0u16;
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                for port in rtp0..=rtp0 + 3 {
                    let mut p = vec![0x80, 0x00];
                    p.extend_from_slice(&seq.to_be_bytes());
                    p.extend_from_slice(&(seq as u32 * 160).to_be_bytes());
                    p.extend_from_slice(&0x5eed_u32.to_be_bytes());
                    // μ-law 0x00: full-scale negative, nothing like the vendor's speech.
                    p.extend_from_slice(&[0u8; 160]);
                    let _ = sock.send_to(&p, ("127.0.0.1", port));
                }
                seq = seq.wrapping_add(1);
                while let Ok(n) = sock.recv(&mut buf) {
                    if n > 12 {
                        heard.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let (code, v) = dial(&s, &["--play", tone.to_str().expect("utf8")]);
    stop.store(true, Ordering::Relaxed);
    sprayer.join().expect("sprayer");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        heard.load(Ordering::Relaxed),
        0,
        "the sprayer heard our audio"
    );
    let (_, right) = recording(&v, &s);
    let full_scale = right.iter().filter(|x| **x <= -32000).count();
    assert!(
        full_scale < 80,
        "the sprayer's audio is on the vendor channel: {full_scale} samples"
    );
    assert!(rms(&right) > 300.0, "the vendor's audio is recorded");
    let k = kinds(&v);
    assert!(k.iter().any(|x| x == "media_rejected"), "{k:?}");
    assert!(!k.iter().any(|x| x == "media_latched"), "{k:?}");
    let foreign = v["media"]["packets_foreign"].as_u64().unwrap_or(0);
    assert!(foreign > 20, "stranger packets counted: {foreign}");
    assert_eq!(sipp.wait(Duration::from_secs(20)), 0);
}
