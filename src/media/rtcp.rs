//! RTCP for one call (RFC 3550 §6): a report every [`REPORT_INTERVAL`] (SR while we send,
//! RR while we do not, each with an SDES CNAME), the far end's SR/RR read for what it saw of
//! our stream and the round-trip time (LSR/DLSR, §6.4.1), and our own receive statistics of
//! its stream (loss §A.3, interarrival jitter §A.8). Pure: time comes in as `Instant`s, the
//! wall clock once, as an [`NtpClock`] anchor. Packets are encoded and decoded by `rtc-rtcp`
//! (webrtc's RTCP, already linked).

use super::sdp::Negotiated;
use bytes::Bytes;
use rtc_rtcp::packet::{self, Packet};
use rtc_rtcp::receiver_report::ReceiverReport;
use rtc_rtcp::reception_report::ReceptionReport;
use rtc_rtcp::sender_report::SenderReport;
use rtc_rtcp::source_description::{
    SdesType, SourceDescription, SourceDescriptionChunk, SourceDescriptionItem,
};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Between our reports. RFC 3550 §6.2 names 5 s as the minimum interval; carriers that cut
/// "dead" calls look for RTCP at about this rate.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// The first report goes half an interval after media starts (§6.2).
const FIRST_REPORT: Duration = Duration::from_millis(2500);
/// Audio clock rate (G.711): RTP timestamp units per second.
const CLOCK: f64 = 8000.0;
/// Seconds from 1900 (NTP era 0) to 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// A sequence jump larger than this restarts the loss count (§A.1 MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3000;

/// Where the far end wants RTCP, from its SDP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcpPeer {
    /// `a=rtcp-mux` (RFC 5761): on the RTP port.
    pub mux: bool,
    /// `a=rtcp:<port>` (RFC 3605); else the RTP port + 1 (RFC 3550 §11).
    pub port: Option<u16>,
}

impl RtcpPeer {
    pub fn of(n: &Negotiated) -> Self {
        RtcpPeer {
            mux: n.rtcp_mux,
            port: n.rtcp_port,
        }
    }

    /// Where RTCP goes when RTP goes to `rtp` (the SDP's address or its NAT latch).
    pub fn target(&self, rtp: SocketAddr) -> SocketAddr {
        if self.mux {
            return rtp;
        }
        let port = self.port.unwrap_or_else(|| rtp.port().wrapping_add(1));
        SocketAddr::new(rtp.ip(), port)
    }
}

/// Maps instants to NTP timestamps from one reading of the wall clock.
#[derive(Clone, Copy, Debug)]
pub struct NtpClock {
    at: Instant,
    /// The NTP time at `at`: seconds since 1900 in the high 32 bits, the fraction below.
    ntp: u64,
}

impl NtpClock {
    /// `since_unix`: the wall clock's reading at `at` (`SystemTime::now()` at the edge).
    pub fn new(at: Instant, since_unix: Duration) -> Self {
        let secs = since_unix.as_secs() + NTP_UNIX_OFFSET;
        let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        NtpClock {
            at,
            ntp: (secs << 32) | frac,
        }
    }

    /// The 64-bit NTP timestamp of `t`.
    pub fn ntp(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.at);
        let units = (d.as_nanos() << 32) / 1_000_000_000;
        self.ntp.wrapping_add(units as u64)
    }

    /// The middle 32 bits (the "compact" NTP of LSR/DLSR and RTT, units of 1/65536 s).
    pub fn compact(&self, t: Instant) -> u32 {
        (self.ntp(t) >> 16) as u32
    }
}

/// What we sent so far (from the media session), for an SR.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sent {
    pub packets: u64,
    /// Payload octets.
    pub octets: u64,
    /// Our RTP timestamp for "now" (the media clock).
    pub rtp_ts: u32,
}

/// The far end's stream as we receive it (RFC 3550 A.1, A.3, A.8).
#[derive(Clone, Copy, Debug)]
struct Source {
    ssrc: u32,
    base_seq: u32,
    max_seq: u16,
    /// Sequence wraps, shifted (cycles << 16).
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Last relative transit time (arrival - timestamp), RTP units.
    transit: Option<i64>,
    /// Interarrival jitter estimate, RTP units.
    jitter: f64,
}

impl Source {
    fn new(ssrc: u32, seq: u16) -> Self {
        Source {
            ssrc,
            base_seq: u32::from(seq),
            max_seq: seq,
            cycles: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
        }
    }

    fn extended_max(&self) -> u32 {
        self.cycles | u32::from(self.max_seq)
    }

    fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Cumulative lost (may go negative with duplicates; §A.3 clamps to 24 bits).
    fn lost(&self) -> i64 {
        i64::from(self.expected()) - i64::from(self.received)
    }
}

/// What the far end reported about our stream (its last report block naming our SSRC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RemoteView {
    pub packets_lost: i64,
    /// 0..1, over the far end's last report interval.
    pub fraction_lost: f64,
    pub jitter_ms: f64,
}

/// The call record's RTCP figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RtcpSummary {
    pub reports_sent: u64,
    pub reports_received: u64,
    /// The far end's stream as we received it: cumulative loss, the loss fraction of our last
    /// report interval (0..1), interarrival jitter.
    pub packets_lost: i64,
    pub fraction_lost: f64,
    pub jitter_ms: f64,
    /// Our stream as the far end reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteView>,
    /// Round-trip time from the far end's LSR/DLSR: the last and the largest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_max_ms: Option<f64>,
}

/// Why a datagram was not a usable RTCP packet.
#[derive(Debug, thiserror::Error)]
pub enum RtcpError {
    #[error("malformed rtcp: {0}")]
    Malformed(String),
}

/// One call's RTCP state. See the module docs.
#[derive(Debug)]
pub struct Rtcp {
    ssrc: u32,
    cname: String,
    clock: NtpClock,
    src: Option<Source>,
    /// The far end's last SR: its compact NTP time and when it arrived.
    last_sr: Option<(u32, Instant)>,
    next_report: Option<Instant>,
    /// Packets sent as of our last report (an SR only while we keep sending).
    sent_at_last: u64,
    summary: RtcpSummary,
}

impl Rtcp {
    /// `ssrc`: our RTP stream's; `cname`: the SDES CNAME (§6.5.1; random per call is fine).
    pub fn new(ssrc: u32, cname: String, clock: NtpClock) -> Self {
        Rtcp {
            ssrc,
            cname,
            clock,
            src: None,
            last_sr: None,
            next_report: None,
            sent_at_last: 0,
            summary: RtcpSummary::default(),
        }
    }

    /// Media started: the first report is due half an interval from now.
    pub fn start(&mut self, now: Instant) {
        if self.next_report.is_none() {
            self.next_report = Some(now + FIRST_REPORT);
        }
    }

    /// Media stopped: no more reports.
    pub fn stop(&mut self) {
        self.next_report = None;
    }

    /// When [`Rtcp::report`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_report
    }

    /// The figures so far.
    pub fn summary(&self) -> RtcpSummary {
        let mut s = self.summary;
        if let Some(src) = &self.src {
            s.packets_lost = src.lost();
            s.jitter_ms = src.jitter / CLOCK * 1000.0;
        }
        s
    }

    /// One RTP packet of the far end's (accepted: latched, authenticated) arrived at `now`.
    pub fn on_rtp(&mut self, now: Instant, ssrc: u32, seq: u16, ts: u32) {
        let src = match &mut self.src {
            Some(s) if s.ssrc == ssrc => s,
            // A new source (first packet, or the far end restarted its stream).
            _ => self.src.insert(Source::new(ssrc, seq)),
        };
        let delta = seq.wrapping_sub(src.max_seq);
        if src.received > 0 && delta != 0 && delta < MAX_DROPOUT {
            if seq < src.max_seq {
                src.cycles = src.cycles.wrapping_add(1 << 16);
            }
            src.max_seq = seq;
        } else if src.received > 0 && delta != 0 && delta <= u16::MAX - 100 {
            // A big jump: the far end restarted numbering (§A.1, simplified).
            *src = Source::new(ssrc, seq);
        }
        src.received += 1;
        let arrival = now.saturating_duration_since(self.clock.at).as_secs_f64() * CLOCK;
        let transit = arrival as i64 - i64::from(ts);
        if let Some(prev) = src.transit {
            let d = (transit - prev).unsigned_abs() as f64;
            src.jitter += (d - src.jitter) / 16.0;
        }
        src.transit = Some(transit);
    }

    /// Our report, if due at `now`: SR + SDES when we sent since the last one, else RR + SDES
    /// (§6.4). The caller protects it (SRTCP) and sends it.
    pub fn report(&mut self, now: Instant, sent: Sent) -> Option<Vec<u8>> {
        if self.next_report.is_none_or(|t| t > now) {
            return None;
        }
        self.next_report = Some(now + REPORT_INTERVAL);
        let blocks: Vec<ReceptionReport> = self.reception_block(now).into_iter().collect();
        let first: Box<dyn Packet> = if sent.packets > self.sent_at_last {
            Box::new(SenderReport {
                ssrc: self.ssrc,
                ntp_time: self.clock.ntp(now),
                rtp_time: sent.rtp_ts,
                packet_count: sent.packets as u32,
                octet_count: sent.octets as u32,
                reports: blocks,
                profile_extensions: Bytes::new(),
            })
        } else {
            Box::new(ReceiverReport {
                ssrc: self.ssrc,
                reports: blocks,
                profile_extensions: Bytes::new(),
            })
        };
        self.sent_at_last = sent.packets;
        let sdes: Box<dyn Packet> = Box::new(SourceDescription {
            chunks: vec![SourceDescriptionChunk {
                source: self.ssrc,
                items: vec![SourceDescriptionItem {
                    sdes_type: SdesType::SdesCname,
                    text: Bytes::from(self.cname.clone()),
                }],
            }],
        });
        let bytes = packet::marshal(&[first, sdes]).ok()?;
        self.summary.reports_sent += 1;
        Some(bytes.to_vec())
    }

    /// The report block about the far end's stream (§6.4.1), updating the interval counts.
    fn reception_block(&mut self, now: Instant) -> Option<ReceptionReport> {
        let src = self.src.as_mut()?;
        let expected = src.expected();
        let expected_interval = expected.wrapping_sub(src.expected_prior);
        let received_interval = src.received.wrapping_sub(src.received_prior);
        src.expected_prior = expected;
        src.received_prior = src.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        self.summary.fraction_lost = f64::from(fraction) / 256.0;
        // 24-bit signed cumulative loss.
        let lost = src.lost().clamp(-0x80_0000, 0x7f_ffff);
        let (last_sr, delay) = match self.last_sr {
            Some((lsr, at)) => {
                let d = now.saturating_duration_since(at).as_secs_f64() * 65536.0;
                (lsr, d as u32)
            }
            None => (0, 0),
        };
        Some(ReceptionReport {
            ssrc: src.ssrc,
            fraction_lost: fraction,
            total_lost: (lost as u32) & 0x00ff_ffff,
            last_sequence_number: src.extended_max(),
            jitter: src.jitter as u32,
            last_sender_report: last_sr,
            delay,
        })
    }

    /// A compound RTCP packet from the far end (already SRTCP-unprotected), at `now`.
    pub fn receive(&mut self, now: Instant, buf: &[u8]) -> Result<(), RtcpError> {
        let mut b = Bytes::copy_from_slice(buf);
        let packets = packet::unmarshal(&mut b).map_err(|e| RtcpError::Malformed(e.to_string()))?;
        let mut counted = false;
        for p in packets {
            let blocks = if let Some(sr) = p.as_any().downcast_ref::<SenderReport>() {
                self.last_sr = Some(((sr.ntp_time >> 16) as u32, now));
                sr.reports.clone()
            } else if let Some(rr) = p.as_any().downcast_ref::<ReceiverReport>() {
                rr.reports.clone()
            } else {
                continue;
            };
            counted = true;
            let ours = self.ssrc;
            for b in blocks.iter().filter(|b| b.ssrc == ours) {
                self.remote_block(now, b);
            }
        }
        if counted {
            self.summary.reports_received += 1;
        }
        Ok(())
    }

    fn remote_block(&mut self, now: Instant, b: &ReceptionReport) {
        // Sign-extend the 24-bit cumulative loss.
        let lost = ((b.total_lost << 8) as i32 >> 8) as i64;
        self.summary.remote = Some(RemoteView {
            packets_lost: lost,
            fraction_lost: f64::from(b.fraction_lost) / 256.0,
            jitter_ms: f64::from(b.jitter) / CLOCK * 1000.0,
        });
        if b.last_sender_report == 0 {
            return; // no SR of ours seen yet: no RTT
        }
        // §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s.
        let a = self.clock.compact(now);
        let rtt = a.wrapping_sub(b.last_sender_report).wrapping_sub(b.delay);
        // A negative (wrapped) result is a bogus report or clock skew: ignored.
        if rtt < 0x8000_0000 {
            let ms = f64::from(rtt) / 65536.0 * 1000.0;
            self.summary.rtt_ms = Some(ms);
            self.summary.rtt_max_ms = Some(self.summary.rtt_max_ms.map_or(ms, |m| m.max(ms)));
        }
    }
}

#[cfg(test)]
#[path = "rtcp_tests.rs"]
mod tests;
