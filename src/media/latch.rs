//! Which RTP source a call listens to (security review finding 2).
//!
//! The SDP names where the far end sends from (symmetric RTP, RFC 4961), so that address
//! is trusted first and always: whatever else arrives is a stranger's and is dropped,
//! counted and (sampled) put on the timeline. Only when the SDP address cannot be where the
//! packets come from (a private, link-local or unspecified address: the far end is behind
//! NAT) does the session latch to another source, and only after [`LATCH_RUN`] packets in
//! sequence from one SSRC there; if the SDP address is heard later, it wins again.

use super::rtp::{SeqNo, Ssrc};
use super::sampled::SampledCount;
use std::net::{IpAddr, SocketAddr};

/// Packets in sequence, one SSRC, one source, before a NAT latch: 100 ms of audio. A
/// sprayer guessing ports sends one packet per port and never builds a run.
pub const LATCH_RUN: u32 = 5;

/// What to do with one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// From the trusted source: use it.
    Accept,
    /// From a new trusted source (a NAT latch, or back to the SDP address): use it, note it.
    Latched(SocketAddr),
    /// Not from the trusted source: drop it; `Some(count)` when it should be recorded.
    Reject(Option<u64>),
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct Latch {
    sdp: SocketAddr,
    /// The source audio is accepted from (the SDP address, or a NAT latch).
    current: Option<SocketAddr>,
    nat: bool,
    /// A run being counted toward a NAT latch: source, SSRC, last sequence number, length.
    run: Option<(SocketAddr, Ssrc, SeqNo, u32)>,
    rejected: SampledCount,
}

impl Latch {
    /// Trusts `sdp`, the address the far end's SDP named.
    pub fn new(sdp: SocketAddr) -> Self {
        Self {
            sdp,
            current: None,
            nat: behind_nat(sdp.ip()),
            run: None,
            rejected: SampledCount::default(),
        }
    }

    /// The address named in the SDP.
    pub fn sdp(&self) -> SocketAddr {
        self.sdp
    }

    /// Where we send to: the NAT latch if there is one, else the SDP address.
    pub fn send_to(&self) -> SocketAddr {
        self.current.unwrap_or(self.sdp)
    }

    /// Judges one packet.
    pub fn check(&mut self, from: SocketAddr, ssrc: Ssrc, seq: SeqNo) -> Verdict {
        if from == self.sdp {
            let was = self.current.replace(from);
            self.run = None;
            return match was {
                Some(w) if w != from => Verdict::Latched(from),
                _ => Verdict::Accept,
            };
        }
        if self.current == Some(from) {
            return Verdict::Accept;
        }
        if self.nat && self.current.is_none() {
            let run = match self.run {
                Some((f, s, last, n))
                    if f == from && s == ssrc && seq.0 == last.0.wrapping_add(1) =>
                {
                    n + 1
                }
                _ => 1,
            };
            self.run = Some((from, ssrc, seq, run));
            if run >= LATCH_RUN {
                self.current = Some(from);
                self.run = None;
                return Verdict::Latched(from);
            }
            return Verdict::Reject(None);
        }
        Verdict::Reject(self.rejected.note())
    }

    /// Packets dropped from strangers so far.
    pub fn rejected(&self) -> u64 {
        self.rejected.count()
    }
}

/// An address the far end cannot really be sending from: it sits behind NAT.
fn behind_nat(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // RFC 6598 shared address space
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            v6.is_unspecified() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().expect("literal")
    }

    #[test]
    fn the_sdp_source_is_trusted_and_a_sprayer_is_not() {
        let mut l = Latch::new(a("127.0.0.1:7000"));
        // The sprayer is first and sends a perfect run: still refused (not behind NAT).
        for i in 0..20 {
            let v = l.check(a("127.0.0.1:9999"), Ssrc(9), SeqNo(i));
            assert!(matches!(v, Verdict::Reject(_)), "{v:?}");
        }
        assert_eq!(
            l.check(a("127.0.0.1:7000"), Ssrc(1), SeqNo(5)),
            Verdict::Accept
        );
        assert_eq!(l.send_to(), a("127.0.0.1:7000"));
        assert_eq!(l.rejected(), 20);
    }

    #[test]
    fn behind_nat_a_run_latches_and_the_sdp_source_wins_back() {
        let mut l = Latch::new(a("192.168.1.20:7000"));
        let nat = a("203.0.113.5:31000");
        for i in 0..LATCH_RUN - 1 {
            assert_eq!(
                l.check(nat, Ssrc(1), SeqNo(100 + i as u16)),
                Verdict::Reject(None)
            );
        }
        assert_eq!(l.check(nat, Ssrc(1), SeqNo(104)), Verdict::Latched(nat));
        assert_eq!(l.check(nat, Ssrc(1), SeqNo(105)), Verdict::Accept);
        assert_eq!(l.send_to(), nat);
        // A second source after the latch is a stranger.
        assert!(matches!(
            l.check(a("198.51.100.1:4000"), Ssrc(2), SeqNo(1)),
            Verdict::Reject(Some(1))
        ));
        // The SDP address appears: it wins.
        assert_eq!(
            l.check(a("192.168.1.20:7000"), Ssrc(1), SeqNo(106)),
            Verdict::Latched(a("192.168.1.20:7000"))
        );
        assert!(matches!(
            l.check(nat, Ssrc(1), SeqNo(107)),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn a_sprayer_cannot_build_a_run_across_ports_or_ssrcs() {
        let mut l = Latch::new(a("10.0.0.9:7000"));
        for i in 0..100u16 {
            let from = SocketAddr::new("203.0.113.7".parse().expect("ip"), 40000 + (i % 2));
            assert!(matches!(
                l.check(from, Ssrc(i as u32 % 3), SeqNo(i)),
                Verdict::Reject(_)
            ));
        }
    }
}
