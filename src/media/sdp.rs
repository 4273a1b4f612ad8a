//! Minimal SDP (RFC 4566) and offer/answer (RFC 3264) for one audio stream.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use crate::media::g711::Codec;
use crate::media::rtp::PayloadType;
use crate::media::srtp::Crypto;

/// Why an SDP body could not be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SdpError {
    /// No `o=` line, or an unparsable one.
    #[error("bad or missing origin")]
    BadOrigin,
    /// No usable `c=` line for the audio stream.
    #[error("bad or missing connection address")]
    BadConnection,
    /// No `m=audio` line.
    #[error("no audio stream")]
    NoAudio,
    /// Unparsable `m=audio` line.
    #[error("bad media line")]
    BadMedia,
    /// Audio stream has port 0 (RFC 3264 §6).
    #[error("audio stream rejected")]
    Rejected,
    /// Neither PCMU nor PCMA was offered/accepted.
    #[error("no common codec")]
    NoCommonCodec,
}

/// Media direction attribute (RFC 4566 §6; RFC 3264 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name, e.g. `sendrecv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attr(a: &str) -> Option<Direction> {
        match a {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// One payload format of the audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// Payload type.
    pub pt: PayloadType,
    /// Encoding name as written, e.g. `PCMU`, `telephone-event`.
    pub encoding: String,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// `a=fmtp` parameters, if any.
    pub fmtp: Option<String>,
}

/// The parts of an SDP body that matter for one audio stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=` sess-id.
    pub origin_session_id: u64,
    /// `o=` sess-version.
    pub version: u64,
    /// Audio connection address (media-level `c=` wins over session-level).
    pub connection: IpAddr,
    /// Audio RTP port; 0 means the stream was rejected.
    pub port: u16,
    /// Formats in `m=` line order (preference order).
    pub formats: Vec<Format>,
    /// Audio direction (media level wins over session level).
    pub direction: Direction,
    /// `a=ptime`, in milliseconds.
    pub ptime: Option<u32>,
    /// The `m=` line's transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`.
    pub protocol: String,
    /// Usable `a=crypto` attributes (RFC 4568), in order; unusable ones are left out.
    pub crypto: Vec<Crypto>,
    /// `a=rtcp-mux` (RFC 5761): RTCP shares the RTP port.
    pub rtcp_mux: bool,
    /// `a=rtcp:<port>` (RFC 3605): RTCP's port when it is not RTP's + 1.
    pub rtcp_port: Option<u16>,
}

impl SessionDescription {
    /// `RTP/SAVP` (or `RTP/SAVPF`): the stream is SRTP or nothing.
    pub fn secure_profile(&self) -> bool {
        self.protocol.eq_ignore_ascii_case("RTP/SAVP")
            || self.protocol.eq_ignore_ascii_case("RTP/SAVPF")
    }
}

/// Telephone-event payload type we offer.
const OFFER_DTMF_PT: u8 = 101;

/// Builds our initial offer: PCMU, PCMA, telephone-event/8000, 20 ms, sendrecv.
pub fn offer(addr: IpAddr, port: u16, session_id: u64, version: u64) -> String {
    offer_with(addr, port, session_id, version, &[], false)
}

/// Our offer with SDES keys: `RTP/SAVP` when `savp` (SRTP required), else `RTP/AVP` with
/// the `a=crypto` lines for a peer that can take them (best-effort SRTP).
pub fn offer_with(
    addr: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    crypto: &[Crypto],
    savp: bool,
) -> String {
    let mut s = header(addr, session_id, version);
    let proto = if savp { "RTP/SAVP" } else { "RTP/AVP" };
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "m=audio {port} {proto} 0 8 {OFFER_DTMF_PT}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{OFFER_DTMF_PT} telephone-event/8000\r\n\
         a=fmtp:{OFFER_DTMF_PT} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n\
         a=rtcp-mux\r\n"
    );
    for c in crypto {
        s.push_str(&c.line());
    }
    s
}

/// Builds an answer to a far-end offer (e.g. a re-INVITE) using the
/// negotiated formats and payload type numbers (RFC 3264 §6.1).
pub fn answer(
    local_addr: IpAddr,
    local_port: u16,
    session_id: u64,
    version: u64,
    neg: &Negotiated,
    direction: Direction,
    secure: Option<(&Crypto, bool)>,
) -> String {
    let mut s = header(local_addr, session_id, version);
    let cpt = neg.codec_pt.0;
    let name = neg.codec.name();
    // Mirror the offer's profile (RFC 4568 §5.1.2: answer RTP/SAVP with RTP/SAVP).
    let proto = match secure {
        Some((_, true)) => "RTP/SAVP",
        _ => "RTP/AVP",
    };
    // Writing to a String cannot fail.
    let _ = match neg.dtmf_pt {
        Some(PayloadType(dpt)) => write!(
            s,
            "m=audio {local_port} {proto} {cpt} {dpt}\r\n\
             a=rtpmap:{cpt} {name}/8000\r\n\
             a=rtpmap:{dpt} telephone-event/8000\r\n\
             a=fmtp:{dpt} 0-16\r\n"
        ),
        None => write!(
            s,
            "m=audio {local_port} {proto} {cpt}\r\n\
             a=rtpmap:{cpt} {name}/8000\r\n"
        ),
    };
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", direction.as_str());
    if neg.rtcp_mux {
        s.push_str("a=rtcp-mux\r\n");
    }
    if let Some((c, _)) = secure {
        s.push_str(&c.line());
    }
    s
}

/// Our direction in an answer to `offered` (RFC 3264 §6.1).
pub fn answer_direction(offered: Direction) -> Direction {
    match offered {
        Direction::SendOnly => Direction::RecvOnly,
        // §6.1: a recvonly stream MUST be answered sendonly or inactive.
        Direction::RecvOnly => Direction::SendOnly,
        Direction::Inactive => Direction::Inactive,
        Direction::SendRecv => Direction::SendRecv,
    }
}

fn header(addr: IpAddr, session_id: u64, version: u64) -> String {
    let ip = ip_type(addr);
    format!(
        "v=0\r\n\
         o=- {session_id} {version} IN {ip} {addr}\r\n\
         s=hotline\r\n\
         c=IN {ip} {addr}\r\n\
         t=0 0\r\n"
    )
}

fn ip_type(addr: IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

/// Parses an SDP body, keeping the first `m=audio` stream.
pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
    let mut origin = None;
    let mut session_conn = None;
    let mut session_dir = None;
    let mut session_ptime = None;
    // State of the first audio m= section, once seen.
    let mut audio: Option<Audio> = None;
    // Whether the current section is that audio section; false at session level.
    let mut in_audio = false;
    let mut seen_media = false;

    for line in text.lines() {
        let line = line.trim_end();
        let Some((kind, value)) = line.split_once('=') else {
            continue;
        };
        match kind {
            "o" if !seen_media => origin = Some(parse_origin(value)?),
            "m" => {
                seen_media = true;
                in_audio = false;
                if audio.is_none() && value.starts_with("audio ") {
                    audio = Some(Audio::parse(value)?);
                    in_audio = true;
                }
            }
            // Unusable c= lines are skipped; a missing address is reported below.
            "c" => {
                if let Some(addr) = parse_connection(value) {
                    if !seen_media {
                        session_conn = Some(addr);
                    } else if in_audio && let Some(a) = audio.as_mut() {
                        // RFC 4566 §5.7: media-level c= overrides session level.
                        a.conn = Some(addr);
                    }
                }
            }
            "a" => {
                let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                if !seen_media {
                    if let Some(d) = Direction::from_attr(name) {
                        session_dir = Some(d);
                    } else if name == "ptime" {
                        session_ptime = arg.trim().parse().ok();
                    }
                } else if in_audio && let Some(a) = audio.as_mut() {
                    a.attribute(name, arg);
                }
            }
            _ => {}
        }
    }

    let (origin_session_id, version) = origin.ok_or(SdpError::BadOrigin)?;
    let audio = audio.ok_or(SdpError::NoAudio)?;
    let connection = audio.conn.or(session_conn).ok_or(SdpError::BadConnection)?;
    let formats = audio
        .pts
        .iter()
        .filter_map(|&pt| {
            let (encoding, clock_rate) = match audio.rtpmap.iter().find(|(p, ..)| *p == pt) {
                Some((_, e, c)) => (e.clone(), *c),
                None => static_format(pt)?,
            };
            let fmtp = audio
                .fmtp
                .iter()
                .find(|(p, _)| *p == pt)
                .map(|(_, f)| f.clone());
            Some(Format {
                pt: PayloadType(pt),
                encoding,
                clock_rate,
                fmtp,
            })
        })
        .collect();
    Ok(SessionDescription {
        origin_session_id,
        version,
        connection,
        port: audio.port,
        formats,
        direction: audio.dir.or(session_dir).unwrap_or(Direction::SendRecv),
        ptime: audio.ptime.or(session_ptime),
        protocol: audio.proto,
        crypto: audio.crypto,
        rtcp_mux: audio.rtcp_mux,
        rtcp_port: audio.rtcp_port,
    })
}

/// The first audio section while parsing.
struct Audio {
    port: u16,
    pts: Vec<u8>,
    conn: Option<IpAddr>,
    rtpmap: Vec<(u8, String, u32)>,
    fmtp: Vec<(u8, String)>,
    dir: Option<Direction>,
    ptime: Option<u32>,
    proto: String,
    crypto: Vec<Crypto>,
    rtcp_mux: bool,
    rtcp_port: Option<u16>,
}

impl Audio {
    /// Parses `audio <port>[/<n>] <proto> <fmt>...`.
    fn parse(value: &str) -> Result<Audio, SdpError> {
        let mut it = value.split_whitespace().skip(1);
        let port = it.next().ok_or(SdpError::BadMedia)?;
        let port = port.split('/').next().unwrap_or(port);
        let port = port.parse().map_err(|_| SdpError::BadMedia)?;
        let proto = it.next().ok_or(SdpError::BadMedia)?.to_string();
        // Non-numeric or out-of-range formats cannot be RTP payload types.
        let pts = it
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|&p| p < 128)
            .collect();
        Ok(Audio {
            port,
            pts,
            conn: None,
            rtpmap: Vec::new(),
            fmtp: Vec::new(),
            dir: None,
            ptime: None,
            proto,
            crypto: Vec::new(),
            rtcp_mux: false,
            rtcp_port: None,
        })
    }

    fn attribute(&mut self, name: &str, arg: &str) {
        if let Some(d) = Direction::from_attr(name) {
            self.dir = Some(d);
            return;
        }
        let arg = arg.trim();
        match name {
            "ptime" => self.ptime = arg.parse().ok(),
            "rtcp-mux" => self.rtcp_mux = true,
            // `a=rtcp:<port> [IN IP4 <addr>]`: the port only (the address is c='s).
            "rtcp" => self.rtcp_port = arg.split_whitespace().next().and_then(|p| p.parse().ok()),
            "crypto" => {
                if let Some(c) = Crypto::parse(arg) {
                    self.crypto.push(c);
                }
            }
            "rtpmap" => {
                // <pt> <encoding>/<clock>[/<channels>]
                let Some((pt, rest)) = arg.split_once(' ') else {
                    return;
                };
                let mut enc = rest.trim().split('/');
                let (Ok(pt), Some(name), Some(Ok(clock))) =
                    (pt.parse(), enc.next(), enc.next().map(str::parse))
                else {
                    return;
                };
                self.rtpmap.push((pt, name.to_string(), clock));
            }
            "fmtp" => {
                if let Some((pt, params)) = arg.split_once(' ')
                    && let Ok(pt) = pt.parse()
                {
                    self.fmtp.push((pt, params.trim().to_string()));
                }
            }
            _ => {}
        }
    }
}

/// Static payload types usable without `a=rtpmap` (RFC 3551 §6, table 4).
fn static_format(pt: u8) -> Option<(String, u32)> {
    let name = match pt {
        0 => "PCMU",
        3 => "GSM",
        8 => "PCMA",
        9 => "G722",
        18 => "G729",
        _ => return None,
    };
    Some((name.to_string(), 8000))
}

/// `o=<user> <sess-id> <sess-version> <nettype> <addrtype> <addr>`.
fn parse_origin(value: &str) -> Result<(u64, u64), SdpError> {
    let mut it = value.split_whitespace().skip(1);
    let mut num = || {
        it.next()
            .and_then(|v| v.parse().ok())
            .ok_or(SdpError::BadOrigin)
    };
    Ok((num()?, num()?))
}

/// `c=IN IP4 <addr>[/<ttl>]`.
fn parse_connection(value: &str) -> Option<IpAddr> {
    let addr = value.split_whitespace().nth(2)?;
    let addr = addr.split('/').next().unwrap_or(addr);
    addr.parse().ok()
}

/// What both sides agreed on for the audio stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Voice codec.
    pub codec: Codec,
    /// Payload type the far end uses for it.
    pub codec_pt: PayloadType,
    /// Telephone-event payload type, if the far end accepted it.
    pub dtmf_pt: Option<PayloadType>,
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// Far end's direction attribute.
    pub direction: Direction,
    /// The far end's first usable `a=crypto` (SDES key), if any.
    pub crypto: Option<Crypto>,
    /// The far end used `RTP/SAVP`.
    pub savp: bool,
    /// The far end's SDP has `a=rtcp-mux` (RFC 5761): RTCP goes on the RTP port.
    pub rtcp_mux: bool,
    /// Where the far end wants RTCP when not muxed (`a=rtcp`, else RTP's port + 1).
    pub rtcp_port: Option<u16>,
}

/// Picks the codec and DTMF payload type from the far end's SDP.
pub fn negotiate(answer: &SessionDescription) -> Result<Negotiated, SdpError> {
    // RFC 3264 §6: port 0 marks a rejected stream.
    if answer.port == 0 {
        return Err(SdpError::Rejected);
    }
    let (codec, codec_pt) = answer
        .formats
        .iter()
        .filter(|f| f.clock_rate == 8000)
        .find_map(|f| {
            let codec = if f.encoding.eq_ignore_ascii_case("PCMU") {
                Codec::Pcmu
            } else if f.encoding.eq_ignore_ascii_case("PCMA") {
                Codec::Pcma
            } else {
                return None;
            };
            Some((codec, f.pt))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf_pt = answer
        .formats
        .iter()
        .find(|f| f.clock_rate == 8000 && f.encoding.eq_ignore_ascii_case("telephone-event"))
        .map(|f| f.pt);
    Ok(Negotiated {
        codec,
        codec_pt,
        dtmf_pt,
        remote: SocketAddr::new(answer.connection, answer.port),
        direction: answer.direction,
        crypto: answer.crypto.first().copied(),
        savp: answer.secure_profile(),
        rtcp_mux: answer.rtcp_mux,
        rtcp_port: answer.rtcp_port,
    })
}

#[cfg(test)]
#[path = "sdp_tests.rs"]
mod tests;
