use super::*;
use crate::media::source::ToneSource;

#[derive(Default)]
struct Rec {
    tx: Vec<(u64, Vec<i16>)>,
    rx: Vec<(u64, Vec<i16>)>,
}

impl Tap for Rec {
    fn tx(&mut self, pos: u64, s: &[i16]) {
        self.tx.push((pos, s.to_vec()));
    }
    fn rx(&mut self, pos: u64, s: &[i16]) {
        self.rx.push((pos, s.to_vec()));
    }
}

fn peer(dtmf: Option<u8>) -> Peer {
    Peer {
        remote: "127.0.0.1:6000".parse().expect("literal"),
        codec: Codec::Pcmu,
        codec_pt: PayloadType(0),
        dtmf_pt: dtmf.map(PayloadType),
    }
}

fn owned(p: Option<(SocketAddr, &[u8])>) -> Option<(SocketAddr, Vec<u8>)> {
    p.map(|(a, b)| (a, b.to_vec()))
}

fn rtp(seq: u16, ts: u32, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    RtpPacket {
        payload_type: PayloadType(pt),
        marker: false,
        seq: SeqNo(seq),
        ts: RtpTs(ts),
        ssrc: Ssrc(99),
        payload,
    }
    .write(&mut v);
    v
}

#[test]
fn numbering_comes_from_the_sample_count() {
    let mut s = MediaSession::new(7, 65534, u32::MAX - 100);
    let mut rec = Rec::default();
    assert!(s.tick(&mut rec).is_none(), "nothing sent before start");
    s.start(peer(Some(101)));
    let mut pkts = Vec::new();
    for _ in 0..4 {
        pkts.push(owned(s.tick(&mut rec)).expect("a packet").1);
    }
    let parsed: Vec<_> = pkts
        .iter()
        .map(|p| RtpPacket::parse(p).expect("valid"))
        .collect();
    assert!(parsed[0].marker && !parsed[1].marker);
    assert_eq!(parsed[1].seq, SeqNo(65535));
    assert_eq!(parsed[2].seq, SeqNo(0), "sequence wraps");
    for w in parsed.windows(2) {
        assert_eq!(w[1].ts.0.wrapping_sub(w[0].ts.0), 160);
        assert_eq!(w[0].payload.len(), 160);
    }
    assert_eq!(
        rec.tx.len(),
        5,
        "the recording gets every frame, sent or not"
    );
    assert_eq!(
        s.poll_event(),
        Some(MediaEvent::FirstTx {
            to: peer(None).remote
        })
    );
}

#[test]
fn dtmf_events_share_a_timestamp_and_finish() {
    let mut s = MediaSession::new(1, 0, 0);
    let mut rec = Rec::default();
    s.start(peer(Some(96)));
    s.send_dtmf("1#", 100);
    let mut dtmf = Vec::new();
    for _ in 0..40 {
        if let Some((_, p)) = owned(s.tick(&mut rec)) {
            dtmf.push(RtpPacket::parse(&p).expect("valid").payload_type.0);
        }
    }
    let ev: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(ev.contains(&MediaEvent::DtmfSent {
        digit: '1',
        duration_ms: 100
    }));
    assert!(ev.contains(&MediaEvent::DtmfSent {
        digit: '#',
        duration_ms: 100
    }));
    assert!(ev.contains(&MediaEvent::DtmfFinished));
    // 5 frames + 3 end packets per digit, on payload type 96.
    assert_eq!(dtmf.iter().filter(|p| **p == 96).count(), 16);
}

#[test]
fn received_audio_is_placed_by_timestamp_not_arrival() {
    let mut s = MediaSession::new(1, 0, 0);
    let mut rec = Rec::default();
    s.start(peer(Some(101)));
    for _ in 0..10 {
        s.tick(&mut rec);
    }
    let from = peer(None).remote;
    let loud = [0x80u8; 160];
    s.receive(from, &rtp(10, 1000, 0, &loud), &mut rec);
    s.receive(from, &rtp(12, 1320, 0, &loud), &mut rec);
    s.receive(from, &rtp(11, 1160, 0, &loud), &mut rec);
    let pos: Vec<u64> = rec.rx.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        pos,
        vec![1600, 1760, 1920],
        "in order and anchored at our clock"
    );
    // Another source cannot inject audio: dropped, counted, reported.
    let other: SocketAddr = "127.0.0.1:7001".parse().expect("literal");
    s.receive(other, &rtp(13, 1480, 0, &loud), &mut rec);
    assert_eq!(rec.rx.len(), 3);
    assert_eq!(s.stats().0.packets_foreign, 1);
    let ev: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(ev.contains(&MediaEvent::Rejected {
        from: other,
        count: 1
    }));
}

#[test]
fn received_dtmf_is_reported_once() {
    let mut s = MediaSession::new(1, 0, 0);
    let mut rec = Rec::default();
    s.start(peer(Some(101)));
    let from = peer(None).remote;
    // Digit 5, three updates then the end bit three times.
    for (i, (dur, end)) in [
        (160u16, false),
        (320, false),
        (480, true),
        (480, true),
        (480, true),
    ]
    .iter()
    .enumerate()
    {
        let payload = [
            5u8,
            if *end { 0x8a } else { 0x0a },
            (dur >> 8) as u8,
            *dur as u8,
        ];
        s.receive(from, &rtp(i as u16, 8000, 101, &payload), &mut rec);
    }
    let digits: Vec<_> = std::iter::from_fn(|| s.poll_event())
        .filter(|e| matches!(e, MediaEvent::DtmfReceived { .. }))
        .collect();
    assert_eq!(
        digits,
        vec![MediaEvent::DtmfReceived {
            digit: '5',
            duration_ms: 60
        }]
    );
}

#[test]
fn playback_finishes_and_hold_stops_sending() {
    let mut s = MediaSession::new(1, 0, 0);
    let mut rec = Rec::default();
    s.start(peer(None));
    s.play("tone", Box::new(ToneSource::new(440.0, 8000, 40)));
    assert!(s.tick(&mut rec).is_some());
    assert!(s.tick(&mut rec).is_some());
    s.tick(&mut rec);
    let ev: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(ev.contains(&MediaEvent::PlaybackFinished {
        source: "tone".into()
    }));
    s.set_direction(Direction::RecvOnly);
    assert!(s.tick(&mut rec).is_none(), "on hold we send nothing");
    s.set_direction(Direction::SendRecv);
    let p = owned(s.tick(&mut rec)).expect("sending again").1;
    assert!(
        RtpPacket::parse(&p).expect("valid").marker,
        "talkspurt after hold is marked"
    );
}

#[test]
fn inband_dtmf_without_telephone_event() {
    let mut s = MediaSession::new(1, 0, 0);
    let mut rec = Rec::default();
    s.start(peer(None));
    s.send_dtmf("2", 60);
    for _ in 0..8 {
        let p = owned(s.tick(&mut rec)).expect("audio");
        assert_eq!(
            RtpPacket::parse(&p.1).expect("valid").payload_type,
            PayloadType(0)
        );
    }
    let ev: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(ev.contains(&MediaEvent::DtmfFinished));
    assert!(rec.tx[0].1.iter().any(|x| x.abs() > 1000), "tone rendered");
}

#[test]
fn srtp_protects_audio_and_dtmf_and_refuses_forgeries() {
    use crate::media::srtp::{MasterKey, SrtpKeys, Suite};
    let keys = |ours: u8, theirs: u8| SrtpKeys {
        suite: Suite::AesCm128HmacSha1_80,
        ours: MasterKey([ours; 30]),
        theirs: MasterKey([theirs; 30]),
    };
    let mut a = MediaSession::new(1, 100, 1000);
    let mut b = MediaSession::new(2, 200, 2000);
    a.set_srtp(Some(&keys(1, 2))).expect("srtp a");
    b.set_srtp(Some(&keys(2, 1))).expect("srtp b");
    let from_a: SocketAddr = "127.0.0.1:7000".parse().expect("literal");
    a.start(peer(Some(101)));
    b.start(Peer {
        remote: from_a,
        ..peer(Some(101))
    });
    let (mut ra, mut rb) = (Rec::default(), Rec::default());
    a.send_dtmf("5", 100);
    let mut wire = Vec::new();
    for _ in 0..10 {
        let (_, p) = owned(a.tick(&mut ra)).expect("a packet");
        assert!(
            p.len() == 12 + 4 + 10 || p.len() == 12 + 160 + 10,
            "{}",
            p.len()
        );
        wire.push(p);
    }
    for p in &wire {
        b.receive(from_a, p, &mut rb);
    }
    assert!(
        b.stats().0.packets_received >= 5,
        "authenticated and decrypted"
    );
    let mut got_digit = false;
    while let Some(e) = b.poll_event() {
        got_digit |= matches!(e, MediaEvent::DtmfReceived { digit: '5', .. });
    }
    assert!(got_digit, "the RFC 4733 digit crossed protected");
    // A replay, a forged plain packet and a tampered one are dropped.
    b.receive(from_a, &wire[3], &mut rb);
    b.receive(from_a, &rtp(300, 5000, 0, &[0xff; 160]), &mut rb);
    let mut bad = wire[9].clone();
    bad[30] ^= 0x40;
    b.receive(from_a, &bad, &mut rb);
    assert_eq!(b.stats().0.packets_unauthenticated, 3);
}
