//! ITU-T G.711 μ-law (PCMU) and A-law (PCMA) companding.

use crate::media::rtp::PayloadType;

/// A G.711 variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// μ-law, static payload type 0 (RFC 3551 §6).
    Pcmu,
    /// A-law, static payload type 8 (RFC 3551 §6).
    Pcma,
}

impl Codec {
    /// Static RTP payload type of this codec.
    pub fn payload_type(self) -> PayloadType {
        match self {
            Codec::Pcmu => PayloadType(0),
            Codec::Pcma => PayloadType(8),
        }
    }

    /// SDP encoding name (`a=rtpmap`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

/// Appends the G.711 encoding of `pcm` to `out`, one byte per sample.
pub fn encode(codec: Codec, pcm: &[i16], out: &mut Vec<u8>) {
    let f = match codec {
        Codec::Pcmu => linear_to_ulaw,
        Codec::Pcma => linear_to_alaw,
    };
    out.extend(pcm.iter().map(|&s| f(s)));
}

/// Appends the linear decoding of `data` to `out`, one sample per byte.
pub fn decode(codec: Codec, data: &[u8], out: &mut Vec<i16>) {
    let table = match codec {
        Codec::Pcmu => &ULAW_TABLE,
        Codec::Pcma => &ALAW_TABLE,
    };
    out.extend(data.iter().map(|&b| table[b as usize]));
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample as μ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(ULAW_CLIP) + ULAW_BIAS;
    // s is in 0x84..=0x7FFF, so its top bit is bit 7..=14: segment 0..=7.
    let exponent = (31 - s.leading_zeros() as i32) - 7;
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decodes one μ-law byte to 16-bit linear.
pub const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encodes one 16-bit linear sample as A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    // A-law works on 13-bit magnitudes; even bits are inverted (XOR 0x55).
    let mut v = (sample as i32) >> 3;
    let mask = if v >= 0 {
        0xD5
    } else {
        v = -v - 1;
        0x55
    };
    // Segment = number of significant bits above the 5-bit first segment.
    let seg = (32 - (v as u32).leading_zeros()).saturating_sub(5) as i32;
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mantissa = if seg < 2 { v >> 1 } else { v >> seg } & 0x0F;
    (((seg << 4) | mantissa) ^ mask) as u8
}

/// Decodes one A-law byte to 16-bit linear.
pub const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    t += if seg == 0 { 8 } else { 0x108 };
    if seg > 1 {
        t <<= seg - 1;
    }
    if a & 0x80 != 0 { t as i16 } else { -t as i16 }
}

const fn ulaw_table() -> [i16; 256] {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_to_linear(i as u8);
        i += 1;
    }
    t
}

const fn alaw_table() -> [i16; 256] {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_to_linear(i as u8);
        i += 1;
    }
    t
}

static ULAW_TABLE: [i16; 256] = ulaw_table();
static ALAW_TABLE: [i16; 256] = alaw_table();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn payload_types() {
        assert_eq!(Codec::Pcmu.payload_type(), PayloadType(0));
        assert_eq!(Codec::Pcma.payload_type(), PayloadType(8));
        assert_eq!(Codec::Pcma.name(), "PCMA");
    }

    #[test]
    fn ulaw_round_trip_error_bound() {
        for x in i16::MIN..=i16::MAX {
            let y = ulaw_to_linear(linear_to_ulaw(x)) as i32;
            let mag = (x as i32).abs().min(ULAW_CLIP);
            // Half a quantisation step: step is 2^(seg+3) and
            // mag + bias >= 2^(seg+7), so half a step <= (mag + bias) / 32.
            let bound = (mag + ULAW_BIAS) / 32 + (x as i32).abs() - mag;
            assert!((x as i32 - y).abs() <= bound, "x={x} y={y}");
        }
    }

    #[test]
    fn alaw_round_trip_error_bound() {
        for x in i16::MIN..=i16::MAX {
            let y = alaw_to_linear(linear_to_alaw(x)) as i32;
            let bound = ((x as i32).abs() / 32).max(8) + 8;
            assert!((x as i32 - y).abs() <= bound, "x={x} y={y}");
        }
    }

    #[test]
    fn codes_are_stable() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b);
            if b != 0x7F {
                // 0x7F is μ-law "negative zero", which re-encodes as 0xFF.
                assert_eq!(linear_to_ulaw(ulaw_to_linear(b)), b);
            }
        }
    }

    #[test]
    fn buffers() {
        let pcm = [0i16, 1000, -1000, 30000];
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut enc = Vec::new();
            encode(codec, &pcm, &mut enc);
            assert_eq!(enc.len(), 4);
            let mut dec = vec![7];
            decode(codec, &enc, &mut dec);
            assert_eq!(dec.len(), 5);
            for (a, b) in pcm.iter().zip(&dec[1..]) {
                assert!((*a as i32 - *b as i32).abs() < 1000);
            }
        }
    }
}
