//! Wire bytes -> `call` inputs. Malformed input is an error, never a panic.

use super::digest::parse_challenge;
use crate::call::{
    Branch, Method, Request, RequestHandle, Response, SessionExpires, Tag, TimerHeaders,
};
use rsipstack::sip::prelude::*;
use rsipstack::sip::{self as rsip, Header, SipMessage};

/// An inbound request kept by the edge so the core can answer it later by handle.
#[derive(Clone, Debug)]
pub struct InboundRequest(pub(crate) rsip::Request);

impl InboundRequest {
    /// The request's method as text.
    pub fn method(&self) -> String {
        self.0.method.to_string()
    }

    /// The user part of the Request-URI (`busy` in `sip:busy@host`).
    pub fn uri_user(&self) -> Option<String> {
        self.0.uri.auth.as_ref().map(|a| a.user.clone())
    }
}

/// A decoded message with its Call-ID, ready to dispatch.
#[derive(Debug)]
pub enum Decoded {
    Response {
        call_id: String,
        resp: Response,
    },
    Request {
        call_id: String,
        req: Request,
        raw: InboundRequest,
    },
}

impl Decoded {
    /// The Call-ID it belongs to.
    pub fn call_id(&self) -> &str {
        match self {
            Decoded::Response { call_id, .. } | Decoded::Request { call_id, .. } => call_id,
        }
    }
}

/// Why a message could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unparseable sip message: {0}")]
    Parse(String),
    /// Parsed, but a mandatory header is missing or bad; a request can still get a 400.
    #[error("bad request: {reason}")]
    BadRequest {
        reason: String,
        raw: Option<Box<InboundRequest>>,
    },
}

fn method(m: &rsip::Method) -> Method {
    match m {
        rsip::Method::Invite => Method::Invite,
        rsip::Method::Ack => Method::Ack,
        rsip::Method::Bye => Method::Bye,
        rsip::Method::Cancel => Method::Cancel,
        rsip::Method::Options => Method::Options,
        rsip::Method::Info => Method::Info,
        rsip::Method::Update => Method::Update,
        other => Method::Other(other.to_string()),
    }
}

fn tag_param(value: &str) -> Option<Tag> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("tag")
            .then(|| Tag(v.trim().to_string()))
    })
}

fn sdp_body(headers: &rsip::Headers, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let is_sdp = headers.iter().any(|h| match h {
        Header::ContentType(ct) => ct.value().to_ascii_lowercase().contains("application/sdp"),
        _ => false,
    });
    is_sdp.then(|| String::from_utf8_lossy(body).into_owned())
}

/// The RFC 4028 headers (long or compact names) and whether `Allow` names UPDATE.
fn timer_headers(headers: &rsip::Headers) -> TimerHeaders {
    let mut t = TimerHeaders::default();
    for header in headers.iter() {
        let (name, value) = (header.name(), header.value());
        let has = |token: &str| {
            value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case(token))
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "session-expires" | "x" if t.session_expires.is_none() => {
                t.session_expires = SessionExpires::parse(value)
            }
            "min-se" if t.min_se.is_none() => t.min_se = crate::call::session_timer_min_se(value),
            "supported" | "k" | "require" => t.supports_timer |= has("timer"),
            "allow" => t.allows_update |= has("update"),
            _ => {}
        }
    }
    t
}

struct Common {
    call_id: String,
    cseq: u32,
    cseq_method: Method,
    branch: Option<Branch>,
    to_tag: Option<Tag>,
}

fn common(headers: &rsip::Headers) -> Result<Common, String> {
    let mut call_id = None;
    let mut cseq = None;
    let mut branch = None;
    let mut to_tag = None;
    for header in headers.iter() {
        match header {
            Header::CallId(c) if call_id.is_none() => call_id = Some(c.value().trim().to_string()),
            Header::CSeq(c) if cseq.is_none() => {
                let typed = c.typed().map_err(|e| format!("bad CSeq: {e}"))?;
                cseq = Some((typed.seq, method(&typed.method)));
            }
            Header::Via(v) if branch.is_none() => {
                let typed = v.typed().map_err(|e| format!("bad Via: {e}"))?;
                branch = Some(typed.branch().map(|b| Branch(b.to_string())));
            }
            Header::To(t) if to_tag.is_none() => to_tag = Some(tag_param(t.value())),
            _ => {}
        }
    }
    let call_id = call_id.filter(|c| !c.is_empty()).ok_or("missing Call-ID")?;
    let (cseq, cseq_method) = cseq.ok_or("missing CSeq")?;
    let branch = branch.ok_or("missing Via")?;
    let to_tag = to_tag.ok_or("missing To")?;
    Ok(Common {
        call_id,
        cseq,
        cseq_method,
        branch,
        to_tag,
    })
}

/// More challenges than this in one response are ignored (a bound on hostile input).
const MAX_CHALLENGES: usize = 8;

/// Parses one SIP message. `handle` names the request if it is one.
pub fn decode(bytes: &[u8], handle: RequestHandle) -> Result<Decoded, DecodeError> {
    let msg = rsip::parser::parse_message(bytes).map_err(|e| DecodeError::Parse(e.to_string()))?;
    match msg {
        SipMessage::Response(r) => {
            let c = common(&r.headers).map_err(DecodeError::Parse)?;
            let mut contact = None;
            let mut record_route = Vec::new();
            let mut challenges = Vec::new();
            for header in r.headers.iter() {
                match header {
                    Header::Contact(ct) if contact.is_none() => {
                        contact = ct.typed().ok().map(|t| t.uri.to_string());
                    }
                    Header::RecordRoute(rr) => {
                        record_route.extend(rr.value().split(',').map(|s| s.trim().to_string()))
                    }
                    // Every challenge offered, in order; one that does not parse is skipped.
                    Header::WwwAuthenticate(w) if challenges.len() < MAX_CHALLENGES => {
                        challenges.extend(parse_challenge(w.value(), false).ok())
                    }
                    Header::ProxyAuthenticate(p) if challenges.len() < MAX_CHALLENGES => {
                        challenges.extend(parse_challenge(p.value(), true).ok())
                    }
                    _ => {}
                }
            }
            let status = r.status_code.code();
            let reason = r
                .wire_reason
                .clone()
                .unwrap_or_else(|| r.status_code.text().to_string());
            let sdp = sdp_body(&r.headers, &r.body);
            let timer = timer_headers(&r.headers);
            Ok(Decoded::Response {
                call_id: c.call_id,
                resp: Response {
                    status,
                    reason,
                    cseq: c.cseq,
                    method: c.cseq_method,
                    branch: c.branch,
                    to_tag: c.to_tag,
                    contact,
                    record_route,
                    sdp,
                    challenges,
                    source: None,
                    timer,
                },
            })
        }
        SipMessage::Request(r) => {
            let raw = InboundRequest(r);
            let c = match common(&raw.0.headers) {
                Ok(c) => c,
                Err(reason) => {
                    return Err(DecodeError::BadRequest {
                        reason,
                        raw: Some(Box::new(raw)),
                    });
                }
            };
            let Some(branch) = c.branch else {
                return Err(DecodeError::BadRequest {
                    reason: "Via without branch".into(),
                    raw: Some(Box::new(raw)),
                });
            };
            let m = method(&raw.0.method);
            if m != c.cseq_method && m != Method::Ack {
                return Err(DecodeError::BadRequest {
                    reason: "CSeq method does not match request method".into(),
                    raw: Some(Box::new(raw)),
                });
            }
            let sdp = sdp_body(&raw.0.headers, &raw.0.body);
            let timer = timer_headers(&raw.0.headers);
            Ok(Decoded::Request {
                call_id: c.call_id,
                req: Request {
                    method: m,
                    cseq: c.cseq,
                    branch,
                    to_tag: c.to_tag,
                    handle,
                    sdp,
                    timer,
                },
                raw,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESP: &str = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx.1\r\nFrom: <sip:a@b>;tag=l\r\nTo: <sip:c@d>;tag=r1\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:5090>\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn decodes_a_provisional() {
        let d = decode(RESP.as_bytes(), RequestHandle(1)).expect("valid");
        let Decoded::Response { call_id, resp } = d else {
            panic!("a response")
        };
        assert_eq!(call_id, "abc");
        assert_eq!(resp.status, 180);
        assert_eq!(resp.to_tag, Some(Tag("r1".into())));
        assert_eq!(resp.branch, Some(Branch("z9hG4bKx.1".into())));
        assert_eq!(resp.contact.as_deref(), Some("sip:c@127.0.0.1:5090"));
    }

    #[test]
    fn reads_session_timer_headers() {
        let text = RESP.replace("180 Ringing", "200 OK").replace(
            "Content-Length: 0",
            "Session-Expires: 90;refresher=uas\r\nk: timer, 100rel\r\n\
                 Allow: INVITE, ACK, BYE, UPDATE\r\nMin-SE: 90\r\nContent-Length: 0",
        );
        let Decoded::Response { resp, .. } =
            decode(text.as_bytes(), RequestHandle(1)).expect("valid")
        else {
            panic!("a response")
        };
        let t = resp.timer;
        assert_eq!(t.session_expires.map(|s| s.secs), Some(90));
        assert_eq!(
            t.session_expires.and_then(|s| s.refresher),
            Some(crate::call::Refresher::Uas)
        );
        assert_eq!(t.min_se, Some(90));
        assert!(t.supports_timer && t.allows_update);
        // Compact Session-Expires, no Allow: no UPDATE.
        let text = RESP.replace("Content-Length: 0", "x: 1800\r\nContent-Length: 0");
        let Decoded::Response { resp, .. } =
            decode(text.as_bytes(), RequestHandle(1)).expect("valid")
        else {
            panic!("a response")
        };
        assert_eq!(resp.timer.session_expires.map(|s| s.secs), Some(1800));
        assert!(!resp.timer.allows_update && !resp.timer.supports_timer);
    }

    #[test]
    fn garbage_never_panics() {
        let samples: [&[u8]; 8] = [
            b"",
            b"\r\n\r\n",
            b"INVITE\r\n\r\n",
            b"SIP/2.0 abc\r\n\r\n",
            b"BYE sip:x SIP/2.0\r\nCSeq: x\r\n\r\n",
            b"BYE sip:x SIP/2.0\r\nCall-ID: a\r\nCSeq: 1 BYE\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:x>\r\n\r\n",
            b"SIP/2.0 200 OK\r\nContent-Length: 99999\r\n\r\n",
            &[0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a],
        ];
        for s in samples {
            let _ = decode(s, RequestHandle(0));
        }
        // Every truncation of a valid message is handled too.
        for n in 0..RESP.len() {
            let _ = decode(&RESP.as_bytes()[..n], RequestHandle(0));
        }
    }
}
