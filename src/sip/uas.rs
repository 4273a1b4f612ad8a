//! UAS-side pieces: answer an INVITE and hang up from the called side (the simulated vendor
//! line, `hotline sim-vendor`), and read an inbound INVITE into what the inbound call core
//! (`call::InboundCall`) and the callback screening need: [`offer_of`], [`caller_of`].

use super::decode::InboundRequest;
use super::encode::encode_response_raw;
use super::transport::Transport;
use crate::call::{Offer, Request, Tag};
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

/// An initial INVITE (decoded as `req`, kept as `raw`) as the inbound call core takes it:
/// the caller's tag, Contact and Record-Route (RFC 3261 §12.1.1). No From tag: an error
/// (the edge answers 400).
pub fn offer_of(req: &Request, raw: &InboundRequest) -> Result<Offer, String> {
    let mut from_tag = None;
    let mut record_route = Vec::new();
    for h in raw.0.headers.iter() {
        match h {
            Header::From(f) if from_tag.is_none() => {
                from_tag = f.value().split(';').skip(1).find_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("tag")
                        .then(|| Tag(v.trim().to_string()))
                });
            }
            Header::RecordRoute(r) => record_route.extend(
                r.value()
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty()),
            ),
            _ => {}
        }
    }
    Ok(Offer {
        handle: req.handle,
        branch: req.branch.clone(),
        cseq: req.cseq,
        from_tag: from_tag.ok_or("INVITE without a From tag")?,
        contact: contact_of(raw),
        record_route,
        sdp: req.sdp.clone(),
    })
}

/// The caller: the From URI's user part (`+15550100177` in `sip:+15550100177@trunk`), or
/// the whole URI when it has none. Matching compares it with the dialplans' contacts; it is
/// shown redacted in logs.
pub fn caller_of(raw: &InboundRequest) -> Option<String> {
    raw.0.headers.iter().find_map(|h| match h {
        Header::From(f) => f.typed().ok().map(|t| match &t.uri.auth {
            Some(a) => a.user.clone(),
            None => t.uri.to_string(),
        }),
        _ => None,
    })
}

/// The INVITE's From and To URIs (without display name or tag): the caller's address of
/// record, and the callback line's as the caller dialled it. Our BYE swaps them (§15.1.1).
pub fn parties_of(raw: &InboundRequest) -> Option<(String, String)> {
    let mut from = None;
    let mut to = None;
    for h in raw.0.headers.iter() {
        match h {
            Header::From(f) if from.is_none() => from = f.typed().ok().map(|t| t.uri.to_string()),
            Header::To(t) if to.is_none() => to = t.typed().ok().map(|t| t.uri.to_string()),
            _ => {}
        }
    }
    Some((from?, to?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Branch, RequestHandle};
    use crate::sip::{Decoded, decode};

    const INVITE: &str = "INVITE sip:+15550100200@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5091;branch=z9hG4bK-vendor-1\r\n\
Max-Forwards: 70\r\n\
From: \"Vendor\" <sip:+15550100177@127.0.0.1:5091>;tag=vtag1\r\n\
To: <sip:+15550100200@127.0.0.1:5060>\r\n\
Call-ID: cb-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:vendor@127.0.0.1:5091>\r\n\
Record-Route: <sip:p1@127.0.0.1;lr>, <sip:p2@127.0.0.1;lr>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

    #[test]
    fn an_invite_becomes_an_offer_with_its_caller() {
        let Decoded::Request { req, raw, .. } =
            decode(INVITE.as_bytes(), RequestHandle(5)).expect("decodes")
        else {
            panic!("a request");
        };
        let offer = offer_of(&req, &raw).expect("offer");
        assert_eq!(offer.from_tag, Tag("vtag1".into()));
        assert_eq!(offer.branch, Branch("z9hG4bK-vendor-1".into()));
        assert_eq!(offer.contact.as_deref(), Some("sip:vendor@127.0.0.1:5091"));
        assert_eq!(
            offer.record_route,
            vec!["<sip:p1@127.0.0.1;lr>", "<sip:p2@127.0.0.1;lr>"]
        );
        assert_eq!(offer.sdp.as_deref(), Some("v=0\n"));
        assert_eq!(caller_of(&raw).as_deref(), Some("+15550100177"));
        assert_eq!(raw.uri_user().as_deref(), Some("+15550100200"));
        assert_eq!(
            parties_of(&raw),
            Some((
                "sip:+15550100177@127.0.0.1:5091".into(),
                "sip:+15550100200@127.0.0.1:5060".into()
            ))
        );
        let no_tag = INVITE.replace(";tag=vtag1", "");
        let Decoded::Request { req, raw, .. } =
            decode(no_tag.as_bytes(), RequestHandle(6)).expect("decodes")
        else {
            panic!("a request");
        };
        assert!(offer_of(&req, &raw).is_err());
    }
}
