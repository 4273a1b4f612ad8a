//! One OPTIONS request to a trunk (RFC 3261 §11): the health pings of `serve` and
//! `hotline trunk-test`. Any final response means the trunk is there (even 404 or 405); a
//! 401/407 is answered once with the trunk's credentials, as a carrier that challenges
//! everything expects.

use super::decode::Decoded;
use super::digest;
use super::encode::Credentials;
use super::endpoint::{Endpoint, Inbound};
use crate::call::{AuthPolicy, Authorization, DigestSession};
use rsipstack::sip::headers::make_header;
use rsipstack::sip::{self as rsip, Headers, Uri, Version};
use std::net::SocketAddr;
use std::time::Duration;

/// Where and as whom to ping.
#[derive(Clone, Debug)]
pub struct OptionsTarget {
    /// The Request-URI: the trunk's proxy, e.g. `sip:sip.carrier.example`.
    pub uri: String,
    /// Where the request goes (the proxy's resolved address).
    pub dest: SocketAddr,
    /// Our From URI, e.g. `sip:hotline@carrier.example`.
    pub from: String,
    /// Our address in Via (the advertised one behind NAT).
    pub via: SocketAddr,
    pub credentials: Option<Credentials>,
    /// Realms to answer; empty: only challenges from `dest`.
    pub realms: Vec<String>,
    pub user_agent: String,
}

/// The trunk's final answer to one OPTIONS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionsReply {
    pub code: u16,
    pub reason: String,
    /// From the (last) request sent to its final response.
    pub rtt: Duration,
    /// A 401/407 came first and was answered with the credentials.
    pub authenticated: bool,
    /// Where the response came from.
    pub from: SocketAddr,
}

fn build(
    t: &OptionsTarget,
    ep: &Endpoint,
    call_id: &str,
    cseq: u32,
    auth: &[Authorization],
    cnonce_key: &str,
) -> Result<Vec<u8>, String> {
    let uri: Uri = t
        .uri
        .as_str()
        .try_into()
        .map_err(|e| format!("bad trunk uri: {e}"))?;
    let mut hs = Headers::default();
    let h = |n: &str, v: String| make_header(n, v);
    hs.push(h(
        "Via",
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{call_id}.{cseq};rport",
            ep.transport().via_name(),
            t.via
        ),
    ));
    hs.push(h("Max-Forwards", "70".into()));
    hs.push(h("From", format!("<{}>;tag={call_id}", t.from)));
    hs.push(h("To", format!("<{}>", t.uri)));
    hs.push(h("Call-ID", call_id.to_string()));
    hs.push(h("CSeq", format!("{cseq} OPTIONS")));
    hs.push(h("Accept", "application/sdp".into()));
    hs.push(h("User-Agent", t.user_agent.clone()));
    if let Some(c) = &t.credentials {
        let digest_uri = uri.to_string();
        let who = (c.username.as_str(), c.password.as_str());
        for (name, v) in digest::answers(auth, who, "OPTIONS", &digest_uri, b"", cnonce_key) {
            hs.push(h(name, v));
        }
    }
    hs.push(h("Content-Length", "0".into()));
    Ok(rsip::Request {
        method: rsip::Method::Options,
        uri,
        version: Version::V2,
        headers: hs,
        body: Vec::new(),
    }
    .to_bytes())
}

/// Sends one OPTIONS to `t.dest` and waits up to `timeout` for its final response (a
/// challenge answered once). Err: why nothing usable came back (connection refused, TLS
/// handshake failure, ICMP port unreachable, no reply in time).
pub async fn options_once(
    ep: &Endpoint,
    t: &OptionsTarget,
    timeout: Duration,
) -> Result<OptionsReply, String> {
    let call_id = format!("opt{:016x}", rand::random::<u64>());
    let mut rx = ep.register(&call_id);
    let r = tokio::time::timeout(timeout, exchange(ep, t, &call_id, &mut rx)).await;
    ep.unregister(&call_id);
    match r {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no reply to OPTIONS within {} ms",
            timeout.as_millis()
        )),
    }
}

async fn exchange(
    ep: &Endpoint,
    t: &OptionsTarget,
    call_id: &str,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Inbound>,
) -> Result<OptionsReply, String> {
    let policy = AuthPolicy {
        realms: t.realms.clone(),
        trunk: t.dest,
    };
    let mut digest = DigestSession::default();
    let cnonce_key = format!("{:032x}", rand::random::<u128>());
    let mut auth = Vec::new();
    let mut authenticated = false;
    // One challenge answered; a second one is the answer.
    for cseq in 1..=2u32 {
        let bytes = build(t, ep, call_id, cseq, &auth, &cnonce_key)?;
        let sent = ep
            .send(t.dest, &bytes)
            .await
            .map_err(|e| format!("trunk unreachable: {e}"))?;
        let (resp, from, at) = loop {
            match rx.recv().await {
                Some(Inbound::Message {
                    msg: Decoded::Response { resp, .. },
                    from,
                    at,
                }) if resp.cseq == cseq && resp.status >= 200 => break (resp, from, at),
                Some(Inbound::Unreachable { to, error }) if to == t.dest => {
                    return Err(format!("trunk unreachable: {error}"));
                }
                Some(Inbound::TransportError(e)) => return Err(format!("trunk unreachable: {e}")),
                Some(_) => continue,
                None => return Err("endpoint closed".into()),
            }
        };
        let challenged = matches!(resp.status, 401 | 407) && !resp.challenges.is_empty();
        if challenged && cseq == 1 && t.credentials.is_some() {
            auth = digest
                .on_challenge(&resp.challenges, Some(from), &policy)
                .map_err(|e| format!("OPTIONS {}: {}", resp.status, e.reason()))?;
            authenticated = true;
            continue;
        }
        return Ok(OptionsReply {
            code: resp.status,
            reason: resp.reason,
            rtt: at.saturating_duration_since(sent),
            authenticated,
            from,
        });
    }
    Err("OPTIONS credentials rejected".into())
}
