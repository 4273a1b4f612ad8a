//! The callback line (issue 11): every new INVITE the endpoint sees is screened here
//! (`ladder::screen`: the `[callback]` number, from a trunk address) before anything exists
//! for it. A refused one gets its 403/404, a counter in `/metrics`, and nothing else: no
//! call core, no dialog, no recording, never an outbound call. An admitted one is matched to
//! its incident (`ladder::match_caller`) and handed to a call task (`callback_call.rs`).

use super::build_call::{bind_rtp, user_agent_of};
use super::callback_call::{self, Admitted};
use super::service::Service;
use crate::call::{CallId, InboundParams, Tag};
use crate::ladder::{Credentials, OpenIncident, Screen, match_caller, screen};
use crate::sip::{Decoded, Endpoint, Inbound, InboundRequest, SipContext, uas};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Calls to the callback line at once; more get 486 Busy Here (an INVITE flood from an
/// allowed address cannot take every RTP port).
pub const MAX_CALLBACKS: usize = 16;

/// How long the caller hears ringing before hotline answers (CANCEL before answer is
/// possible; the prompts are ready before the 100 Trying).
const RING_BEFORE_ANSWER: Duration = Duration::from_secs(1);

/// Takes the endpoint's new INVITEs from now on (`hotline serve`).
pub fn start(svc: &Service) -> tokio::task::JoinHandle<()> {
    let mut rx = svc.inner.ep.accept_calls();
    let svc = svc.clone();
    let live = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let Inbound::Message {
                at,
                from,
                msg: Decoded::Request { call_id, req, raw },
            } = m
            else {
                continue;
            };
            take(&svc, &live, at, from, call_id, req, raw).await;
        }
    })
}

/// Answers `status` to an INVITE no call task will take.
async fn refuse(ep: &Endpoint, from: SocketAddr, raw: &InboundRequest, status: u16) {
    let tag = Tag(format!("{:016x}", rand::random::<u64>()));
    let bytes = uas::respond(raw, status, &tag, "", ep.user_agent(), None);
    if let Err(e) = ep.send(from, &bytes).await {
        tracing::debug!(%from, error = %e, "cannot refuse an inbound INVITE");
    }
}

async fn take(
    svc: &Service,
    live: &Arc<AtomicUsize>,
    at: Instant,
    from: SocketAddr,
    call_id: String,
    req: crate::call::Request,
    raw: InboundRequest,
) {
    let ep = &svc.inner.ep;
    if ep.is_registered(&call_id) {
        return; // a retransmission that overtook the task's registration
    }
    let cfg = svc.config();
    let to_user = raw.uri_user().unwrap_or_default();
    // The packet's source address, never a header (Via and Contact are the caller's to write).
    let verdict = screen(
        cfg.callback.as_ref(),
        &to_user,
        from.ip(),
        Credentials::None,
    );
    let metrics = &svc.inner.metrics;
    match verdict {
        Screen::Refuse { status, why } => {
            metrics.callbacks.refused(why.as_str());
            tracing::info!(%from, status, why = why.as_str(), "inbound INVITE refused");
            return refuse(ep, from, &raw, status).await;
        }
        // Inbound digest auth is configured but not taken yet: refused like a stranger.
        Screen::Challenge => {
            metrics.callbacks.refused("not_from_trunk");
            tracing::info!(%from, "inbound INVITE refused (inbound auth is not taken yet)");
            return refuse(ep, from, &raw, 403).await;
        }
        Screen::Admit => {}
    }
    let Some(cb) = cfg.callback.clone() else {
        return; // screen admits only with a callback line
    };
    if svc.inner.shutting_down.load(Ordering::Relaxed) {
        metrics.callbacks.refused("shutting_down");
        return refuse(ep, from, &raw, 480).await;
    }
    if live.load(Ordering::Relaxed) >= MAX_CALLBACKS {
        metrics.callbacks.refused("busy");
        return refuse(ep, from, &raw, 486).await;
    }
    let (offer, (caller_uri, our_uri)) = match (uas::offer_of(&req, &raw), uas::parties_of(&raw)) {
        (Ok(o), Some(p)) => (o, p),
        _ => {
            metrics.callbacks.refused("malformed");
            return refuse(ep, from, &raw, 400).await;
        }
    };
    let caller = uas::caller_of(&raw).unwrap_or_default();
    // From here the task takes this Call-ID's messages (retransmissions, CANCEL, ACK).
    let messages = ep.register(&call_id);
    live.fetch_add(1, Ordering::Relaxed);
    let svc = svc.clone();
    let live = live.clone();
    tokio::spawn(async move {
        let ep = svc.inner.ep.clone();
        let cfg = svc.config();
        let open: Vec<OpenIncident> = match svc.store().open_for_callback().await {
            Ok(rows) => rows
                .into_iter()
                .map(|r| OpenIncident {
                    incident_id: r.id.to_string(),
                    dialplan: r.dialplan,
                    case_numbers: r.vendor_case.into_iter().collect(),
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "open incidents unreadable: the callback is unmatched");
                Vec::new()
            }
        };
        let first = match_caller(&caller, &svc.dialplans(), &open);
        let rtp = match bind_rtp(
            ep.local_addr().ip(),
            cfg.media.rtp_ports.start,
            cfg.media.rtp_ports.end,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no RTP port for a callback");
                ep.unregister(&call_id);
                live.fetch_sub(1, Ordering::Relaxed);
                svc.inner.metrics.callbacks.refused("no_rtp_port");
                return refuse(&ep, from, &raw, 503).await;
            }
        };
        let rtp_port = rtp.local_addr().map(|a| a.port()).unwrap_or_default();
        let advertise = cfg.media.advertise;
        let via = SocketAddr::new(advertise, ep.local_addr().port());
        let local_tag = Tag(format!("{:016x}", rand::random::<u64>()));
        let transport = ep.transport();
        let sip = SipContext {
            call_id: CallId(call_id.clone()),
            local_tag: local_tag.clone(),
            // Our BYE swaps the INVITE's From and To (RFC 3261 §15.1.1).
            from_uri: our_uri,
            request_uri: caller_uri.clone(),
            contact: format!("sip:{}@{}{}", cb.number, via, transport.uri_param()),
            via,
            transport,
            user_agent: user_agent_of(&cfg),
            credentials: None,
            cnonce: format!("{:016x}", rand::random::<u64>()),
            // In-dialog requests of a call we answered carry no caller ID of ours.
            from_display: None,
            asserted_identity: None,
        };
        let params = InboundParams {
            call_id: CallId(call_id.clone()),
            local_tag,
            reliable: transport.reliable(),
            local_media: SocketAddr::new(advertise, rtp_port),
            session_id: rand::random::<u32>() as u64,
            answer_after: RING_BEFORE_ANSWER,
            max_duration: cfg.ladder.max_call_duration,
            branch_key: format!("{:024x}", rand::random::<u128>() >> 32),
        };
        let admitted = Admitted {
            at,
            from,
            raw,
            handle: req.handle,
            offer,
            params,
            sip,
            rtp,
            messages,
            first,
            open,
            caller_uri,
            callback: cb,
        };
        callback_call::run(&svc, admitted).await;
        live.fetch_sub(1, Ordering::Relaxed);
    });
}
