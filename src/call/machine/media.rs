//! What an SDP answer means for media: the SRTP keys our policy takes from it, and the
//! command that starts (or re-targets) RTP.

use super::*;

impl Call {
    /// The SRTP keys an answer to our offer gives, per our policy (RFC 4568 §7.1.3).
    /// `Err`: SRTP is required and the answer has no key naming one we offered.
    pub(super) fn answer_keys(&self, neg: &Negotiated) -> Result<Option<SrtpKeys>, String> {
        let Some(local) = self.p.srtp.filter(|l| l.mode != SrtpMode::Off) else {
            return Ok(None);
        };
        match (local.accept_answer(neg.crypto.as_ref()), local.mode) {
            (Some(k), _) => Ok(Some(k)),
            (None, SrtpMode::Required) => Err(match neg.crypto {
                Some(_) => "srtp required: the answer's a=crypto names no suite/tag we offered",
                None => "srtp required: the answer has no a=crypto (plain RTP refused)",
            }
            .into()),
            (None, _) => Ok(None),
        }
    }
}

pub(super) fn start_media(n: &Negotiated, early: bool, srtp: Option<SrtpKeys>) -> MediaCommand {
    MediaCommand::Start {
        early,
        remote: n.remote,
        codec: n.codec,
        codec_pt: n.codec_pt,
        dtmf_pt: n.dtmf_pt,
        srtp,
        rtcp: crate::media::rtcp::RtcpPeer::of(n),
    }
}
