//! Datagrams on a call's RTP port as the call task hands them over: `MediaSession::receive`
//! (RTCP demux, RTP parse, source latch, RFC 4733 events, reorder window, G.711 decode),
//! with 20 ms ticks in between. Input: one flags byte, then records of a 2-byte header
//! (bit 15: tick first, bit 14: from a foreign address, low 10 bits: length) and the datagram.
#![no_main]

use std::net::SocketAddr;

use hotline::media::dtmf::DtmfEvent;
use hotline::media::g711::Codec;
use hotline::media::rtp::{PayloadType, RtpPacket, is_rtcp};
use hotline::media::session::{MediaSession, Peer, Tap};
use libfuzzer_sys::fuzz_target;

/// Received audio may land at most this far from our clock (2 s re-anchor bound + a frame).
const MAX_SKEW: u64 = 2 * 8000 + 480;

struct Check {
    now: u64,
}

impl Tap for Check {
    fn tx(&mut self, _pos: u64, _samples: &[i16]) {}
    fn rx(&mut self, pos: u64, samples: &[i16]) {
        assert!(
            pos <= self.now + MAX_SKEW,
            "rx at {pos}, clock at {}",
            self.now
        );
        assert!(samples.len() <= 480, "one packet's samples");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let remote = SocketAddr::from(([192, 0, 2, 7], 40000));
    let foreign = SocketAddr::from(([198, 51, 100, 9], 40002));
    let mut session = MediaSession::new(0x1234_5678, 1000, 160_000);
    session.start(Peer {
        remote,
        codec: if flags & 1 == 0 {
            Codec::Pcmu
        } else {
            Codec::Pcma
        },
        codec_pt: PayloadType(if flags & 2 == 0 { 0 } else { 96 }),
        dtmf_pt: (flags & 4 == 0).then_some(PayloadType(101)),
    });
    while rest.len() >= 2 {
        let head = u16::from_be_bytes([rest[0], rest[1]]);
        rest = &rest[2..];
        let len = usize::from(head & 0x3ff).min(rest.len());
        let (packet, tail) = rest.split_at(len);
        rest = tail;
        if head & 0x8000 != 0 {
            let mut tap = Check {
                now: session.position(),
            };
            let _ = session.tick(&mut tap);
        }
        let _ = is_rtcp(packet);
        if let Ok(p) = RtpPacket::parse(packet) {
            assert!(p.payload.len() <= packet.len() - 12);
            if let Ok(ev) = DtmfEvent::parse(p.payload) {
                assert_eq!(DtmfEvent::parse(&ev.to_bytes()), Ok(ev));
            }
        }
        let from = if head & 0x4000 != 0 { foreign } else { remote };
        let mut tap = Check {
            now: session.position(),
        };
        session.receive(from, packet, &mut tap);
        while session.poll_event().is_some() {}
    }
    let _ = session.stats();
});
