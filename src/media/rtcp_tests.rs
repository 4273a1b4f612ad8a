//! RTCP in simulated time: statistics, reports both ways, RTT from LSR/DLSR.

use super::*;

const MS: Duration = Duration::from_millis(1);

fn clock(t0: Instant) -> NtpClock {
    // 2026-01-01T00:00:00Z, half a second in.
    NtpClock::new(t0, Duration::from_millis(1_767_225_600_500))
}

fn kinds(bytes: &[u8]) -> Vec<&'static str> {
    let mut b = Bytes::copy_from_slice(bytes);
    packet::unmarshal(&mut b)
        .expect("valid rtcp")
        .iter()
        .map(|p| {
            let a = p.as_any();
            if a.is::<SenderReport>() {
                "sr"
            } else if a.is::<ReceiverReport>() {
                "rr"
            } else if a.is::<SourceDescription>() {
                "sdes"
            } else {
                "other"
            }
        })
        .collect()
}

#[test]
fn ntp_clock_counts_from_1900() {
    let t0 = Instant::now();
    let c = clock(t0);
    assert_eq!(c.ntp(t0) >> 32, 1_767_225_600 + NTP_UNIX_OFFSET);
    // Half a second as a 32-bit fraction.
    assert_eq!(c.ntp(t0) & 0xffff_ffff, 1 << 31);
    // 1.5 s later the compact form moved 1.5 * 65536.
    let d = c.compact(t0 + 1500 * MS).wrapping_sub(c.compact(t0));
    assert_eq!(d, 98_304);
}

#[test]
fn reports_rr_until_we_send_then_sr_with_cname() {
    let t0 = Instant::now();
    let mut r = Rtcp::new(7, "hotline@call".into(), clock(t0));
    assert_eq!(r.poll_timeout(), None, "nothing before media");
    r.start(t0);
    assert_eq!(r.poll_timeout(), Some(t0 + FIRST_REPORT));
    assert!(
        r.report(t0 + 2 * Duration::from_secs(1), Sent::default())
            .is_none()
    );
    let rr = r.report(t0 + FIRST_REPORT, Sent::default()).expect("due");
    assert_eq!(kinds(&rr), ["rr", "sdes"]);
    assert_eq!(r.poll_timeout(), Some(t0 + FIRST_REPORT + REPORT_INTERVAL));
    let sent = Sent {
        packets: 250,
        octets: 40_000,
        rtp_ts: 40_000,
    };
    let sr = r
        .report(t0 + FIRST_REPORT + REPORT_INTERVAL, sent)
        .expect("due");
    assert_eq!(kinds(&sr), ["sr", "sdes"]);
    let mut b = Bytes::copy_from_slice(&sr);
    let p = packet::unmarshal(&mut b).expect("valid");
    let sr = p[0].as_any().downcast_ref::<SenderReport>().expect("an SR");
    assert_eq!((sr.ssrc, sr.packet_count, sr.octet_count), (7, 250, 40_000));
    // On hold (nothing sent since): back to RR.
    let rr = r
        .report(t0 + FIRST_REPORT + 2 * REPORT_INTERVAL, sent)
        .expect("due");
    assert_eq!(kinds(&rr), ["rr", "sdes"]);
    assert_eq!(r.summary().reports_sent, 3);
}

#[test]
fn loss_and_fraction_from_sequence_numbers_across_a_wrap() {
    let t0 = Instant::now();
    let mut r = Rtcp::new(1, "c".into(), clock(t0));
    r.start(t0);
    // 100 packets from 65500 (wrapping past 65535); every tenth lost.
    for i in 0..100u32 {
        if i % 10 == 5 {
            continue;
        }
        let seq = (65_500 + i) as u16;
        r.on_rtp(t0 + 20 * i * MS, 99, seq, 160 * i);
    }
    let s = r.summary();
    assert_eq!(s.packets_lost, 10);
    let rr = r.report(t0 + FIRST_REPORT, Sent::default()).expect("due");
    let mut b = Bytes::copy_from_slice(&rr);
    let p = packet::unmarshal(&mut b).expect("valid");
    let block = p[0]
        .as_any()
        .downcast_ref::<ReceiverReport>()
        .expect("rr")
        .reports[0]
        .clone();
    assert_eq!(block.ssrc, 99);
    assert_eq!(block.total_lost, 10);
    assert_eq!(block.fraction_lost, 25, "10% of 256");
    assert_eq!(
        block.last_sequence_number,
        (1 << 16) | 63,
        "one wrap, then 63"
    );
    assert!((r.summary().fraction_lost - 25.0 / 256.0).abs() < 1e-9);
    // Steady arrivals: no jitter (under a sample of rounding).
    assert!(r.summary().jitter_ms < 0.125, "{}", r.summary().jitter_ms);
    // The next interval lost nothing.
    for i in 100..150u32 {
        r.on_rtp(t0 + 20 * i * MS, 99, (65_500 + i) as u16, 160 * i);
    }
    r.report(t0 + FIRST_REPORT + REPORT_INTERVAL, Sent::default())
        .expect("due");
    assert_eq!(r.summary().fraction_lost, 0.0);
    assert_eq!(r.summary().packets_lost, 10);
}

#[test]
fn jitter_follows_rfc_3550_a8() {
    let t0 = Instant::now();
    let mut r = Rtcp::new(1, "c".into(), clock(t0));
    // Packets every 20 ms of media, arriving alternately 5 ms early and 5 ms late: each
    // transit differs from the last by 10 ms; the estimate converges on 10 ms.
    for i in 0..400u32 {
        let wobble = if i % 2 == 0 { 15 } else { 25 };
        r.on_rtp(t0 + (20 * i + wobble) * MS, 5, i as u16, 160 * i);
    }
    let j = r.summary().jitter_ms;
    assert!((j - 10.0).abs() < 0.1, "jitter {j} ms");
}

#[test]
fn round_trip_from_lsr_and_dlsr() {
    let t0 = Instant::now();
    let (mut a, mut b) = (
        Rtcp::new(0xa, "a".into(), clock(t0)),
        Rtcp::new(0xb, "b".into(), clock(t0)),
    );
    a.start(t0);
    b.start(t0);
    // Each hears the other's RTP.
    for i in 0..100u32 {
        a.on_rtp(t0 + 20 * i * MS, 0xb, i as u16, 160 * i);
        b.on_rtp(t0 + 20 * i * MS, 0xa, i as u16, 160 * i);
    }
    let sent = Sent {
        packets: 100,
        octets: 16_000,
        rtp_ts: 16_000,
    };
    // a's SR leaves at 2.5 s, reaches b 15 ms later; b reports 100 ms after that (DLSR),
    // which reaches a 15 ms later: the round trip is 30 ms.
    let t_sr = t0 + FIRST_REPORT;
    let sr = a.report(t_sr, sent).expect("due");
    b.receive(t_sr + 15 * MS, &sr).expect("valid");
    b.next_report = Some(t_sr + 115 * MS);
    let rr = b.report(t_sr + 115 * MS, Sent::default()).expect("due");
    a.receive(t_sr + 130 * MS, &rr).expect("valid");
    let s = a.summary();
    let rtt = s.rtt_ms.expect("rtt");
    assert!((rtt - 30.0).abs() < 0.1, "rtt {rtt} ms");
    assert_eq!(s.rtt_max_ms, Some(rtt));
    assert_eq!(s.reports_received, 1);
    let remote = s.remote.expect("b's view of a");
    assert_eq!(remote.packets_lost, 0);
    assert_eq!(remote.fraction_lost, 0.0);
    assert_eq!(b.summary().reports_received, 1);
    // b has no SR of a's answered yet by a: its own RTT is unknown.
    assert_eq!(b.summary().rtt_ms, None);
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let t0 = Instant::now();
    let mut r = Rtcp::new(1, "c".into(), clock(t0));
    r.start(t0);
    r.on_rtp(t0, 2, 1, 160);
    let good = r.report(t0 + FIRST_REPORT, Sent::default()).expect("due");
    assert!(r.receive(t0, &[]).is_err());
    assert!(r.receive(t0, &[0x80, 0xc9, 0xff, 0xff]).is_err());
    for n in 0..good.len() {
        let _ = r.receive(t0, &good[..n]);
    }
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        let _ = r.receive(t0, &bad);
    }
}

#[test]
fn rtcp_goes_to_the_port_above_unless_muxed() {
    let rtp: SocketAddr = "192.0.2.1:40000".parse().expect("literal");
    let plain = RtcpPeer::default();
    assert_eq!(plain.target(rtp).port(), 40001);
    let mux = RtcpPeer {
        mux: true,
        port: None,
    };
    assert_eq!(mux.target(rtp), rtp);
    let named = RtcpPeer {
        mux: false,
        port: Some(50123),
    };
    assert_eq!(named.target(rtp).port(), 50123);
}
