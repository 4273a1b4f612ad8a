//! RFC 4733 telephone-events (DTMF over RTP).

use thiserror::Error;

use crate::media::FRAME_SAMPLES;
use crate::media::rtp::{PayloadType, RtpTs};

/// Why a DTMF payload or digit was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DtmfError {
    /// Payload shorter than the 4-byte event block.
    #[error("dtmf payload too short")]
    TooShort,
    /// Character is not a DTMF digit.
    #[error("not a dtmf digit: {0:?}")]
    BadDigit(char),
}

/// Maps a DTMF character to its event code (RFC 4733 §3.2).
pub fn digit_to_event(c: char) -> Option<u8> {
    match c.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// Maps an event code back to its DTMF character; `None` for non-DTMF events.
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// One telephone-event payload block (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfEvent {
    /// Event code.
    pub event: u8,
    /// E bit: this is an end packet.
    pub end: bool,
    /// Power level in -dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl DtmfEvent {
    /// Parses the first event block; extra (redundant) blocks are ignored.
    pub fn parse(payload: &[u8]) -> Result<DtmfEvent, DtmfError> {
        let b = payload.get(..4).ok_or(DtmfError::TooShort)?;
        Ok(DtmfEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4-byte payload (R bit clear).
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        [self.event, flags, d[0], d[1]]
    }

    /// Appends the 4-byte payload to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

/// One packet produced by [`DtmfSender`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Payload type to send it with.
    pub pt: PayloadType,
    /// RTP payload.
    pub payload: [u8; 4],
    /// RTP marker bit (first packet of the event only).
    pub marker: bool,
    /// This packet carries the E bit.
    pub end: bool,
}

/// Volume we send: -10 dBm0, a common default.
const SEND_VOLUME: u8 = 10;

/// Times the end packet is sent (RFC 4733 §2.5.1.4).
const END_REPEATS: u8 = 3;

/// Longest event that fits the 16-bit duration, in whole frames.
const MAX_DURATION: u32 = (u16::MAX as u32 / FRAME_SAMPLES as u32) * FRAME_SAMPLES as u32;

/// Generates the packets of one DTMF event, one per 20 ms tick.
///
/// All packets must go out with the same RTP timestamp: the one of the
/// tick on which the first packet was sent (RFC 4733 §2.5.1.2).
#[derive(Clone, Debug)]
pub struct DtmfSender {
    pt: PayloadType,
    event: u8,
    total: u16,
    elapsed: u16,
    ends_sent: u8,
}

impl DtmfSender {
    /// A sender for `digit` lasting `duration_ms` (rounded up to 20 ms, at
    /// least one frame, at most ~8 s) with payload type `pt`.
    pub fn new(digit: char, duration_ms: u32, pt: PayloadType) -> Result<DtmfSender, DtmfError> {
        let event = digit_to_event(digit).ok_or(DtmfError::BadDigit(digit))?;
        let frame = FRAME_SAMPLES as u32;
        let samples = duration_ms.saturating_mul(8).div_ceil(frame).max(1) * frame;
        Ok(DtmfSender {
            pt,
            event,
            // MAX_DURATION < 2^16, so the cast is lossless.
            total: samples.min(MAX_DURATION) as u16,
            elapsed: 0,
            ends_sent: 0,
        })
    }

    /// The packet for this tick, or `None` once the event is over.
    ///
    /// One packet per frame while the tone lasts, then the end packet
    /// three times with the final duration (RFC 4733 §2.5.1.4).
    pub fn next_packet(&mut self) -> Option<DtmfPacket> {
        let marker = self.elapsed == 0;
        let end = self.elapsed >= self.total;
        if !end {
            self.elapsed += FRAME_SAMPLES as u16;
        } else if self.ends_sent < END_REPEATS {
            self.ends_sent += 1;
        } else {
            return None;
        }
        let ev = DtmfEvent {
            event: self.event,
            end,
            volume: SEND_VOLUME,
            duration: self.elapsed,
        };
        Some(DtmfPacket {
            pt: self.pt,
            payload: ev.to_bytes(),
            marker,
            end,
        })
    }
}

/// A digit reported by [`DtmfReceiver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceivedDigit {
    /// The DTMF character.
    pub digit: char,
    /// Event duration in milliseconds (8 kHz clock).
    pub duration_ms: u32,
}

#[derive(Clone, Copy, Debug)]
struct Current {
    ts: RtpTs,
    event: u8,
    duration: u16,
}

/// Turns a telephone-event packet stream into digits, once per event.
#[derive(Clone, Debug, Default)]
pub struct DtmfReceiver {
    current: Option<Current>,
    last_done: Option<RtpTs>,
    pending: Option<ReceivedDigit>,
}

impl DtmfReceiver {
    /// A receiver with no event in progress.
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::default()
    }

    /// Feeds one telephone-event packet; returns a digit when an event ends.
    ///
    /// Events are keyed by RTP timestamp (RFC 4733 §2.5.2.2). An event
    /// without an end packet is reported when the next event starts.
    pub fn on_packet(&mut self, ts: RtpTs, payload: &[u8]) -> Option<ReceivedDigit> {
        let Ok(ev) = DtmfEvent::parse(payload) else {
            return self.pending.take();
        };
        // Retransmitted end packets, or stragglers of a finished event.
        if self.last_done == Some(ts) {
            return self.pending.take();
        }
        let mut done = None;
        match &mut self.current {
            Some(cur) if cur.ts == ts => cur.duration = cur.duration.max(ev.duration),
            slot => {
                // A new timestamp starts a new event; the old one lost its end.
                done = slot.take().and_then(report);
                *slot = Some(Current {
                    ts,
                    event: ev.event,
                    duration: ev.duration,
                });
            }
        }
        let mut finished = None;
        if ev.end {
            self.last_done = Some(ts);
            finished = self.current.take().and_then(report);
        }
        // At most two of these are set: a waiting digit only exists after an
        // end packet, which leaves no unfinished event behind for `done`.
        let mut ready = [self.pending.take(), done, finished].into_iter().flatten();
        let first = ready.next();
        self.pending = ready.next();
        first
    }

    /// Reports an event still in progress (e.g. when the stream stops).
    pub fn flush(&mut self) -> Option<ReceivedDigit> {
        if let Some(p) = self.pending.take() {
            return Some(p);
        }
        let cur = self.current.take()?;
        self.last_done = Some(cur.ts);
        report(cur)
    }
}

fn report(cur: Current) -> Option<ReceivedDigit> {
    Some(ReceivedDigit {
        digit: event_to_digit(cur.event)?,
        duration_ms: cur.duration as u32 / 8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT: PayloadType = PayloadType(101);

    fn ev(event: u8, end: bool, duration: u16) -> [u8; 4] {
        DtmfEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .to_bytes()
    }

    #[test]
    fn digit_mapping() {
        let all = "0123456789*#ABCD";
        for (i, c) in all.chars().enumerate() {
            assert_eq!(digit_to_event(c), Some(i as u8));
            assert_eq!(event_to_digit(i as u8), Some(c));
        }
        assert_eq!(digit_to_event('a'), Some(12));
        assert_eq!(digit_to_event('E'), None);
        assert_eq!(digit_to_event('x'), None);
        assert_eq!(event_to_digit(16), None);
    }

    #[test]
    fn event_bytes() {
        let e = DtmfEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        let b = e.to_bytes();
        assert_eq!(b, [5, 0x8A, 0x03, 0x20]);
        assert_eq!(DtmfEvent::parse(&b), Ok(e));
        let mut v = Vec::new();
        e.write(&mut v);
        assert_eq!(v, b);
        // R bit is ignored, redundant blocks are ignored.
        assert_eq!(DtmfEvent::parse(&[5, 0xCA, 3, 0x20, 9, 9, 9, 9]), Ok(e));
        assert_eq!(DtmfEvent::parse(&[1, 2, 3]), Err(DtmfError::TooShort));
    }

    #[test]
    fn sender_sequence() {
        let mut s = DtmfSender::new('#', 100, PT).unwrap();
        let mut pkts = Vec::new();
        while let Some(p) = s.next_packet() {
            pkts.push(p);
        }
        // 5 frames of tone, then the end packet 3 times.
        assert_eq!(pkts.len(), 5 + 3);
        for (i, p) in pkts.iter().enumerate() {
            let e = DtmfEvent::parse(&p.payload).unwrap();
            assert_eq!(e.event, 11);
            assert_eq!(p.pt, PT);
            assert_eq!(p.marker, i == 0);
            assert_eq!(p.end, i >= 5);
            assert_eq!(e.end, p.end);
            assert_eq!(e.duration as usize, 160 * (i + 1).min(5));
        }
        assert_eq!(s.next_packet(), None);
    }

    #[test]
    fn sender_short_and_long() {
        let mut s = DtmfSender::new('1', 0, PT).unwrap();
        let first = s.next_packet().unwrap();
        assert!(first.marker && !first.end);
        assert_eq!(DtmfEvent::parse(&first.payload).unwrap().duration, 160);
        for _ in 0..3 {
            assert!(s.next_packet().is_some_and(|p| p.end && !p.marker));
        }
        assert!(s.next_packet().is_none());

        let mut s = DtmfSender::new('2', 60_000, PT).unwrap();
        let mut last = None;
        while let Some(p) = s.next_packet() {
            last = Some(p);
        }
        let e = DtmfEvent::parse(&last.unwrap().payload).unwrap();
        assert_eq!(e.duration as u32, MAX_DURATION);

        assert_eq!(
            DtmfSender::new('x', 100, PT).unwrap_err(),
            DtmfError::BadDigit('x')
        );
    }

    #[test]
    fn sender_feeds_receiver() {
        let mut s = DtmfSender::new('7', 120, PT).unwrap();
        let mut r = DtmfReceiver::new();
        let mut got = Vec::new();
        while let Some(p) = s.next_packet() {
            got.extend(r.on_packet(RtpTs(4000), &p.payload));
        }
        assert_eq!(
            got,
            [ReceivedDigit {
                digit: '7',
                duration_ms: 120
            }]
        );
    }

    #[test]
    fn end_retransmissions_reported_once() {
        let mut r = DtmfReceiver::new();
        assert_eq!(r.on_packet(RtpTs(100), &ev(1, false, 160)), None);
        assert_eq!(r.on_packet(RtpTs(100), &ev(1, false, 320)), None);
        let d = r.on_packet(RtpTs(100), &ev(1, true, 480));
        assert_eq!(
            d,
            Some(ReceivedDigit {
                digit: '1',
                duration_ms: 60
            })
        );
        assert_eq!(r.on_packet(RtpTs(100), &ev(1, true, 480)), None);
        assert_eq!(r.on_packet(RtpTs(100), &ev(1, true, 480)), None);
        // A reordered straggler of the same event is ignored too.
        assert_eq!(r.on_packet(RtpTs(100), &ev(1, false, 320)), None);
        assert_eq!(r.flush(), None);
    }

    /// A stream as sipp's `dtmf_2833_*.pcap` / Asterisk send it: start with
    /// marker, growing duration, three end packets, the same digit twice.
    #[test]
    fn sipp_style_stream() {
        let mut r = DtmfReceiver::new();
        let mut got = String::new();
        let mut ts = RtpTs(0x1000);
        for digit in "1123#".chars() {
            let e = digit_to_event(digit).unwrap();
            for d in (160..=1280).step_by(160) {
                got.extend(r.on_packet(ts, &ev(e, false, d)).map(|d| d.digit));
            }
            for _ in 0..3 {
                got.extend(r.on_packet(ts, &ev(e, true, 1440)).map(|d| d.digit));
            }
            // Voice packets in between advance the timestamp.
            ts = ts.wrapping_add(1440 + 800);
        }
        assert_eq!(got, "1123#");
    }

    #[test]
    fn missing_end_reported_on_next_event() {
        let mut r = DtmfReceiver::new();
        assert_eq!(r.on_packet(RtpTs(0), &ev(4, false, 160)), None);
        assert_eq!(r.on_packet(RtpTs(0), &ev(4, false, 320)), None);
        // All end packets lost; the next event starts.
        assert_eq!(
            r.on_packet(RtpTs(2000), &ev(5, false, 160)),
            Some(ReceivedDigit {
                digit: '4',
                duration_ms: 40
            })
        );
        assert_eq!(
            r.on_packet(RtpTs(2000), &ev(5, true, 320)).map(|d| d.digit),
            Some('5')
        );
    }

    #[test]
    fn missing_end_then_lone_end_packet() {
        let mut r = DtmfReceiver::new();
        assert_eq!(r.on_packet(RtpTs(0), &ev(8, false, 160)), None);
        // The next event's only surviving packet is an end packet: both
        // digits come out, in order, one per call.
        assert_eq!(
            r.on_packet(RtpTs(3000), &ev(9, true, 800)).map(|d| d.digit),
            Some('8')
        );
        assert_eq!(
            r.on_packet(RtpTs(3000), &ev(9, true, 800)),
            Some(ReceivedDigit {
                digit: '9',
                duration_ms: 100
            })
        );
        assert_eq!(r.on_packet(RtpTs(3000), &ev(9, true, 800)), None);
    }

    #[test]
    fn flush_and_garbage() {
        let mut r = DtmfReceiver::new();
        assert_eq!(r.on_packet(RtpTs(0), &[1, 2]), None);
        assert_eq!(r.on_packet(RtpTs(0), &ev(0, false, 160)), None);
        assert_eq!(r.flush().map(|d| d.digit), Some('0'));
        assert_eq!(r.flush(), None);
        // Non-DTMF events (e.g. 16, flash) are not reported.
        assert_eq!(r.on_packet(RtpTs(9), &ev(16, true, 160)), None);
    }
}
