//! One task owns one call (quinn's `ConnectionDriver`): the call core, the RTP socket, the
//! 20 ms pacer, the media session, the recorder and the sidecar. Everything it learns goes on
//! the call record with the instant the packet was read or written.

use super::bridge::{Action, BridgeSetup, BridgeTap, CallBridge};
use super::call_core::Core;
use super::call_listener::CallListener;
use super::call_rtcp::RtcpLink;
use super::pacer::{Due, Pacer};
use super::sidecar::Sidecar;
use crate::call::{
    Call, CallRecord, EventKind, Input, MediaCommand, Outgoing, Output, PROBE, RequestHandle,
};
use crate::media::session::{MediaEvent, MediaSession, Peer, Tap};
use crate::recording::{Channel, Recorder};
use crate::sip::{
    Decoded, Endpoint, Inbound, InboundRequest, SipContext, encode_request, encode_response,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

#[path = "call_media.rs"]
mod media_side;
use media_side::RecTap;
#[path = "call_setup.rs"]
mod setup;
pub use setup::{CallIo, CallSetup, SourceFactory, pcm_source};

struct Driver {
    ep: Endpoint,
    rtp: UdpSocket,
    /// The pure core: our own call, or a caller's (the callback line).
    call: Core,
    media: MediaSession,
    pacer: Pacer,
    tap: RecTap,
    record: CallRecord,
    sidecar: Sidecar,
    ctx: SipContext,
    dest: SocketAddr,
    /// Every address a request of ours went to: a response from anywhere else is forged
    /// or stray and is dropped before the core sees it (security review finding 3).
    sent_to: Vec<SocketAddr>,
    foreign_responses: crate::media::sampled::SampledCount,
    force_proxy: bool,
    sources: HashMap<String, SourceFactory>,
    requests: HashMap<RequestHandle, (InboundRequest, SocketAddr)>,
    answered_at: Option<Instant>,
    first_rtp_us: Option<u64>,
    /// Where operators may join once the vendor answers (`hotline serve`); `None` for the CLI.
    bridge_setup: Option<BridgeSetup>,
    /// The operator bridge, open from the answer to the end of the call.
    bridge: Option<CallBridge>,
    /// Where the answered dialog is persisted, and the write in flight.
    dialogs: Option<crate::store::Store>,
    dialog_saved: Option<tokio::task::JoinHandle<()>>,
    prompts: Option<PathBuf>,
    listen: bool,
    /// The live state's publisher (`runtime::live`), off the media path.
    live: Option<super::live::LiveCall>,
    /// RTCP: reports out, the far end's in (`call_rtcp.rs`).
    rtcp: RtcpLink,
    on_answer: Option<tokio::sync::oneshot::Sender<Instant>>,
}

/// Runs the call to its end; returns the final record (also written as the sidecar).
/// `control` feeds outside inputs (hangup, cancel) into the call.
pub async fn run_call(
    ep: Endpoint,
    rtp: UdpSocket,
    setup: CallSetup,
    control: mpsc::Receiver<Input>,
) -> CallRecord {
    run_bridged_call(ep, rtp, setup, control, None).await
}

/// [`run_call`] with the operator bridge: once answered, operators can join through
/// `bridge`'s registry.
pub async fn run_bridged_call(
    ep: Endpoint,
    rtp: UdpSocket,
    setup: CallSetup,
    control: mpsc::Receiver<Input>,
    bridge: Option<BridgeSetup>,
) -> CallRecord {
    use tracing::Instrument;
    // JSON logs carry the call's ids as fields (the ladder span above adds the incident).
    let span = tracing::info_span!(
        "call",
        id = %setup.sip.call_id,
        dialplan = %setup.record.dialplan,
        contact = %setup.record.contact
    );
    let inbound = ep.register(&setup.sip.call_id.to_string());
    let (params, setup) = setup.split();
    let core = Core::Outbound(Box::new(Call::new(params, Instant::now())));
    drive(ep, rtp, setup, (core, inbound, None), control, bridge)
        .instrument(span)
        .await
}

/// A call to the callback line: `core` was made from the caller's INVITE (`first`, read from
/// `from`), whose Call-ID the endpoint already routes to `inbound`.
pub async fn run_inbound_call(
    ep: Endpoint,
    rtp: UdpSocket,
    setup: CallIo,
    (core, inbound): (
        super::call_core::InboundCore,
        mpsc::UnboundedReceiver<Inbound>,
    ),
    first: (InboundRequest, RequestHandle, SocketAddr),
    control: mpsc::Receiver<Input>,
    bridge: Option<BridgeSetup>,
) -> CallRecord {
    use tracing::Instrument;
    let span = tracing::info_span!("callback", id = %setup.sip.call_id);
    let core = Core::Inbound(Box::new(core));
    drive(
        ep,
        rtp,
        setup,
        (core, inbound, Some(first)),
        control,
        bridge,
    )
    .instrument(span)
    .await
}

type Started = (
    Core,
    mpsc::UnboundedReceiver<Inbound>,
    Option<(InboundRequest, RequestHandle, SocketAddr)>,
);

async fn drive(
    ep: Endpoint,
    rtp: UdpSocket,
    setup: CallIo,
    (core, mut inbound, first): Started,
    mut control: mpsc::Receiver<Input>,
    bridge_setup: Option<BridgeSetup>,
) -> CallRecord {
    let call_id = setup.sip.call_id.to_string();
    let sidecar = Sidecar::start(setup.recording_path.with_extension("json"));
    let tap = match Recorder::create(&setup.recording_path) {
        Ok(r) => RecTap {
            rec: Some(r),
            error: None,
            forward_rx: setup.forward_rx.clone(),
            listen: None,
        },
        Err(e) => RecTap {
            rec: None,
            error: Some(e.to_string()),
            forward_rx: setup.forward_rx.clone(),
            listen: None,
        },
    };
    let media = MediaSession::new(rand::random(), rand::random(), rand::random());
    let mut d = Driver {
        call: core,
        rtcp: RtcpLink::new(media.ssrc().0),
        media,
        pacer: Pacer::default(),
        tap,
        record: setup.record,
        sidecar,
        ctx: setup.sip,
        dest: setup.dest,
        sent_to: vec![setup.dest],
        foreign_responses: Default::default(),
        force_proxy: setup.force_proxy,
        sources: setup.sources,
        requests: HashMap::new(),
        answered_at: None,
        first_rtp_us: None,
        bridge_setup,
        bridge: None,
        dialogs: setup.dialogs,
        dialog_saved: None,
        prompts: setup.prompts,
        listen: setup.listen,
        live: setup.live.map(super::live::LiveCall::start),
        on_answer: setup.on_answer,
        ep: ep.clone(),
        rtp,
    };
    if let Some((raw, handle, from)) = first {
        d.requests.insert(handle, (raw, from));
    }
    let mut buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 1500];
    let mut control_open = true;
    // One timer for the whole call, moved only when the next deadline changes: a received
    // packet (50 a second per call) does not re-register it.
    let sleep = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(sleep);
    loop {
        d.drain().await;
        if d.call.is_finished() || (d.call.termination().is_some() && !setup.linger) {
            break;
        }
        let wake = [d.call.poll_timeout(), d.pacer.next(), d.rtcp.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let wake = tokio::time::Instant::from_std(wake);
        if sleep.deadline() != wake {
            sleep.as_mut().reset(wake);
        }
        tokio::select! {
            biased;
            _ = &mut sleep => {
                let now = Instant::now();
                d.pace(now).await;
                d.rtcp.tick(now, &mut d.media, &d.rtp).await;
                d.call.handle_timeout(now);
                // The listener's worker answers between packets: its news each tick.
                d.heard(now);
            }
            msg = inbound.recv() => match msg {
                Some(m) => d.inbound(m),
                None => break,
            },
            r = d.rtp.recv_from(&mut buf) => {
                let at = Instant::now();
                if let Ok((n, from)) = r {
                    if crate::media::rtp::is_rtcp(&buf[..n]) {
                        // RTCP muxed on the RTP port (RFC 5761).
                        d.rtcp.input(at, from, &buf[..n], &mut d.media);
                    } else {
                        let mut tap = BridgeTap { rec: &mut d.tap, bridge: d.bridge.as_mut() };
                        d.media.receive(from, &buf[..n], &mut tap);
                        d.rtcp.on_rtp(at, &mut d.media);
                        d.media_events(at);
                        d.heard(at);
                    }
                }
            }
            r = d.rtcp.recv(&mut rtcp_buf), if d.rtcp.has_socket() => {
                if let Ok((n, from)) = r {
                    d.rtcp.input(Instant::now(), from, &rtcp_buf[..n], &mut d.media);
                }
            }
            cmd = async { d.bridge.as_mut().expect("guarded").recv().await }, if d.bridge.is_some() => {
                if let Some(cmd) = cmd {
                    d.bridge_command(cmd);
                }
            }
            input = control.recv(), if control_open => match input {
                Some(i) => d.call.handle_input(Instant::now(), i),
                None => control_open = false,
            },
        }
    }
    ep.unregister(&call_id);
    d.finish().await
}

/// Where a request with this target and route set goes (RFC 3261 §8.1.2: the first route,
/// else the target; everything via the proxy when forced).
async fn destination(
    ep: &Endpoint,
    force_proxy: bool,
    proxy: SocketAddr,
    r: &crate::call::OutRequest,
) -> Result<SocketAddr, String> {
    if force_proxy {
        Ok(proxy)
    } else if let Some(route) = r.routes.first() {
        ep.resolve(route).await
    } else if let Some(t) = &r.target {
        ep.resolve(t).await
    } else {
        Ok(proxy)
    }
}

impl Driver {
    fn inbound(&mut self, m: Inbound) {
        match m {
            Inbound::Message { at, from, msg } => match msg {
                Decoded::Response { resp, .. } if !self.sent_to.contains(&from) => {
                    if let Some(count) = self.foreign_responses.note() {
                        tracing::warn!(%from, code = resp.status, count, "sip response from an address we sent nothing to: dropped");
                        self.push(
                            at,
                            EventKind::ResponseRejected {
                                code: resp.status,
                                from: Some(from.to_string()),
                                why: "from an address we sent nothing to".into(),
                                count,
                            },
                        );
                    }
                }
                Decoded::Response { resp, .. } => self.call.handle_input(at, Input::Response(resp)),
                Decoded::Request { req, raw, .. } => {
                    self.requests.insert(req.handle, (raw, from));
                    self.call.handle_input(at, Input::Request(req));
                }
            },
            Inbound::TransportError(e) => self
                .call
                .handle_input(Instant::now(), Input::TransportError(e)),
            // Only news about where our requests go (the trunk) counts.
            Inbound::Unreachable { to, error } if to == self.dest => self.call.handle_input(
                Instant::now(),
                Input::TrunkUnreachable(format!("{to}: {error}")),
            ),
            Inbound::Unreachable { .. } => {}
        }
    }

    fn push(&mut self, at: Instant, kind: EventKind) {
        let live = self.live.as_ref().map(|_| kind.clone());
        self.record.push(at, kind);
        self.sidecar.update(&self.record);
        if let (Some(l), Some(kind)) = (&mut self.live, live) {
            l.pushed(&self.record, &kind);
        }
        if let Some(b) = &self.bridge {
            b.publish(&self.record.events);
        }
    }

    /// The vendor answered: operators may join from now on.
    fn open_bridge(&mut self) {
        let Some(setup) = self.bridge_setup.take() else {
            return;
        };
        let b = CallBridge::open(setup, &self.record.call_id.clone(), &self.record.events);
        self.bridge = Some(b);
    }

    fn bridge_command(&mut self, cmd: super::bridge::BridgeCmd) {
        let Some(b) = &mut self.bridge else { return };
        let now = Instant::now();
        match b.command(cmd) {
            None => {}
            Some(Action::Event(e)) => self.push(now, e),
            Some(Action::EventAndInput(e, i)) => {
                self.push(now, e);
                self.call.handle_input(now, i);
            }
            Some(Action::Input(i)) => self.call.handle_input(now, i),
            Some(Action::Dtmf(digits)) => self.media.send_dtmf(&digits, 160),
        }
        self.media_events(now);
    }

    /// Acts on everything the call core has queued.
    async fn drain(&mut self) {
        while let Some(out) = self.call.poll_output() {
            match out {
                Output::Send { msg, note } => self.send(msg, note).await,
                Output::Media(cmd) => self.media_command(cmd),
                Output::Event { at, kind } => {
                    let answered = matches!(
                        kind,
                        EventKind::Answered { .. } | EventKind::AnsweredLocal { .. }
                    );
                    if matches!(kind, EventKind::HumanDetected { .. })
                        && let Some(b) = &self.bridge
                    {
                        b.person_on_line(&self.record.contact);
                    }
                    if answered {
                        self.answered_at = Some(at);
                        if let Some(tx) = self.on_answer.take() {
                            let _ = tx.send(at);
                        }
                        self.persist_dialog().await;
                    }
                    self.push(at, kind);
                    if answered {
                        self.open_bridge();
                    }
                }
                Output::Terminated(t) => {
                    tracing::info!(termination = %t, "call ended");
                    self.record.terminate(t);
                    // Links are refused and legs told from the end, not after the linger.
                    if let Some(b) = self.bridge.take() {
                        let m = b.stats();
                        tracing::info!(
                            frames_dropped = b.frames_dropped,
                            samples_dropped = m.dropped_samples,
                            vendor_backlog_ms = format!("{:.1}", m.vendor_backlog_ms),
                            leg_backlog_ms = format!("{:.1}", m.leg_backlog_ms),
                            "bridge closed"
                        );
                    }
                    self.sidecar.update(&self.record);
                }
            }
            // Media commands can finish a step at once (nothing to play), feeding the core.
            self.media_events(Instant::now());
        }
    }

    /// Writes the answered dialog to the store, off the call's path (the first RTP packet is
    /// not held up by an fsync); `finish` waits for it before closing the row.
    async fn persist_dialog(&mut self) {
        let (Some(store), Some(d)) = (self.dialogs.clone(), self.call.dialog_state()) else {
            return;
        };
        let probe = crate::call::OutRequest {
            method: crate::call::Method::Bye,
            cseq: d.next_cseq,
            branch: crate::call::Branch(String::new()),
            to_tag: Some(d.remote_tag.clone()),
            target: d.target.clone(),
            routes: d.routes.clone(),
            sdp: None,
            auth: Vec::new(),
            reason: None,
            timer: None,
        };
        let destination = match destination(&self.ep, self.force_proxy, self.dest, &probe).await {
            Ok(a) => a.to_string(),
            Err(e) => {
                tracing::warn!(error = %e, "dialog not persisted: no destination");
                return;
            }
        };
        let row = crate::store::StoredDialog {
            call_id: self.ctx.call_id.to_string(),
            local_tag: self.ctx.local_tag.to_string(),
            remote_tag: d.remote_tag.to_string(),
            local_uri: self.ctx.from_uri.clone(),
            remote_uri: self.ctx.request_uri.clone(),
            remote_target: d.target,
            route_set: d.routes,
            next_cseq: d.next_cseq,
            transport: self.ctx.transport.via_name().to_string(),
            destination,
            answered_at: chrono::Utc::now(),
        };
        self.dialog_saved = Some(tokio::spawn(async move {
            if let Err(e) = store.save_dialog(&row).await {
                tracing::warn!(error = %e, "cannot persist the dialog");
            }
        }));
    }

    async fn send(&mut self, msg: Outgoing, note: Option<EventKind>) {
        let (bytes, dest) = match &msg {
            Outgoing::Request(r) => {
                let bytes = match encode_request(&self.ctx, r) {
                    Ok(b) => b,
                    Err(e) => {
                        self.call
                            .handle_input(Instant::now(), Input::TransportError(e));
                        return;
                    }
                };
                match destination(&self.ep, self.force_proxy, self.dest, r).await {
                    Ok(d) => (bytes, d),
                    Err(e) => {
                        self.call
                            .handle_input(Instant::now(), Input::TransportError(e));
                        return;
                    }
                }
            }
            Outgoing::Response(r) => {
                let Some((raw, from)) = self.requests.get(&r.handle) else {
                    return;
                };
                (encode_response(&self.ctx, raw, r), *from)
            }
        };
        if matches!(msg, Outgoing::Request(_)) && !self.sent_to.contains(&dest) {
            self.sent_to.push(dest);
        }
        match self.ep.send(dest, &bytes).await {
            Ok(at) => {
                if let Some(kind) = note {
                    self.push(at, kind);
                }
            }
            Err(e) => {
                let now = Instant::now();
                if let Some(kind) = note {
                    self.push(now, kind);
                }
                self.call
                    .handle_input(now, Input::TransportError(e.to_string()));
            }
        }
    }

    async fn finish(mut self) -> CallRecord {
        drop(self.bridge.take());
        let (s, lost, late, dup) = self.media.stats();
        let m = &mut self.record.media;
        m.packets_sent = s.packets_sent;
        m.packets_received = s.packets_received;
        m.packets_lost = lost;
        m.packets_late = late;
        m.packets_duplicate = dup;
        m.packets_foreign = s.packets_foreign;
        m.packets_unauthenticated = s.packets_unauthenticated;
        m.rtcp = self.rtcp.summary();
        m.sip_responses_rejected = self.foreign_responses.count() + self.call.rejected_responses();
        m.frames_skipped = self.pacer.skipped;
        m.send_jitter_p50_us = self.pacer.jitter.quantile_us(0.5);
        m.send_jitter_p99_us = self.pacer.jitter.quantile_us(0.99);
        m.send_jitter_max_us = self.pacer.jitter.max_us();
        m.answer_to_first_rtp_us = self.first_rtp_us;
        m.send_lateness_p99_us = self.pacer.lateness.quantile_us(0.99);
        m.jitter = std::mem::take(&mut self.pacer.jitter);
        m.lateness = std::mem::take(&mut self.pacer.lateness);
        if let Some(rec) = self.tap.rec.take() {
            match tokio::task::spawn_blocking(move || rec.finish()).await {
                Ok(Ok(summary)) => m.recording_late_samples = summary.late_samples,
                Ok(Err(e)) => self.tap.error = Some(e.to_string()),
                Err(e) => self.tap.error = Some(e.to_string()),
            }
        }
        if let Some(l) = self.tap.listen.take() {
            let m = &mut self.record.media;
            m.listener_frames_dropped = l.dropped();
            if let Some(done) = l.finish().await {
                m.listener_lag_p99_us = Some(done.lag.quantile_us(0.99));
                m.listener_lag = done.lag;
                if let Some(path) = self.prompts.take() {
                    let lib = done.library;
                    let saved =
                        tokio::task::spawn_blocking(move || save_prompts(&path, &lib)).await;
                    if let Ok(Err(e)) = saved {
                        tracing::warn!(error = %e, "prompt library not saved");
                    }
                }
            }
        }
        if let Some(e) = &self.tap.error {
            tracing::warn!(error = %e, "recording incomplete");
            self.record.recording_error = Some(e.clone());
        }
        self.sidecar.finish(&self.record).await;
        if let Some(l) = &mut self.live {
            // The caller saves the final record; no live write may land after it.
            l.finish().await;
        }
        if let Some(saved) = self.dialog_saved.take() {
            let _ = saved.await;
            if let Some(store) = &self.dialogs
                && let Err(e) = store
                    .close_dialog(&self.record.call_id, "call ended", chrono::Utc::now())
                    .await
            {
                tracing::warn!(error = %e, "cannot close the dialog");
            }
        }
        self.record
    }
}

/// The contact's prompt library; empty when there is none yet or it is damaged (logged).
fn load_prompts(path: &std::path::Path) -> crate::listen::PromptLibrary {
    match std::fs::read(path) {
        Ok(b) => crate::listen::PromptLibrary::from_bytes(&b).unwrap_or_else(|| {
            tracing::warn!(path = %path.display(), "prompt library damaged; starting empty");
            Default::default()
        }),
        Err(_) => Default::default(),
    }
}

/// Writes the library atomically (temp file + rename).
fn save_prompts(path: &std::path::Path, lib: &crate::listen::PromptLibrary) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, lib.to_bytes())?;
    std::fs::rename(tmp, path)
}
