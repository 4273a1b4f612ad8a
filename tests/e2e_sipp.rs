//! End to end against sipp (an independent SIP implementation) on 127.0.0.1: the real
//! `hotline dial` binary, real SIP and RTP on the wire, real WAV files.

mod support;

use std::time::Duration;
use support::*;

const SIPP_WAIT: Duration = Duration::from_secs(20);

fn answered_call(transport: &str, sipp_t: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_answer.xml", sipp_t, &["-d", "1500"]);
    let s = setup(
        transport,
        sipp.port,
        "10s",
        r#"{ wait = "1500ms" }, { hangup = true }"#,
        "",
    );
    let tone = s.dir.path().join("tone.wav");
    tone_wav(&tone, 1000);
    let (code, v) = dial(&s, &["--play", tone.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["termination"]["result"], "answered");
    // The scenario rings for 1500 ms: time to answer within ±50 ms of it.
    let tta = v["time_to_answer_ms"].as_u64().expect("answered");
    assert!((1450..=1550).contains(&tta), "time_to_answer_ms {tta}");
    assert_eq!(v["sla"]["met"], true);
    let k = kinds(&v);
    for want in [
        "invite_sent",
        "provisional",
        "answered",
        "ack_sent",
        "media_first_tx",
        "media_first_rx",
        "playback_started",
        "playback_finished",
        "menu_done",
        "bye_sent",
        "ended",
    ] {
        assert!(k.iter().any(|x| x == want), "missing {want} in {k:?}");
    }
    // Audio starts within one packet time of the answer.
    let first = v["media"]["answer_to_first_rtp_us"]
        .as_u64()
        .expect("first rtp");
    assert!(first < 20_000, "first RTP {first} us after 200 OK");
    // Recording: ours (the tone, after the 1.5 s wait) on the left, sipp's pcap on the right.
    let (left, right) = recording(&v, &s);
    let sec = |ch: &[i16], from: f64, to: f64| {
        let a = ((from * 8000.0) as usize).min(ch.len());
        let b = ((to * 8000.0) as usize).min(ch.len());
        rms(&ch[a..b])
    };
    assert!(sec(&left, 0.1, 1.4) < 50.0, "left silent during the wait");
    assert!(
        sec(&left, 1.7, 2.3) > 3000.0,
        "tone on the left after the wait"
    );
    assert!(sec(&right, 0.3, 1.3) > 300.0, "far end audio on the right");
    assert!(
        left.len() >= 8000 * 5 / 2,
        "about 2.5 s recorded, got {}",
        left.len()
    );
    assert_eq!(sipp.wait(SIPP_WAIT), 0, "sipp saw a correct call");
}

#[test]
fn answer_after_ring_delay_udp() {
    answered_call("udp", "u1");
}

#[test]
fn answer_after_ring_delay_tcp() {
    answered_call("tcp", "t1");
}

fn busy(transport: &str, sipp_t: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_busy.xml", sipp_t, &[]);
    let s = setup(transport, sipp.port, "10s", "", "");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["termination"]["result"], "busy");
    assert_eq!(v["termination"]["code"], 486);
    assert!(kinds(&v).contains(&"ack_sent".to_string()));
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

#[test]
fn busy_udp() {
    busy("udp", "u1");
}

#[test]
fn busy_tcp() {
    busy("tcp", "t1");
}

fn no_answer(transport: &str, sipp_t: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_noanswer.xml", sipp_t, &[]);
    let s = setup(transport, sipp.port, "2s", "", "");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 4, "{v:#}");
    assert_eq!(v["termination"]["result"], "no_answer");
    assert_eq!(v["termination"]["code"], 487);
    let cancel = offset(&v, "cancel_sent").expect("cancel sent");
    assert!((1990.0..2100.0).contains(&cancel), "CANCEL at {cancel} ms");
    assert_eq!(v["sla"]["met"], false);
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

#[test]
fn no_answer_cancels_udp() {
    no_answer("udp", "u1");
}

#[test]
fn no_answer_cancels_tcp() {
    no_answer("tcp", "t1");
}

fn auth(transport: &str, sipp_t: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_auth.xml",
        sipp_t,
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let auth = "[sip.auth]\nusername = \"ops\"\npassword = \"s3cret\"\n";
    let s = setup(
        transport,
        sipp.port,
        "10s",
        r#"{ wait = "300ms" }, { hangup = true }"#,
        auth,
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let k = kinds(&v);
    assert!(k.contains(&"challenged".to_string()), "{k:?}");
    let invites: Vec<_> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "invite_sent")
        .collect();
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[1]["authenticated"], true);
    assert_eq!(sipp.wait(SIPP_WAIT), 0, "sipp verified our digest");
    let log = std::fs::read_to_string(s.dir.path().join("hotline.err")).expect("log");
    assert!(!log.contains("s3cret"), "the password never reaches a log");
}

#[test]
fn digest_auth_udp() {
    auth("udp", "u1");
}

#[test]
fn digest_auth_tcp() {
    auth("tcp", "t1");
}

#[test]
fn second_challenge_fails_without_looping() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_auth_twice.xml", "u1", &[]);
    let auth = "[sip.auth]\nusername = \"ops\"\npassword = \"wrong\"\n";
    let s = setup("udp", sipp.port, "10s", "", auth);
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 5, "{v:#}");
    assert_eq!(v["termination"]["result"], "failed");
    assert_eq!(v["termination"]["code"], 401);
    assert_eq!(sipp.wait(SIPP_WAIT), 0, "no third INVITE");
}

#[test]
fn early_media_is_recorded_before_answer() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_early_media.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "500ms" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let early = offset(&v, "early_media").expect("early media");
    let rx = offset(&v, "media_first_rx").expect("rx");
    let answered = offset(&v, "answered").expect("answered");
    assert!(
        early < answered && rx < answered,
        "early {early} rx {rx} answered {answered}"
    );
    let (_, right) = recording(&v, &s);
    // The media clock starts at the 183; the 200 comes ~1.1 s later. The pcap's speech starts
    // ~0.6 s in, so 0.6-1.05 s holds early media only.
    assert!(rms(&right[4800..8400]) > 100.0, "early media recorded");
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

#[test]
fn far_end_hangs_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_hangup.xml", "u1", &[]);
    let s = setup("udp", sipp.port, "10s", r#"{ wait = "30s" }"#, "");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["termination"]["hangup_by"], "remote");
    assert!(kinds(&v).contains(&"bye_received".to_string()));
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

#[test]
fn far_end_dtmf_is_on_the_timeline() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_dtmf.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "2500ms" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let digits: Vec<_> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "dtmf_received")
        .map(|e| e["digit"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        digits,
        vec!["1"],
        "one digit, end retransmissions counted once"
    );
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}

#[test]
fn far_end_hold_unhold_and_options() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_reinvite_hold.xml", "u1", &[]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "3s" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}");
    let k = kinds(&v);
    assert_eq!(
        k.iter().filter(|x| *x == "reinvite_received").count(),
        2,
        "{k:?}"
    );
    assert!(k.contains(&"options_received".to_string()));
    let marks: Vec<_> = k
        .iter()
        .filter(|x| *x == "hold" || *x == "unhold")
        .collect();
    assert_eq!(marks, ["hold", "unhold"], "{k:?}");
    // The recording runs on through the hold, aligned: as long as media ran.
    let (left, right) = recording(&v, &s);
    let media_ms = offset(&v, "ended").expect("ended") - offset(&v, "answered").expect("answered");
    let rec_ms = left.len() as f64 / 8.0;
    assert!(
        (rec_ms - media_ms).abs() < 200.0,
        "recording {rec_ms} ms, media {media_ms} ms"
    );
    assert_eq!(left.len(), right.len());
    assert_eq!(
        sipp.wait(SIPP_WAIT),
        0,
        "sipp checked our hold answer was recvonly"
    );
}

#[test]
fn menu_dtmf_reaches_the_far_end() {
    // sipp's echo scenario reflects our RTP: the RFC 4733 events we send come back to us.
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "200ms" }, { dtmf = "{code}#" }, { wait = "300ms" }, { hangup = true }"#,
        "",
    );
    let (code, v) = dial(&s, &["--var", "code=42"]);
    assert_eq!(code, 0, "{v:#}");
    let sent: String = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "dtmf_sent")
        .filter_map(|e| e["digit"].as_str())
        .collect();
    let echoed: String = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "dtmf_received")
        .filter_map(|e| e["digit"].as_str())
        .collect();
    assert_eq!(sent, "42#");
    assert_eq!(echoed, "42#", "our RFC 4733 events are well formed");
    assert_eq!(sipp.wait(SIPP_WAIT), 0);
}
