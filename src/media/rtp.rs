//! RTP fixed header (RFC 3550 §5.1) parsing and writing.

use thiserror::Error;

/// Synchronization source identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// RTP sequence number; wraps at 2^16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The sequence number `n` packets later, wrapping.
    pub fn wrapping_add(self, n: u16) -> SeqNo {
        SeqNo(self.0.wrapping_add(n))
    }

    /// The next sequence number, wrapping.
    pub fn next(self) -> SeqNo {
        self.wrapping_add(1)
    }
}

/// RTP media timestamp in clock-rate units; wraps at 2^32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpTs(pub u32);

impl RtpTs {
    /// The timestamp `n` clock ticks later, wrapping.
    pub fn wrapping_add(self, n: u32) -> RtpTs {
        RtpTs(self.0.wrapping_add(n))
    }
}

/// RTP payload type (7 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u8);

/// Why a buffer is not an RTP packet.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than the header it announces.
    #[error("rtp packet too short")]
    TooShort,
    /// Version field is not 2.
    #[error("rtp version {0} not supported")]
    BadVersion(u8),
    /// Padding count is zero or larger than the payload.
    #[error("bad rtp padding")]
    BadPadding,
}

const HEADER_LEN: usize = 12;

/// One RTP packet borrowing its payload from the receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Payload type.
    pub payload_type: PayloadType,
    /// Marker bit (start of talkspurt / start of DTMF event).
    pub marker: bool,
    /// Sequence number.
    pub seq: SeqNo,
    /// Media timestamp.
    pub ts: RtpTs,
    /// Synchronization source.
    pub ssrc: Ssrc,
    /// Payload with CSRCs, header extension and padding removed.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses an RTP packet; never panics on malformed input.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = (buf[0] & 0x0F) as usize;

        let mut start = HEADER_LEN + 4 * csrc_count;
        if extension {
            // RFC 3550 §5.3.1: 16-bit profile id, 16-bit length in 32-bit words.
            let ext = buf.get(start..start + 4).ok_or(RtpError::TooShort)?;
            let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
            start += 4 + 4 * words;
        }
        if start > buf.len() {
            return Err(RtpError::TooShort);
        }
        let mut end = buf.len();
        if padding {
            // RFC 3550 §5.1: the last octet counts padding octets, itself included.
            let pad = buf[end - 1] as usize;
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            payload_type: PayloadType(buf[1] & 0x7F),
            marker: buf[1] & 0x80 != 0,
            seq: SeqNo(u16::from_be_bytes([buf[2], buf[3]])),
            ts: RtpTs(u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]])),
            ssrc: Ssrc(u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]])),
            payload: &buf[start..end],
        })
    }

    /// Appends the packet (no CSRCs, extension or padding) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.reserve(HEADER_LEN + self.payload.len());
        out.push(0x80);
        out.push((self.payload_type.0 & 0x7F) | if self.marker { 0x80 } else { 0 });
        out.extend_from_slice(&self.seq.0.to_be_bytes());
        out.extend_from_slice(&self.ts.0.to_be_bytes());
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        out.extend_from_slice(self.payload);
    }
}

/// Whether a datagram on a muxed port is RTCP rather than RTP.
///
/// RFC 5761 §4: RTCP packet types 192..=223 occupy the byte where RTP has
/// marker + payload type; this covers SR..APP (200..=204) and feedback/XR.
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 8 && buf[0] >> 6 == 2 && (192..=223).contains(&buf[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RtpPacket<'static> {
        RtpPacket {
            payload_type: PayloadType(8),
            marker: true,
            seq: SeqNo(0xBEEF),
            ts: RtpTs(0xDEAD_BEEF),
            ssrc: Ssrc(0x1234_5678),
            payload: &[1, 2, 3, 4],
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        sample().write(&mut buf);
        assert_eq!(buf.len(), 16);
        assert_eq!(&buf[..2], &[0x80, 0x88]);
        assert_eq!(RtpPacket::parse(&buf), Ok(sample()));
        assert!(!is_rtcp(&buf));
    }

    #[test]
    fn csrc_extension_padding() {
        let mut buf = vec![0x80 | 0x20 | 0x10 | 2, 0];
        buf.extend_from_slice(&[0, 1, 0, 0, 0, 160, 0, 0, 0, 9]);
        buf.extend_from_slice(&[0xAA; 8]); // two CSRCs
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x11, 0x22, 0x33, 0x44]); // one-word ext
        buf.extend_from_slice(&[7, 8, 9]);
        buf.extend_from_slice(&[0, 0, 3]); // three octets of padding
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(p.payload, &[7, 8, 9]);
        assert_eq!(p.seq, SeqNo(1));
        assert_eq!(p.ts, RtpTs(160));
        assert_eq!(p.ssrc, Ssrc(9));
        assert_eq!(p.payload_type, PayloadType(0));
        assert!(!p.marker);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(RtpPacket::parse(&[]), Err(RtpError::TooShort));
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        // CSRC count 15 but no CSRCs.
        assert_eq!(RtpPacket::parse(&[0x8F; 12]), Err(RtpError::TooShort));
        // Extension bit without extension header.
        let mut b = [0u8; 14];
        b[0] = 0x90;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::TooShort));
        // Extension length pointing past the end.
        let mut b = [0u8; 16];
        b[0] = 0x90;
        b[15] = 5;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::TooShort));
        // Padding count of zero, and larger than the payload.
        let mut b = [0u8; 14];
        b[0] = 0xA0;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
        b[13] = 3;
        assert_eq!(RtpPacket::parse(&b), Err(RtpError::BadPadding));
        b[13] = 2;
        assert_eq!(RtpPacket::parse(&b).unwrap().payload, &[] as &[u8]);
    }

    #[test]
    fn never_panics_on_random_input() {
        let mut x: u32 = 1;
        for len in 0..64 {
            for _ in 0..200 {
                let buf: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
                let _ = RtpPacket::parse(&buf);
                let _ = is_rtcp(&buf);
            }
        }
    }

    #[test]
    fn rtcp_detection() {
        // Receiver report header: V=2, RC=0, PT=201, length 1.
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        assert!(is_rtcp(&rr));
        let sr = [0x81, 200, 0, 12, 0, 0, 0, 1];
        assert!(is_rtcp(&sr));
        assert!(!is_rtcp(&rr[..4]));
        // PCMU with marker: 0x80 is 128, not in 192..=223.
        assert!(!is_rtcp(&[0x80, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn wrapping_helpers() {
        assert_eq!(SeqNo(65535).next(), SeqNo(0));
        assert_eq!(SeqNo(65530).wrapping_add(10), SeqNo(4));
        assert_eq!(RtpTs(u32::MAX - 79).wrapping_add(160), RtpTs(80));
    }
}
