//! Ends an orphaned dialog: a call hotline answered and then lost (crash, kill) is still up at
//! the far end. From the dialog persisted at answer, one BYE transaction (the pure
//! `call::ByeTx`) runs over the endpoint; its outcome and every send go on the call's
//! timeline.

use crate::call::{
    Branch, ByeEnd, ByeOutput, ByeTx, CallId, Clock, DialogState, EventKind, Method, OutResponse,
    Tag,
};
use crate::config::Config;
use crate::sip::{
    Credentials, Decoded, Endpoint, Inbound, SipContext, encode_request, encode_response,
};
use crate::store::StoredDialog;
use chrono::{DateTime, Utc};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What became of one orphaned dialog's BYE.
#[derive(Debug)]
pub struct Ended {
    pub end: ByeEnd,
    /// Timeline entries, in order.
    pub events: Vec<(DateTime<Utc>, EventKind)>,
}

/// Sends the BYE of `d` (retransmitted until answered or Timer F) and returns how it went.
pub async fn end_dialog(ep: &Endpoint, cfg: &Config, d: &StoredDialog, reason: &str) -> Ended {
    let clock = Clock::now();
    let mut events = Vec::new();
    let dest: SocketAddr = match d.destination.parse() {
        Ok(a) => a,
        Err(e) => {
            let reason = format!("bad stored destination {}: {e}", d.destination);
            events.push((
                Utc::now(),
                EventKind::ByeFailed {
                    reason: reason.clone(),
                },
            ));
            return Ended {
                end: ByeEnd::Failed { reason },
                events,
            };
        }
    };
    if d.transport != ep.transport().via_name() {
        tracing::warn!(
            call = d.call_id,
            was = d.transport,
            now = ep.transport().via_name(),
            "the dialog's transport is not the one configured now; sending over the current one"
        );
    }
    if ep.transport() == crate::sip::Transport::Tls {
        // The names the trunk's certificate is checked against (a restart forgot them):
        // learnt again from the dialog's URIs and the proxy.
        let proxy = cfg.sip.proxy.as_ref().map(|p| p.as_str().to_string());
        for uri in d.route_set.iter().chain(&d.remote_target).chain(&proxy) {
            let _ = ep.resolve(uri).await;
        }
    }
    let via = SocketAddr::new(cfg.media.advertise, ep.local_addr().port());
    let ctx = SipContext {
        call_id: CallId(d.call_id.clone()),
        local_tag: Tag(d.local_tag.clone()),
        from_uri: d.local_uri.clone(),
        // Tags identify the dialog; the BYE carries no caller ID.
        from_display: None,
        asserted_identity: None,
        request_uri: d.remote_uri.clone(),
        contact: format!(
            "sip:{}@{via}{}",
            cfg.sip.from_user,
            ep.transport().uri_param()
        ),
        via,
        transport: ep.transport(),
        user_agent: super::build_call::user_agent_of(cfg),
        credentials: cfg.sip.auth.as_ref().map(|a| Credentials {
            username: a.username.clone(),
            password: a.password.expose().to_string(),
        }),
        cnonce: format!("{:016x}", rand::random::<u64>()),
    };
    let dialog = DialogState {
        remote_tag: Tag(d.remote_tag.clone()),
        target: d.remote_target.clone(),
        routes: d.route_set.clone(),
        next_cseq: d.next_cseq,
    };
    // 96 random bits: never derivable from the Call-ID (security review finding 3).
    let branch = Branch(format!("z9hG4bK{:024x}", rand::random::<u128>() >> 32));
    let policy = cfg.sip.auth.as_ref().map(|a| crate::call::AuthPolicy {
        realms: a.realm.clone(),
        trunk: dest,
    });
    let mut inbound = ep.register(&d.call_id);
    let mut tx = ByeTx::new(
        Instant::now(),
        &dialog,
        branch,
        reason,
        ep.transport().reliable(),
        policy,
    );
    let end = loop {
        let mut end = None;
        while let Some(out) = tx.poll_output() {
            match out {
                ByeOutput::Send { req, note } => {
                    let sent = match encode_request(&ctx, &req) {
                        Ok(bytes) => ep.send(dest, &bytes).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    };
                    match sent {
                        Ok(at) => events.push((clock.utc(at), note)),
                        Err(e) => tx.handle_transport_error(Instant::now(), &e),
                    }
                }
                ByeOutput::Event { at, kind } => events.push((clock.utc(at), kind)),
                ByeOutput::Done(e) => end = Some(e),
            }
        }
        if let Some(e) = end {
            break e;
        }
        let wake = tx
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                tx.handle_timeout(Instant::now());
            }
            msg = inbound.recv() => match msg {
                Some(Inbound::Message { at, from, msg }) => match msg {
                    // Only from where the BYE went: anything else is forged or stray.
                    Decoded::Response { resp, .. } if from == dest => tx.handle_response(at, &resp),
                    Decoded::Response { resp, .. } => {
                        tracing::warn!(%from, code = resp.status, "sip response from an address we sent nothing to: dropped");
                    }
                    // The far end hung up as our BYE went out: answer it (§15.1.2).
                    Decoded::Request { req, raw, .. } if req.method == Method::Bye => {
                        events.push((clock.utc(at), EventKind::ByeReceived));
                        let ok = OutResponse { handle: req.handle, status: 200, reason: "OK", sdp: None, timer: None };
                        let _ = ep.send(from, &encode_response(&ctx, &raw, &ok)).await;
                    }
                    Decoded::Request { .. } => {}
                },
                Some(Inbound::TransportError(e)) => tx.handle_transport_error(Instant::now(), &e),
                Some(Inbound::Unreachable { to, error }) if to == dest => {
                    tx.handle_transport_error(Instant::now(), &format!("unreachable: {error}"));
                }
                Some(Inbound::Unreachable { .. }) => {}
                None => tx.handle_transport_error(Instant::now(), "endpoint closed"),
            },
        }
    };
    ep.unregister(&d.call_id);
    Ended { end, events }
}
