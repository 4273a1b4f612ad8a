//! The SIP endpoint as a component on 127.0.0.1: what it does with messages for no call of
//! ours. hotline takes no calls, so nothing inbound can make it dial (the whitelist), and
//! malformed input gets a 400 or is dropped, never a panic.

use hotline::sip::{Endpoint, Transport};
use std::time::Duration;
use tokio::net::UdpSocket;

async fn exchange(ep: &Endpoint, msg: &str) -> Option<String> {
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let msg = msg.replace("PORT", &s.local_addr().expect("addr").port().to_string());
    s.send_to(msg.as_bytes(), ep.local_addr())
        .await
        .expect("send");
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_millis(500), s.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        _ => None,
    }
}

const INVITE: &str = "INVITE sip:hotline@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKatt1\r\n\
From: <sip:attacker@127.0.0.1>;tag=a1\r\nTo: <sip:hotline@127.0.0.1>\r\n\
Call-ID: attack-1\r\nCSeq: 1 INVITE\r\nContact: <sip:+900555@127.0.0.1:PORT>\r\n\
Content-Length: 0\r\n\r\n";

#[tokio::test]
async fn inbound_invite_is_forbidden() {
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "t")
        .await
        .expect("bind");
    let r = exchange(&ep, INVITE).await.expect("a response");
    assert!(r.starts_with("SIP/2.0 403"), "{r}");
    assert!(r.contains("Call-ID: attack-1"));
    // A REFER or a BYE for a call we do not have: 481, nothing else happens.
    let bye = INVITE
        .replace("INVITE sip", "BYE sip")
        .replace("1 INVITE", "2 BYE");
    let r = exchange(&ep, &bye).await.expect("a response");
    assert!(r.starts_with("SIP/2.0 481"), "{r}");
    let refer = INVITE
        .replace("INVITE sip", "REFER sip")
        .replace("1 INVITE", "3 REFER")
        .replace(
            "Content-Length: 0",
            "Refer-To: <sip:+900555@evil>\r\nContent-Length: 0",
        );
    let r = exchange(&ep, &refer).await.expect("a response");
    assert!(r.starts_with("SIP/2.0 481"), "{r}");
}

#[tokio::test]
async fn options_ping_is_answered() {
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "t")
        .await
        .expect("bind");
    let opt = INVITE
        .replace("INVITE sip", "OPTIONS sip")
        .replace("1 INVITE", "1 OPTIONS");
    let r = exchange(&ep, &opt).await.expect("a response");
    assert!(r.starts_with("SIP/2.0 200"), "{r}");
}

#[tokio::test]
async fn malformed_sip_gets_400_or_nothing_and_the_endpoint_survives() {
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "t")
        .await
        .expect("bind");
    // Parses, but the CSeq method does not match: 400.
    let bad = INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
    let r = exchange(&ep, &bad).await.expect("a response");
    assert!(r.starts_with("SIP/2.0 400"), "{r}");
    for garbage in [
        "\r\n\r\n",
        "INVITE\r\n\r\n",
        "SIP/2.0 999999 X\r\n\r\n",
        "INVITE sip:x SIP/2.0\r\nVia: x\r\nCSeq: nope\r\n\r\n",
        "\u{0}\u{1}\u{2}garbage",
    ] {
        let _ = exchange(&ep, garbage).await;
    }
    // Every truncation of a valid request.
    for n in (0..INVITE.len()).step_by(7) {
        let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        s.send_to(&INVITE.as_bytes()[..n], ep.local_addr())
            .await
            .expect("send");
    }
    // Still alive and answering.
    let r = exchange(&ep, INVITE).await.expect("still answering");
    assert!(r.starts_with("SIP/2.0 403"), "{r}");
}
