//! The few UAS-side builders the simulated vendor line needs (`hotline sim-vendor`): answer
//! an INVITE and hang up from the called side. hotline itself never answers calls.

use super::decode::InboundRequest;
use super::encode::encode_response_raw;
use super::transport::Transport;
use crate::call::Tag;
use rsipstack::sip::headers::make_header;
use rsipstack::sip::prelude::*;
use rsipstack::sip::{self as rsip, Header, Headers, Uri, Version};
use std::net::SocketAddr;

/// A response to `req` with our tag on the To header.
pub fn respond(
    req: &InboundRequest,
    status: u16,
    local_tag: &Tag,
    contact: &str,
    user_agent: &str,
    sdp: Option<&str>,
) -> Vec<u8> {
    encode_response_raw(
        &req.0,
        status,
        Some(local_tag),
        Some(contact),
        user_agent,
        sdp,
    )
}

/// The caller's Contact URI.
pub fn contact_of(req: &InboundRequest) -> Option<String> {
    req.0.headers.iter().find_map(|h| match h {
        Header::Contact(c) => c.typed().ok().map(|t| t.uri.to_string()),
        _ => None,
    })
}

/// A BYE from the called side of the dialog `invite` created (RFC 3261 §15.1.1: From and To
/// swap roles).
pub fn bye_for(
    invite: &InboundRequest,
    local_tag: &Tag,
    cseq: u32,
    via: SocketAddr,
    transport: Transport,
) -> Result<Vec<u8>, String> {
    let target = contact_of(invite).ok_or("INVITE without Contact")?;
    let uri: Uri = target
        .as_str()
        .try_into()
        .map_err(|e| format!("bad contact: {e}"))?;
    let mut from = None;
    let mut to = None;
    let mut call_id = None;
    for h in invite.0.headers.iter() {
        match h {
            Header::From(f) => from = Some(f.value().to_string()),
            Header::To(t) => to = Some(t.value().to_string()),
            Header::CallId(c) => call_id = Some(c.value().to_string()),
            _ => {}
        }
    }
    let (from, to, call_id) = (
        from.ok_or("no From")?,
        to.ok_or("no To")?,
        call_id.ok_or("no Call-ID")?,
    );
    let mut hs = Headers::default();
    let h = |n: &str, v: String| make_header(n, v);
    hs.push(h(
        "Via",
        format!(
            "SIP/2.0/{} {via};branch=z9hG4bKbye{local_tag}{cseq};rport",
            transport.via_name()
        ),
    ));
    hs.push(h("Max-Forwards", "70".into()));
    hs.push(h("From", format!("{to};tag={local_tag}")));
    hs.push(h("To", from));
    hs.push(h("Call-ID", call_id));
    hs.push(h("CSeq", format!("{cseq} BYE")));
    hs.push(h("Content-Length", "0".into()));
    Ok(rsip::Request {
        method: rsip::Method::Bye,
        uri,
        version: Version::V2,
        headers: hs,
        body: Vec::new(),
    }
    .to_bytes())
}
