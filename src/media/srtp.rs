//! SDES-SRTP (RFC 4568 keys in the SDP, RFC 3711 protection) for one call's audio: the
//! `a=crypto` attribute, our policy, and the two SRTP contexts (send, receive). The
//! cryptography is `rtc-srtp` (the SRTP that webrtc's stack already links). Pure: keys come
//! in from the I/O edge (a CSPRNG); nothing here logs one (their `Debug` is redacted).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;
use serde::Deserialize;

/// Bytes of master key (16) + master salt (14) for the AES-CM-128 suites.
pub const KEY_LEN: usize = 30;
/// Packets the receive side's replay window remembers (RFC 3711 §3.3.2 minimum is 64).
const REPLAY_WINDOW: usize = 128;

/// Whether calls use SRTP (`[media] srtp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SrtpMode {
    /// Plain RTP/AVP; no keys offered.
    #[default]
    Off,
    /// Offer `RTP/AVP` with `a=crypto` (best-effort SRTP, the way Asterisk, FreeSWITCH and
    /// baresip's `srtp` do it): a peer that answers with a key gets SRTP, one that ignores
    /// the attribute gets plain RTP. A peer that refuses any offer with keys (rare) is not
    /// retried without them.
    Optional,
    /// Offer `RTP/SAVP` with `a=crypto`; an answer without a usable key ends the call.
    Required,
}

/// The crypto suites we offer and accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568 §6.2.1), offered first.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568 §6.2.2): a 4-byte tag.
    AesCm128HmacSha1_32,
}

impl Suite {
    /// Both suites, in our order of preference.
    pub const ALL: [Suite; 2] = [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32];

    /// The SDP name.
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    fn profile(self) -> ProtectionProfile {
        match self {
            Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

/// A master key and salt (30 bytes). Never printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MasterKey(pub [u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// 30 bytes from the operating system's CSPRNG (through the SRTP crate's provider).
    pub fn generate() -> Result<MasterKey, String> {
        let provider = rtc_srtp::crypto::default_provider().map_err(|e| e.to_string())?;
        let mut key = [0u8; KEY_LEN];
        provider
            .random()
            .fill(&mut key)
            .map_err(|e| format!("no randomness for an srtp key: {e}"))?;
        Ok(MasterKey(key))
    }

    fn inline(&self) -> String {
        STANDARD.encode(self.0)
    }
}

/// One `a=crypto` attribute (RFC 4568 §9.1) we can use: a supported suite, one inline
/// 30-byte key, no MKI (we do not carry one on packets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crypto {
    /// The attribute's tag: an answer names the offered attribute it accepts by it.
    pub tag: u32,
    pub suite: Suite,
    pub key: MasterKey,
}

impl Crypto {
    /// Parses the value after `a=crypto:`; `None` for anything we cannot use (unknown
    /// suite, bad key, an MKI, several keys, session parameters we do not implement).
    pub fn parse(value: &str) -> Option<Crypto> {
        let mut it = value.split_whitespace();
        let tag = it.next()?.parse().ok()?;
        let suite = Suite::from_name(it.next()?)?;
        let params = it.next()?;
        // Session parameters (e.g. UNENCRYPTED_SRTP, KDR) change the protection: refuse.
        if it.next().is_some() || params.contains(';') {
            return None;
        }
        let inline = params.strip_prefix("inline:")?;
        let mut parts = inline.split('|');
        let key = STANDARD.decode(parts.next()?).ok()?;
        // A lifetime is fine (we never get near 2^31 packets); an MKI is not (`n:len`).
        for p in parts {
            if p.contains(':') {
                return None;
            }
        }
        let key: [u8; KEY_LEN] = key.try_into().ok()?;
        Some(Crypto {
            tag,
            suite,
            key: MasterKey(key),
        })
    }

    /// The SDP line, `a=crypto:<tag> <suite> inline:<key>` with CRLF.
    pub fn line(&self) -> String {
        format!(
            "a=crypto:{} {} inline:{}\r\n",
            self.tag,
            self.suite.name(),
            self.key.inline()
        )
    }
}

/// Our side of SRTP for one call: the policy and one key per suite (from the edge's CSPRNG).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalSrtp {
    pub mode: SrtpMode,
    /// Our key for each of [`Suite::ALL`], in that order.
    pub keys: [MasterKey; 2],
}

impl LocalSrtp {
    /// The attributes we offer (none when off): tag 1 for the 80-bit suite, tag 2 for 32.
    pub fn offered(&self) -> Vec<Crypto> {
        if self.mode == SrtpMode::Off {
            return Vec::new();
        }
        Suite::ALL
            .into_iter()
            .zip(self.keys)
            .enumerate()
            .map(|(i, (suite, key))| Crypto {
                tag: i as u32 + 1,
                suite,
                key,
            })
            .collect()
    }

    /// Our key for `suite`.
    pub fn key_for(&self, suite: Suite) -> MasterKey {
        let i = Suite::ALL.iter().position(|s| *s == suite).unwrap_or(0);
        self.keys[i]
    }

    /// The keys an answer to our offer gives (RFC 4568 §7.1.3): its attribute must name
    /// one we offered (tag and suite).
    pub fn accept_answer(&self, answer: Option<&Crypto>) -> Option<SrtpKeys> {
        let a = answer?;
        self.offered()
            .iter()
            .find(|o| o.tag == a.tag && o.suite == a.suite)
            .map(|o| SrtpKeys {
                suite: a.suite,
                ours: o.key,
                theirs: a.key,
            })
    }

    /// Our attribute answering a far-end offer's `theirs`, and the keys that follow.
    pub fn answer_offer(&self, theirs: &Crypto) -> (Crypto, SrtpKeys) {
        let ours = self.key_for(theirs.suite);
        (
            Crypto {
                tag: theirs.tag,
                suite: theirs.suite,
                key: ours,
            },
            SrtpKeys {
                suite: theirs.suite,
                ours,
                theirs: theirs.key,
            },
        )
    }
}

/// The keys of a negotiated SRTP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrtpKeys {
    pub suite: Suite,
    /// Protects what we send.
    pub ours: MasterKey,
    /// Unprotects what the far end sends.
    pub theirs: MasterKey,
}

/// Why a packet could not be protected or unprotected.
#[derive(Debug, thiserror::Error)]
pub enum SrtpError {
    #[error("srtp setup: {0}")]
    Setup(String),
    #[error("srtp: {0}")]
    Packet(String),
}

/// The send and receive contexts of one call.
pub struct SrtpSession {
    suite: Suite,
    tx: Context,
    rx: Context,
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSession")
            .field("suite", &self.suite)
            .finish()
    }
}

impl SrtpSession {
    /// Contexts for both directions (replay protection on the receive side).
    pub fn new(keys: &SrtpKeys) -> Result<SrtpSession, SrtpError> {
        let provider =
            rtc_srtp::crypto::default_provider().map_err(|e| SrtpError::Setup(e.to_string()))?;
        let crypto = provider.crypto();
        let profile = keys.suite.profile();
        let (k, s) = (profile.key_len(), profile.salt_len());
        let make = |key: &MasterKey, replay: bool| {
            Context::new(
                &key.0[..k],
                &key.0[k..k + s],
                profile,
                replay.then(|| srtp_replay_protection(REPLAY_WINDOW)),
                replay.then(|| srtcp_replay_protection(REPLAY_WINDOW)),
                crypto,
            )
            .map_err(|e| SrtpError::Setup(e.to_string()))
        };
        Ok(SrtpSession {
            suite: keys.suite,
            tx: make(&keys.ours, false)?,
            rx: make(&keys.theirs, true)?,
        })
    }

    /// The negotiated suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// An RTP packet (header + payload) -> SRTP.
    pub fn protect(&mut self, rtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.tx
            .encrypt_rtp(rtp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Packet(e.to_string()))
    }

    /// An RTCP compound packet -> SRTCP (RFC 3711 §3.4: encrypted, indexed, authenticated).
    pub fn protect_rtcp(&mut self, rtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.tx
            .encrypt_rtcp(rtcp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Packet(e.to_string()))
    }

    /// An SRTCP packet -> RTCP, when its authentication tag is right and it is no replay.
    pub fn unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.rx
            .decrypt_rtcp(srtcp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Packet(e.to_string()))
    }

    /// An SRTP packet -> RTP, when its authentication tag is right and it is no replay.
    pub fn unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.rx
            .decrypt_rtp(srtp)
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Packet(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::{PayloadType, RtpPacket, RtpTs, SeqNo, Ssrc};

    fn key(b: u8) -> MasterKey {
        MasterKey([b; KEY_LEN])
    }

    fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        RtpPacket {
            payload_type: PayloadType(0),
            marker: false,
            seq: SeqNo(seq),
            ts: RtpTs(160 * seq as u32),
            ssrc: Ssrc(0x1234_5678),
            payload,
        }
        .write(&mut out);
        out
    }

    #[test]
    fn parses_and_writes_crypto_attributes() {
        let c = Crypto {
            tag: 1,
            suite: Suite::AesCm128HmacSha1_80,
            key: key(7),
        };
        let line = c.line();
        let value = line
            .trim_end()
            .strip_prefix("a=crypto:")
            .expect("attribute");
        assert_eq!(Crypto::parse(value), Some(c));
        // A lifetime is accepted; an MKI, session parameters or an unknown suite are not.
        let b64 = STANDARD.encode([7u8; KEY_LEN]);
        assert!(Crypto::parse(&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{b64}|2^31")).is_some());
        assert!(
            Crypto::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{b64}|2^31|1:4")).is_none()
        );
        assert!(
            Crypto::parse(&format!(
                "1 AES_CM_128_HMAC_SHA1_80 inline:{b64} UNENCRYPTED_SRTP"
            ))
            .is_none()
        );
        assert!(Crypto::parse(&format!("1 AES_256_CM_HMAC_SHA1_80 inline:{b64}")).is_none());
        assert!(Crypto::parse("1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=").is_none());
        assert!(Crypto::parse("x").is_none());
    }

    #[test]
    fn an_answer_must_name_an_offered_attribute() {
        let local = LocalSrtp {
            mode: SrtpMode::Required,
            keys: [key(1), key(2)],
        };
        let offered = local.offered();
        assert_eq!(offered.len(), 2);
        let answer = Crypto {
            tag: 2,
            suite: Suite::AesCm128HmacSha1_32,
            key: key(9),
        };
        let keys = local.accept_answer(Some(&answer)).expect("accepted");
        assert_eq!((keys.ours, keys.theirs), (key(2), key(9)));
        let wrong_tag = Crypto { tag: 1, ..answer };
        assert_eq!(local.accept_answer(Some(&wrong_tag)), None);
        assert_eq!(local.accept_answer(None), None);
        let off = LocalSrtp {
            mode: SrtpMode::Off,
            ..local
        };
        assert!(off.offered().is_empty());
    }

    #[test]
    fn protects_and_unprotects_both_suites() {
        for suite in Suite::ALL {
            let a = SrtpKeys {
                suite,
                ours: key(1),
                theirs: key(2),
            };
            let b = SrtpKeys {
                suite,
                ours: key(2),
                theirs: key(1),
            };
            let (mut a, mut b) = (
                SrtpSession::new(&a).expect("a"),
                SrtpSession::new(&b).expect("b"),
            );
            let plain = rtp(1, &[0x55; 160]);
            let wire = a.protect(&plain).expect("protect");
            let tag = if suite == Suite::AesCm128HmacSha1_80 {
                10
            } else {
                4
            };
            assert_eq!(wire.len(), plain.len() + tag);
            assert_ne!(&wire[12..172], &plain[12..], "payload encrypted");
            assert_eq!(b.unprotect(&wire).expect("unprotect"), plain);
            // A replay and a tampered packet are refused.
            assert!(b.unprotect(&wire).is_err());
            let mut bad = a.protect(&rtp(2, &[0x55; 160])).expect("protect");
            bad[20] ^= 1;
            assert!(b.unprotect(&bad).is_err());
        }
    }

    #[test]
    fn protects_rtcp_as_srtcp() {
        let a = SrtpKeys {
            suite: Suite::AesCm128HmacSha1_80,
            ours: key(1),
            theirs: key(2),
        };
        let b = SrtpKeys {
            ours: key(2),
            theirs: key(1),
            ..a
        };
        let (mut a, mut b) = (
            SrtpSession::new(&a).expect("a"),
            SrtpSession::new(&b).expect("b"),
        );
        // An RR without report blocks and an SDES CNAME "hl".
        let rtcp = [
            0x80, 0xc9, 0x00, 0x01, 0, 0, 0, 7, 0x81, 0xca, 0x00, 0x03, 0, 0, 0, 7, 1, 2, b'h',
            b'l', 0, 0, 0, 0,
        ];
        let wire = a.protect_rtcp(&rtcp).expect("protect");
        // RFC 3711 §3.4: E flag + 31-bit index, then the 10-byte tag.
        assert_eq!(wire.len(), rtcp.len() + 4 + 10);
        assert_ne!(
            &wire[8..rtcp.len()],
            &rtcp[8..],
            "encrypted after the first 8 bytes"
        );
        assert_eq!(b.unprotect_rtcp(&wire).expect("unprotect"), rtcp);
        assert!(b.unprotect_rtcp(&wire).is_err(), "a replay is refused");
        let mut bad = a.protect_rtcp(&rtcp).expect("protect");
        bad[10] ^= 1;
        assert!(
            b.unprotect_rtcp(&bad).is_err(),
            "a tampered packet is refused"
        );
    }

    #[test]
    fn keys_are_random_and_never_printed() {
        let a = MasterKey::generate().expect("key");
        let b = MasterKey::generate().expect("key");
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "MasterKey(<redacted>)");
    }
}
