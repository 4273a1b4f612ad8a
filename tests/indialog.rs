//! In-dialog robustness end to end against sipp on 127.0.0.1: session timers (RFC 4028:
//! a 422 answered with its Min-SE, our refresh as the refresher, the BYE when the far end
//! lets the session lapse) and RTCP on the wire (our SR/RR at the far end's RTP port + 1,
//! its RR back to us: loss, jitter and the round trip in the call record).

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};
use support::*;

const SIPP_WAIT: Duration = Duration::from_secs(20);

#[test]
fn interval_too_small_then_answered() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_session_422.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "500ms" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let k = kinds(&v);
    let too_small = k.iter().position(|x| x == "interval_too_small");
    let answered = k.iter().position(|x| x == "answered");
    assert!(too_small.is_some() && too_small < answered, "{k:?}");
    assert_eq!(k.iter().filter(|x| *x == "invite_sent").count(), 2);
    let timer = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["kind"] == "session_timer")
        .cloned()
        .expect("session timer set by the 2xx");
    assert_eq!(timer["secs"], 3600);
    assert_eq!(timer["refresher"], "us");
    assert_eq!(
        sipp.wait(SIPP_WAIT),
        0,
        "sipp checked the second INVITE asked for 3600 s"
    );
}

#[test]
fn we_refresh_the_session_half_way() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_session_refresh.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "3s" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let answered = offset(&v, "answered").expect("answered");
    let sent = offset(&v, "session_refresh_sent").expect("refresh sent");
    let at = sent - answered;
    assert!(
        (1950.0..2200.0).contains(&at),
        "refresh {at} ms after answer"
    );
    let k = kinds(&v);
    assert!(k.contains(&"session_refreshed".to_string()), "{k:?}");
    assert_eq!(v["termination"]["result"], "answered");
    assert_eq!(v["termination"]["hangup_by"], "local");
    assert_eq!(sipp.wait(SIPP_WAIT), 0, "sipp saw the refresh re-INVITE");
}

#[test]
fn the_far_end_that_lets_the_session_lapse_is_hung_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_session_expires.xml", "u1", &[]);
    let s = setup("udp", sipp.port, "10s", r#"{ wait = "30s" }"#, "");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let answered = offset(&v, "answered").expect("answered");
    let bye = offset(&v, "bye_sent").expect("bye");
    let at = bye - answered;
    // 3 s less min(32 s, 1 s).
    assert!((1950.0..2200.0).contains(&at), "BYE {at} ms after answer");
    assert!(kinds(&v).contains(&"session_expired".to_string()));
    let reason = v["termination"]["reason"].as_str().expect("reason");
    assert!(reason.contains("no refresh from the far end"), "{reason}");
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

/// One RTCP packet's (type, SSRC) pairs, walking the compound packet by its lengths.
fn rtcp_parts(b: &[u8]) -> Vec<(u8, u32)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= b.len() && b[at] >> 6 == 2 {
        let len = (u16::from_be_bytes([b[at + 2], b[at + 3]]) as usize + 1) * 4;
        let ssrc = u32::from_be_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]);
        out.push((b[at + 1], ssrc));
        at += len;
    }
    out
}

#[test]
fn rtcp_goes_both_ways_and_lands_in_the_record() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", "u1", &[]);
    // sipp plays its pcap from the RTP port and takes no RTCP: this socket is the far end's
    // RTCP port (RTP + 1, RFC 3550 §11; sipp's answer has no a=rtcp-mux).
    let far = UdpSocket::bind(("127.0.0.1", sipp.media_port + 1)).expect("rtcp port");
    far.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "4s" }, { hangup = true }"#,
        "",
    );
    let call = std::thread::spawn(move || {
        let r = dial(&s, &[]);
        (s, r)
    });
    // Wait for our first report (2.5 s after media starts), answer it with an RR that
    // reports on our stream: 10 ms after the SR arrived, so the round trip is about that
    // plus loopback.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 1500];
    let (n, from) = loop {
        assert!(Instant::now() < deadline, "no RTCP from hotline");
        if let Ok(r) = far.recv_from(&mut buf) {
            break r;
        }
    };
    let got = Instant::now();
    let parts = rtcp_parts(&buf[..n]);
    assert_eq!(
        parts.iter().map(|p| p.0).collect::<Vec<_>>(),
        [200, 202],
        "an SR then an SDES"
    );
    let ours = parts[0].1;
    assert_eq!(from.port() % 2, 1, "sent from our RTP port + 1: {from}");
    // LSR: the middle 32 bits of the SR's NTP timestamp (bytes 8..16).
    let lsr = u32::from_be_bytes([buf[10], buf[11], buf[12], buf[13]]);
    std::thread::sleep(Duration::from_millis(10));
    let dlsr = (got.elapsed().as_secs_f64() * 65536.0) as u32;
    let mut rr = vec![0x81, 201, 0, 7];
    rr.extend_from_slice(&0x5151_5151u32.to_be_bytes()); // the far end's SSRC
    rr.extend_from_slice(&ours.to_be_bytes());
    rr.extend_from_slice(&[64, 0, 0, 3]); // fraction 64/256 lost, 3 packets in all
    rr.extend_from_slice(&100u32.to_be_bytes()); // highest sequence
    rr.extend_from_slice(&80u32.to_be_bytes()); // jitter: 80 units = 10 ms
    rr.extend_from_slice(&lsr.to_be_bytes());
    rr.extend_from_slice(&dlsr.to_be_bytes());
    far.send_to(&rr, from).expect("send rr");
    let (s, (code, v)) = call.join().expect("dial thread");
    assert_eq!(code, 0, "{v:#}");
    let r = &v["media"]["rtcp"];
    assert!(r["reports_sent"].as_u64() >= Some(1), "{r:#}");
    assert_eq!(r["reports_received"], 1, "{r:#}");
    let remote = &r["remote"];
    assert_eq!(remote["packets_lost"], 3);
    assert_eq!(remote["fraction_lost"], 0.25);
    assert_eq!(remote["jitter_ms"], 10.0);
    let rtt = r["rtt_ms"].as_f64().expect("rtt from LSR/DLSR");
    assert!((0.0..50.0).contains(&rtt), "rtt {rtt} ms on loopback");
    // sipp's pcap came in at its recorded pace: jitter of its stream measured.
    assert!(r["jitter_ms"].as_f64().is_some_and(|j| j < 20.0), "{r:#}");
    assert!(r["packets_lost"].as_i64().is_some(), "{r:#}");
    drop(s);
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}
