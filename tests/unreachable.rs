//! A trunk that is not there fails the attempt at once (issue 10): ICMP port unreachable on
//! UDP, connection refused on TCP. Measured against a closed port on 127.0.0.1.

mod support;

use std::time::Instant;
use support::*;

fn closed_port_fails_fast(transport: &str) {
    // Nothing listens here (free_port checks both UDP and TCP).
    let port = free_port(false);
    let s = setup(transport, port, "3s", "", "");
    let t0 = Instant::now();
    let (code, v) = dial(&s, &[]);
    let wall = t0.elapsed();
    assert_eq!(code, 5, "{v:#}");
    assert_eq!(v["termination"]["result"], "failed", "{v:#}");
    let reason = v["termination"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("trunk unreachable"), "{reason}");
    let ended = offset(&v, "ended").expect("ended event");
    println!("{transport}: ended {ended:.1} ms after the INVITE, dial took {wall:?}");
    assert!(ended < 1000.0, "ended {ended} ms after the INVITE");
    assert!(wall.as_millis() < 2500, "hotline dial took {wall:?}");
}

#[test]
fn closed_udp_port_fails_within_a_second() {
    closed_port_fails_fast("udp");
}

#[test]
fn closed_tcp_port_fails_within_a_second() {
    closed_port_fails_fast("tcp");
}

#[test]
fn silent_udp_trunk_fails_after_two_seconds_without_a_trying() {
    // Bound (so no ICMP), never answers: a black-holed trunk.
    let port = free_port(false);
    let _sink = std::net::UdpSocket::bind(("127.0.0.1", port)).expect("bind");
    let s = setup("udp", port, "30s", "", "");
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 5, "{v:#}");
    assert_eq!(
        v["termination"]["reason"],
        "trunk unreachable: no response to INVITE within 2s"
    );
    let ended = offset(&v, "ended").expect("ended event");
    assert!((1990.0..2300.0).contains(&ended), "ended at {ended} ms");
}

#[test]
fn tcp_trunk_closing_the_connection_fails_at_once() {
    let port = free_port(false);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
    // Accept, read the INVITE, close without a response.
    let closer = std::thread::spawn(move || {
        if let Ok((mut c, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut c, &mut buf);
        }
    });
    let s = setup("tcp", port, "30s", "", "");
    let (code, v) = dial(&s, &[]);
    closer.join().expect("closer");
    assert_eq!(code, 5, "{v:#}");
    let reason = v["termination"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("trunk unreachable:") && reason.contains("tcp connection ended"),
        "{reason}"
    );
    let ended = offset(&v, "ended").expect("ended event");
    assert!(ended < 1000.0, "ended at {ended} ms");
}
