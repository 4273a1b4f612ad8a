//! One datagram into the SIP edge as the endpoint handles it: `sip::decode` (our wrapper
//! around rsipstack's parser); a bad request gets its 400, an out-of-dialog request its
//! answer; a response's challenges go through the digest session and its Contact and
//! Record-Route into the ACK and BYE we would send (then parsed back).
#![no_main]

use std::net::SocketAddr;

use hotline::call::{
    AuthPolicy, Branch, CallId, DigestSession, Method, OutRequest, RequestHandle, Tag,
};
use hotline::media::sdp;
use hotline::sip::{
    Credentials, DecodeError, Decoded, SipContext, Transport, decode, encode_request, uas,
};
use libfuzzer_sys::fuzz_target;

const UA: &str = "hotline-fuzz";

fn trunk() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5060))
}

fn context(call_id: &str) -> SipContext {
    SipContext {
        call_id: CallId(call_id.to_string()),
        local_tag: Tag("l0cal".into()),
        from_uri: "sip:hotline@127.0.0.1".into(),
        request_uri: "sip:support@127.0.0.1:5090".into(),
        contact: "sip:hotline@127.0.0.1:5070".into(),
        via: SocketAddr::from(([127, 0, 0, 1], 5070)),
        transport: Transport::Udp,
        user_agent: UA.into(),
        credentials: Some(Credentials {
            username: "hotline".into(),
            password: "secret".into(),
        }),
        cnonce: "fuzzkey".into(),
    }
}

fuzz_target!(|bytes: &[u8]| {
    match decode(bytes, RequestHandle(7)) {
        Err(DecodeError::BadRequest { raw: Some(raw), .. }) => {
            let reply = uas::respond(&raw, 400, &Tag("l0cal".into()), "sip:h@127.0.0.1", UA, None);
            let _ = decode(&reply, RequestHandle(8));
        }
        Err(_) => {}
        Ok(Decoded::Request { req, raw, .. }) => {
            let status = match req.method {
                Method::Options => 200,
                Method::Invite => 403,
                _ => 481,
            };
            let reply = uas::respond(
                &raw,
                status,
                &Tag("l0cal".into()),
                "sip:h@127.0.0.1",
                UA,
                None,
            );
            let _ = decode(&reply, RequestHandle(8));
            let _ = (raw.method(), raw.uri_user(), uas::contact_of(&raw));
            let _ = uas::bye_for(&raw, &Tag("l0cal".into()), 2, trunk(), Transport::Udp);
            if let Some(body) = &req.sdp {
                let _ = sdp::parse(body).map(|d| sdp::negotiate(&d));
            }
        }
        Ok(Decoded::Response { call_id, resp }) => {
            if let Some(body) = &resp.sdp {
                let _ = sdp::parse(body).map(|d| sdp::negotiate(&d));
            }
            let policy = AuthPolicy {
                realms: Vec::new(),
                trunk: trunk(),
            };
            let mut digest = DigestSession::default();
            digest.new_request();
            let auth = digest
                .on_challenge(&resp.challenges, Some(trunk()), &policy)
                .unwrap_or_default();
            let ctx = context(&call_id);
            // RFC 3261 §12.1.2: the route set is the Record-Route reversed.
            let routes: Vec<String> = resp.record_route.iter().rev().cloned().collect();
            for (method, target) in [
                (Method::Invite, None),
                (Method::Ack, resp.contact.clone()),
                (Method::Bye, resp.contact.clone()),
            ] {
                let out = OutRequest {
                    method,
                    cseq: resp.cseq.wrapping_add(1),
                    branch: resp.branch.clone().unwrap_or(Branch("z9hG4bKfuzz".into())),
                    to_tag: resp.to_tag.clone(),
                    target,
                    routes: routes.clone(),
                    sdp: None,
                    auth: auth.clone(),
                    reason: Some(resp.reason.clone()),
                };
                if let Ok(wire) = encode_request(&ctx, &out) {
                    let _ = decode(&wire, RequestHandle(9));
                }
            }
        }
    }
});
