//! `call` outputs -> wire bytes, built with rsip's message types.

use super::decode::InboundRequest;
use super::digest;
use super::transport::Transport;
use crate::call::{CallId, Method, OutRequest, OutResponse, Tag};
use rsipstack::sip::headers::make_header;
use rsipstack::sip::{self as rsip, HasHeaders, Header, Headers, Uri, Version};

/// Username and password for digest challenges (from `hotline.toml`, never from a request).
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// Per-call constants the edge needs to build messages.
#[derive(Clone, Debug)]
pub struct SipContext {
    pub call_id: CallId,
    pub local_tag: Tag,
    /// Our address-of-record, e.g. `sip:hotline@127.0.0.1`.
    pub from_uri: String,
    /// The From display name (a trunk's `caller_id.display`), quoted on the wire.
    pub from_display: Option<String>,
    /// `P-Asserted-Identity` (RFC 3325) on our INVITEs, with `Privacy: none` (RFC 3323) so
    /// the number is shown: a trunk's `caller_id.asserted`.
    pub asserted_identity: Option<String>,
    /// The dialled URI: Request-URI and To of the initial INVITE (from the dialplan only).
    pub request_uri: String,
    /// Our Contact URI (where the far end sends in-dialog requests).
    pub contact: String,
    /// Via sent-by.
    pub via: std::net::SocketAddr,
    pub transport: Transport,
    pub user_agent: String,
    pub credentials: Option<Credentials>,
    /// Random per-call key the digest cnonces are derived from (see `digest::cnonce`).
    pub cnonce: String,
}

fn method(m: &Method) -> rsip::Method {
    match m {
        Method::Invite => rsip::Method::Invite,
        Method::Ack => rsip::Method::Ack,
        Method::Bye => rsip::Method::Bye,
        Method::Cancel => rsip::Method::Cancel,
        Method::Options => rsip::Method::Options,
        Method::Info => rsip::Method::Info,
        Method::Update => rsip::Method::Update,
        // We never originate other methods.
        Method::Other(_) => rsip::Method::Options,
    }
}

fn h(name: &str, value: impl Into<String>) -> Header {
    make_header(name, value.into())
}

/// Builds the bytes of one of our requests. Errors only on a malformed URI, which the
/// dialplan loader has already rejected, or an unparseable challenge.
pub fn encode_request(ctx: &SipContext, r: &OutRequest) -> Result<Vec<u8>, String> {
    let target = r.target.as_deref().unwrap_or(&ctx.request_uri);
    let uri: Uri = target
        .try_into()
        .map_err(|e| format!("bad request uri {target}: {e}"))?;
    let mut hs = Headers::default();
    hs.push(h(
        "Via",
        format!(
            "SIP/2.0/{} {};branch={};rport",
            ctx.transport.via_name(),
            ctx.via,
            r.branch
        ),
    ));
    hs.push(h("Max-Forwards", "70"));
    for route in &r.routes {
        hs.push(h("Route", route.clone()));
    }
    let display = match &ctx.from_display {
        // RFC 3261 §25.1 quoted-string: `"` and `\` escaped.
        Some(d) => format!("\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\"")),
        None => String::new(),
    };
    hs.push(h(
        "From",
        format!("{display}<{}>;tag={}", ctx.from_uri, ctx.local_tag),
    ));
    let to = match &r.to_tag {
        Some(t) => format!("<{}>;tag={t}", ctx.request_uri),
        None => format!("<{}>", ctx.request_uri),
    };
    hs.push(h("To", to));
    hs.push(h("Call-ID", ctx.call_id.to_string()));
    hs.push(h("CSeq", format!("{} {}", r.cseq, r.method)));
    if matches!(r.method, Method::Invite | Method::Update) {
        hs.push(h("Contact", format!("<{}>", ctx.contact)));
        hs.push(h(
            "Allow",
            "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
        ));
    }
    if let (Method::Invite, Some(pai)) = (&r.method, &ctx.asserted_identity) {
        hs.push(h("P-Asserted-Identity", format!("<{pai}>")));
        hs.push(h("Privacy", "none"));
    }
    if let Some(t) = &r.timer {
        // RFC 4028 §7.1 (our INVITE), §7.4 (our refresh).
        hs.push(h("Supported", "timer"));
        hs.push(h("Session-Expires", t.expires.value()));
        hs.push(h("Min-SE", t.min_se.to_string()));
    }
    hs.push(h("User-Agent", ctx.user_agent.clone()));
    if let Some(cred) = &ctx.credentials {
        // CANCEL cannot be challenged (§22.1); the ACK for a 2xx carries the INVITE's
        // credentials (§13.2.2.4, §22.1): same method, URI, nc and cnonce as the INVITE.
        // The digest-uri is the Request-URI exactly as written on the request line.
        let (m, digest_uri, body) = if r.method == Method::Ack {
            let invite_uri = Uri::try_from(ctx.request_uri.as_str())
                .map_err(|e| format!("bad request uri {}: {e}", ctx.request_uri))?;
            ("INVITE".to_string(), invite_uri.to_string(), &[][..])
        } else {
            let b = r.sdp.as_deref().unwrap_or_default().as_bytes();
            (r.method.to_string(), uri.to_string(), b)
        };
        let who = (cred.username.as_str(), cred.password.as_str());
        for (name, value) in digest::answers(&r.auth, who, &m, &digest_uri, body, &ctx.cnonce) {
            hs.push(h(name, value));
        }
    }
    if let Some(reason) = &r.reason {
        let cause = if r.method == Method::Cancel { 487 } else { 200 };
        hs.push(h(
            "Reason",
            format!("SIP;cause={cause};text=\"{}\"", reason.replace('"', "'")),
        ));
    }
    let body = r.sdp.clone().unwrap_or_default().into_bytes();
    if !body.is_empty() {
        hs.push(h("Content-Type", "application/sdp"));
    }
    hs.push(h("Content-Length", body.len().to_string()));
    let req = rsip::Request {
        method: method(&r.method),
        uri,
        version: Version::V2,
        headers: hs,
        body,
    };
    Ok(req.to_bytes())
}

/// Builds the bytes of our response to an inbound request (RFC 3261 §8.2.6).
pub fn encode_response(ctx: &SipContext, req: &InboundRequest, r: &OutResponse) -> Vec<u8> {
    let mut extra = Vec::new();
    if let Some(t) = r.timer.filter(|_| (200..300).contains(&r.status)) {
        // RFC 4028 §9: the 2xx to a refresh states the interval and the refresher.
        if t.require {
            extra.push(h("Require", "timer"));
        }
        extra.push(h("Supported", "timer"));
        extra.push(h("Session-Expires", t.expires.value()));
    }
    build_response(
        &req.0,
        r.status,
        Some(&ctx.local_tag),
        Some(&ctx.contact),
        &ctx.user_agent,
        r.sdp.as_deref(),
        extra,
    )
}

/// Builds a response to any parsed request; used also for out-of-dialog answers.
pub(crate) fn encode_response_raw(
    req: &rsip::Request,
    status: u16,
    local_tag: Option<&Tag>,
    contact: Option<&str>,
    user_agent: &str,
    sdp: Option<&str>,
) -> Vec<u8> {
    build_response(req, status, local_tag, contact, user_agent, sdp, Vec::new())
}

fn build_response(
    req: &rsip::Request,
    status: u16,
    local_tag: Option<&Tag>,
    contact: Option<&str>,
    user_agent: &str,
    sdp: Option<&str>,
    extra: Vec<Header>,
) -> Vec<u8> {
    let mut hs = Headers::default();
    for header in req.headers().iter() {
        match header {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                hs.push(header.clone())
            }
            Header::RecordRoute(_) if status < 300 => hs.push(header.clone()),
            Header::To(to) => {
                let v = to.value();
                let has_tag = v.to_ascii_lowercase().contains(";tag=");
                match local_tag {
                    Some(t) if !has_tag && status > 100 => hs.push(h("To", format!("{v};tag={t}"))),
                    _ => hs.push(header.clone()),
                }
            }
            _ => {}
        }
    }
    if let Some(c) = contact
        && status < 300
        && matches!(req.method, rsip::Method::Invite | rsip::Method::Update)
    {
        hs.push(h("Contact", format!("<{c}>")));
    }
    if status == 405 || status == 501 || matches!(req.method, rsip::Method::Options) {
        hs.push(h(
            "Allow",
            "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
        ));
    }
    if matches!(req.method, rsip::Method::Options) && status == 200 {
        hs.push(h("Accept", "application/sdp"));
    }
    for e in extra {
        hs.push(e);
    }
    hs.push(h("Server", user_agent.to_string()));
    let body = sdp.unwrap_or_default().as_bytes().to_vec();
    if !body.is_empty() {
        hs.push(h("Content-Type", "application/sdp"));
    }
    hs.push(h("Content-Length", body.len().to_string()));
    let resp = rsip::Response {
        status_code: status.into(),
        wire_reason: None,
        version: Version::V2,
        headers: hs,
        body,
    };
    // rsip writes the standard reason phrase for the code.
    resp.to_bytes()
}
