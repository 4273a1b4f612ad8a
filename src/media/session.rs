//! One call's media as a pure state machine: what to send on each 20 ms tick, what to do
//! with each received packet. The call task owns the socket and the clock; this owns the
//! RTP numbering (timestamps from the sample count, never the wall clock), latching, the
//! reorder window, DTMF both ways and the audio source.

use super::FRAME_SAMPLES;
use super::dtmf::{DtmfReceiver, DtmfSender, digit_to_event};
use super::g711::{self, Codec};
use super::latch::{Latch, Verdict};
use super::reorder::ReorderWindow;
use super::rtp::{PayloadType, RtpPacket, RtpTs, SeqNo, Ssrc, is_rtcp};
use super::sdp::Direction;
use super::source::AudioSource;
use super::srtp::{SrtpError, SrtpKeys, SrtpSession};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

/// Frames of silence between two DTMF digits (60 ms).
const INTER_DIGIT_FRAMES: u32 = 3;
/// Packets the reorder window holds before giving up on a gap (100 ms).
const REORDER_PACKETS: usize = 5;
/// A received stream more than this many samples off our clock is re-anchored.
const REANCHOR_SAMPLES: i64 = 2 * 8000;
const MAX_PAYLOAD: usize = 480;

/// Where the recording taps the media: positions are samples on the call's media clock.
pub trait Tap {
    /// What we sent (or would have sent: silence while on hold).
    fn tx(&mut self, pos: u64, samples: &[i16]);
    /// What the far end sent, placed by its RTP timestamp.
    fn rx(&mut self, pos: u64, samples: &[i16]);
}

/// Things the call's timeline wants to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    FirstTx {
        to: SocketAddr,
    },
    FirstRx {
        from: SocketAddr,
    },
    /// Audio is now taken from `from` (a NAT latch, or back to the SDP address).
    Latched {
        from: SocketAddr,
    },
    /// RTP from a stranger was dropped (sampled; `count` is the running total).
    Rejected {
        from: SocketAddr,
        count: u64,
    },
    DtmfSent {
        digit: char,
        duration_ms: u32,
    },
    /// All queued digits are out.
    DtmfFinished,
    DtmfReceived {
        digit: char,
        duration_ms: u32,
    },
    PlaybackStarted {
        source: String,
    },
    PlaybackFinished {
        source: String,
    },
    /// The far end is speaking (at most one report per half second).
    RemoteActivity,
}

/// RMS above which a received frame counts as speech (about -36 dBFS).
const ACTIVITY_RMS: f64 = 500.0;
/// At most one activity report per this many samples.
const ACTIVITY_EVERY: u64 = 4000;

/// Negotiated send parameters.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub remote: SocketAddr,
    pub codec: Codec,
    pub codec_pt: PayloadType,
    pub dtmf_pt: Option<PayloadType>,
}

/// Plays a shared buffer of 8 kHz samples (one synthesis, many calls).
pub struct SharedPcm {
    samples: Arc<[i16]>,
    pos: usize,
}

impl SharedPcm {
    /// A source over `samples`.
    pub fn new(samples: Arc<[i16]>) -> Self {
        Self { samples, pos: 0 }
    }
}

impl AudioSource for SharedPcm {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        let rest = &self.samples[self.pos.min(self.samples.len())..];
        let n = rest.len().min(FRAME_SAMPLES);
        out[..n].copy_from_slice(&rest[..n]);
        out[n..].fill(0);
        self.pos += n;
        n > 0
    }
}

struct DigitOut {
    digit: char,
    sender: DtmfSender,
    /// RTP timestamp of the event's first packet (all its packets carry it, RFC 4733 §2.5.1.2).
    ts: RtpTs,
    /// Frames of tone still to render into the recording.
    tone_frames: u32,
    phase: u32,
}

#[derive(Default)]
struct Dtmf {
    queue: VecDeque<char>,
    duration_ms: u32,
    current: Option<DigitOut>,
    gap: u32,
    busy: bool,
}

struct Rx {
    anchor: Option<(Ssrc, RtpTs, u64)>,
    window: ReorderWindow<(u64, Codec, usize, [u8; MAX_PAYLOAD])>,
    dtmf: DtmfReceiver,
    first: bool,
}

/// Counters for the call record.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub packets_foreign: u64,
    pub packets_malformed: u64,
    /// SRTP packets whose authentication failed (or replays): dropped.
    pub packets_unauthenticated: u64,
    /// Payload octets sent (for RTCP sender reports).
    pub octets_sent: u64,
}

/// One call's media. See the module docs.
pub struct MediaSession {
    ssrc: Ssrc,
    seq: SeqNo,
    ts0: RtpTs,
    /// Samples produced on our clock since media started.
    pos: u64,
    peer: Option<Peer>,
    latch: Option<Latch>,
    direction: Direction,
    marker_next: bool,
    first_tx: bool,
    playing: Option<(String, Box<dyn AudioSource>)>,
    dtmf: Dtmf,
    rx: Rx,
    events: VecDeque<MediaEvent>,
    /// Media position of the last activity report.
    last_activity: Option<u64>,
    stats: SessionStats,
    frame: [i16; FRAME_SAMPLES],
    pcm: Vec<i16>,
    packet: Vec<u8>,
    payload: Vec<u8>,
    /// SDES-SRTP contexts when negotiated: every packet out (audio and RFC 4733 DTMF) is
    /// protected, every packet in must authenticate. The taps see plain samples.
    srtp: Option<SrtpSession>,
    /// The header of the last packet accepted from the far end, for RTCP's statistics.
    accepted: Option<(Ssrc, SeqNo, RtpTs)>,
}

impl MediaSession {
    /// A session with random SSRC, sequence and timestamp bases (RFC 3550 §5.1).
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> Self {
        Self {
            ssrc: Ssrc(ssrc),
            seq: SeqNo(seq),
            ts0: RtpTs(ts),
            pos: 0,
            peer: None,
            latch: None,
            direction: Direction::SendRecv,
            marker_next: true,
            first_tx: true,
            playing: None,
            dtmf: Dtmf::default(),
            rx: Rx {
                anchor: None,
                window: ReorderWindow::new(REORDER_PACKETS),
                dtmf: DtmfReceiver::new(),
                first: true,
            },
            events: VecDeque::new(),
            last_activity: None,
            stats: SessionStats::default(),
            frame: [0; FRAME_SAMPLES],
            pcm: Vec::with_capacity(MAX_PAYLOAD),
            packet: Vec::with_capacity(12 + MAX_PAYLOAD),
            payload: Vec::with_capacity(MAX_PAYLOAD),
            srtp: None,
            accepted: None,
        }
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Our RTP timestamp for the media clock's position now (an SR's `rtp_time`).
    pub fn rtp_now(&self) -> RtpTs {
        self.ts0.wrapping_add(self.pos as u32)
    }

    /// Where RTP goes now (the SDP's address or its NAT latch); `None` before media starts.
    pub fn send_target(&self) -> Option<SocketAddr> {
        let peer = self.peer?;
        Some(self.latch.as_ref().map_or(peer.remote, Latch::send_to))
    }

    /// The header of the packet the last [`MediaSession::receive`] accepted (once).
    pub fn take_accepted(&mut self) -> Option<(Ssrc, SeqNo, RtpTs)> {
        self.accepted.take()
    }

    /// An RTCP packet out: SRTCP when SRTP runs (RFC 3711 §3.4), else as it is. `None` if
    /// protection failed (nothing goes out in the clear that should not).
    pub fn protect_rtcp(&mut self, rtcp: Vec<u8>) -> Option<Vec<u8>> {
        match &mut self.srtp {
            Some(s) => s.protect_rtcp(&rtcp).ok(),
            None => Some(rtcp),
        }
    }

    /// An RTCP packet in: SRTCP-authenticated and decrypted when SRTP runs.
    pub fn unprotect_rtcp(&mut self, buf: &[u8]) -> Option<Vec<u8>> {
        match &mut self.srtp {
            Some(s) => s.unprotect_rtcp(buf).ok(),
            None => Some(buf.to_vec()),
        }
    }

    /// Runs media as SRTP with these keys (`None`: plain RTP). New keys start new contexts.
    pub fn set_srtp(&mut self, keys: Option<&SrtpKeys>) -> Result<(), SrtpError> {
        self.srtp = keys.map(SrtpSession::new).transpose()?;
        Ok(())
    }

    /// Starts (or re-targets) sending to a negotiated peer.
    pub fn start(&mut self, peer: Peer) {
        if self.latch.as_ref().is_none_or(|l| l.sdp() != peer.remote) {
            self.latch = Some(Latch::new(peer.remote));
        }
        self.peer = Some(peer);
    }

    /// Whether media has been started.
    pub fn is_started(&self) -> bool {
        self.peer.is_some()
    }

    /// Applies our negotiated direction (hold / unhold).
    pub fn set_direction(&mut self, d: Direction) {
        if !self.sends() && matches!(d, Direction::SendRecv | Direction::SendOnly) {
            self.marker_next = true;
        }
        self.direction = d;
    }

    fn sends(&self) -> bool {
        matches!(self.direction, Direction::SendRecv | Direction::SendOnly)
    }

    /// Plays `source` from the next tick; replaces whatever was playing.
    pub fn play(&mut self, name: &str, source: Box<dyn AudioSource>) {
        self.playing = Some((name.to_string(), source));
        self.marker_next = true;
        self.events.push_back(MediaEvent::PlaybackStarted {
            source: name.to_string(),
        });
    }

    /// Queues DTMF digits; [`MediaEvent::DtmfFinished`] follows the last one.
    pub fn send_dtmf(&mut self, digits: &str, duration_ms: u32) {
        self.dtmf
            .queue
            .extend(digits.chars().filter(|c| digit_to_event(*c).is_some()));
        self.dtmf.duration_ms = duration_ms;
        self.dtmf.busy = true;
    }

    /// Stops what is playing now (an operator takes over from the briefing); reports it
    /// finished so the menu walk moves on. False if nothing was playing.
    pub fn stop_playback(&mut self) -> bool {
        let Some((source, _)) = self.playing.take() else {
            return false;
        };
        self.events
            .push_back(MediaEvent::PlaybackFinished { source });
        true
    }

    /// Stops sending (the call is over).
    pub fn stop(&mut self) {
        self.peer = None;
        self.playing = None;
        self.dtmf = Dtmf::default();
    }

    /// Drains one event.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// Counters so far, with the reorder window's.
    pub fn stats(&self) -> (SessionStats, u64, u64, u64) {
        (
            self.stats,
            self.rx.window.lost(),
            self.rx.window.late(),
            self.rx.window.duplicates(),
        )
    }

    /// The media clock position in samples.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Produces the next 20 ms frame; returns the packet to send and where, if any.
    pub fn tick(&mut self, tap: &mut impl Tap) -> Option<(SocketAddr, &[u8])> {
        self.tick_with(tap, |_| {})
    }

    /// Like [`MediaSession::tick`], with `mix` shaping hotline's own frame (briefing, prompt,
    /// in-band tone) into what goes to the far end, before it is tapped and encoded: the
    /// operator bridge adds the operators' voices there. During an RFC 4733 digit the far
    /// end gets the event packet, not the mixed audio.
    pub fn tick_with(
        &mut self,
        tap: &mut impl Tap,
        mix: impl FnOnce(&mut [i16; FRAME_SAMPLES]),
    ) -> Option<(SocketAddr, &[u8])> {
        self.frame.fill(0);
        let ts_now = self.ts0.wrapping_add(self.pos as u32);
        let sends = self.sends() && self.peer.is_some();
        let mut dtmf_packet = None;
        if sends {
            dtmf_packet = self.dtmf_frame(ts_now);
            if dtmf_packet.is_none()
                && self.dtmf.current.is_none()
                && self.dtmf.gap == 0
                && let Some((name, src)) = &mut self.playing
                && !src.next_frame(&mut self.frame)
            {
                let source = name.clone();
                self.playing = None;
                self.events
                    .push_back(MediaEvent::PlaybackFinished { source });
            }
        }
        mix(&mut self.frame);
        let pos = self.pos;
        self.pos += FRAME_SAMPLES as u64;
        tap.tx(pos, &self.frame);
        let peer = self.peer.filter(|_| sends)?;
        let dest = self.latch.as_ref().map_or(peer.remote, Latch::send_to);
        self.packet.clear();
        let (pt, marker, ts) = match dtmf_packet {
            Some((pt, payload, marker, ts)) => {
                self.payload.clear();
                self.payload.extend_from_slice(&payload);
                (pt, marker, ts)
            }
            None => {
                self.payload.clear();
                g711::encode(peer.codec, &self.frame, &mut self.payload);
                let m = std::mem::take(&mut self.marker_next);
                (peer.codec_pt, m, ts_now)
            }
        };
        RtpPacket {
            payload_type: pt,
            marker,
            seq: self.seq,
            ts,
            ssrc: self.ssrc,
            payload: &self.payload,
        }
        .write(&mut self.packet);
        if let Some(srtp) = &mut self.srtp {
            match srtp.protect(&self.packet) {
                Ok(p) => self.packet = p,
                // Never send in the clear what should be protected.
                Err(_) => return None,
            }
        }
        self.seq = self.seq.next();
        self.stats.packets_sent += 1;
        self.stats.octets_sent += self.payload.len() as u64;
        if std::mem::take(&mut self.first_tx) {
            self.events.push_back(MediaEvent::FirstTx { to: dest });
        }
        Some((dest, &self.packet))
    }

    /// Advances DTMF by one frame. Returns an RFC 4733 packet to send instead of audio, or
    /// renders an in-band tone into the frame when no telephone-event was negotiated.
    fn dtmf_frame(&mut self, ts_now: RtpTs) -> Option<(PayloadType, [u8; 4], bool, RtpTs)> {
        let d = &mut self.dtmf;
        if d.gap > 0 {
            d.gap -= 1;
            return None;
        }
        if d.current.is_none() {
            let Some(digit) = d.queue.pop_front() else {
                if std::mem::take(&mut d.busy) {
                    self.events.push_back(MediaEvent::DtmfFinished);
                }
                return None;
            };
            let pt = self
                .peer
                .and_then(|p| p.dtmf_pt)
                .unwrap_or(PayloadType(101));
            // digit_to_event accepted it when queued, so DtmfSender::new cannot fail.
            let sender = DtmfSender::new(digit, d.duration_ms, pt).ok()?;
            let frames = d.duration_ms.div_ceil(20).max(1);
            d.current = Some(DigitOut {
                digit,
                sender,
                ts: ts_now,
                tone_frames: frames,
                phase: 0,
            });
            self.events.push_back(MediaEvent::DtmfSent {
                digit,
                duration_ms: frames * 20,
            });
        }
        let cur = d.current.as_mut()?;
        if cur.tone_frames > 0 {
            cur.tone_frames -= 1;
            render_dtmf(cur.digit, cur.phase, &mut self.frame);
            cur.phase += FRAME_SAMPLES as u32;
        }
        let out_of_band = self.peer.and_then(|p| p.dtmf_pt).is_some();
        let packet = if out_of_band {
            cur.sender.next_packet()
        } else {
            // In-band: the tone itself is the audio; finish when the tone is done.
            if cur.tone_frames == 0 {
                d.current = None;
                d.gap = INTER_DIGIT_FRAMES;
            }
            return None;
        };
        match packet {
            Some(p) => Some((p.pt, p.payload, p.marker, cur.ts)),
            None => {
                d.current = None;
                d.gap = INTER_DIGIT_FRAMES;
                self.marker_next = true;
                None
            }
        }
    }

    /// Handles one datagram from the RTP socket.
    pub fn receive(&mut self, from: SocketAddr, buf: &[u8], tap: &mut impl Tap) {
        if is_rtcp(buf) {
            return;
        }
        let plain;
        let buf = match &mut self.srtp {
            Some(srtp) => match srtp.unprotect(buf) {
                Ok(p) => {
                    plain = p;
                    &plain[..]
                }
                Err(_) => {
                    self.stats.packets_unauthenticated += 1;
                    return;
                }
            },
            None => buf,
        };
        let Ok(p) = RtpPacket::parse(buf) else {
            self.stats.packets_malformed += 1;
            return;
        };
        let Some(peer) = self.peer else { return };
        let Some(latch) = &mut self.latch else { return };
        // Only the SDP's source (or a NAT latch): no injection into the call or its recording.
        match latch.check(from, p.ssrc, p.seq) {
            Verdict::Accept => {}
            Verdict::Latched(from) => self.events.push_back(MediaEvent::Latched { from }),
            Verdict::Reject(sampled) => {
                self.stats.packets_foreign += 1;
                if let Some(count) = sampled {
                    self.events.push_back(MediaEvent::Rejected { from, count });
                }
                return;
            }
        }
        self.stats.packets_received += 1;
        self.accepted = Some((p.ssrc, p.seq, p.ts));
        if std::mem::take(&mut self.rx.first) {
            self.events.push_back(MediaEvent::FirstRx { from });
        }
        if Some(p.payload_type) == peer.dtmf_pt {
            if let Some(d) = self.rx.dtmf.on_packet(p.ts, p.payload) {
                self.events.push_back(MediaEvent::DtmfReceived {
                    digit: d.digit,
                    duration_ms: d.duration_ms,
                });
            }
            return;
        }
        let codec = match p.payload_type {
            pt if pt == peer.codec_pt => peer.codec,
            PayloadType(0) => Codec::Pcmu,
            PayloadType(8) => Codec::Pcma,
            _ => return, // comfort noise or an unnegotiated format
        };
        let pos = self.rx_position(p.ssrc, p.ts);
        let mut data = [0u8; MAX_PAYLOAD];
        let n = p.payload.len().min(MAX_PAYLOAD);
        data[..n].copy_from_slice(&p.payload[..n]);
        self.rx.window.push(p.seq, (pos, codec, n, data));
        while let Some((pos, codec, n, data)) = self.rx.window.pop_ready() {
            self.pcm.clear();
            g711::decode(codec, &data[..n], &mut self.pcm);
            tap.rx(pos, &self.pcm);
            self.detect_activity(pos);
        }
    }

    fn detect_activity(&mut self, pos: u64) {
        if self.pcm.is_empty() || self.last_activity.is_some_and(|l| pos < l + ACTIVITY_EVERY) {
            return;
        }
        let energy: f64 = self.pcm.iter().map(|s| (*s as f64) * (*s as f64)).sum();
        if (energy / self.pcm.len() as f64).sqrt() > ACTIVITY_RMS {
            self.last_activity = Some(pos);
            self.events.push_back(MediaEvent::RemoteActivity);
        }
    }

    /// Places a received packet on our clock by its RTP timestamp (not its arrival time):
    /// the first packet of a stream is anchored where our clock is now.
    fn rx_position(&mut self, ssrc: Ssrc, ts: RtpTs) -> u64 {
        let now = self.pos as i64;
        if let Some((s, ts0, pos0)) = self.rx.anchor
            && s == ssrc
        {
            let pos = pos0 as i64 + ts.0.wrapping_sub(ts0.0) as i32 as i64;
            if (pos - now).abs() <= REANCHOR_SAMPLES && pos >= 0 {
                return pos as u64;
            }
        }
        self.rx.anchor = Some((ssrc, ts, self.pos));
        self.pos
    }
}

/// DTMF frequency pairs (ITU-T Q.23).
fn dtmf_freqs(d: char) -> (f32, f32) {
    let row = match d {
        '1' | '2' | '3' | 'A' => 697.0,
        '4' | '5' | '6' | 'B' => 770.0,
        '7' | '8' | '9' | 'C' => 852.0,
        _ => 941.0,
    };
    let col = match d {
        '1' | '4' | '7' | '*' => 1209.0,
        '2' | '5' | '8' | '0' => 1336.0,
        '3' | '6' | '9' | '#' => 1477.0,
        _ => 1633.0,
    };
    (row, col)
}

fn render_dtmf(d: char, start: u32, out: &mut [i16; FRAME_SAMPLES]) {
    let (f1, f2) = dtmf_freqs(d);
    let w = std::f32::consts::TAU / 8000.0;
    for (i, s) in out.iter_mut().enumerate() {
        let n = (start + i as u32) as f32;
        *s = (6000.0 * ((w * f1 * n).sin() + (w * f2 * n).sin())) as i16;
    }
}

#[cfg(test)]
mod tests;
