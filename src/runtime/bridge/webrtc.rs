//! One browser leg over WebRTC (webrtc 0.21.1, PCMU only, so audio crosses as G.711 with no
//! transcoding). Non-trickle: the browser posts a complete offer, we answer once our host
//! candidate is gathered. The leg runs as its own task:
//!
//! - inbound: the remote track is read at once (its 256-packet queue drops on overflow),
//!   PCMU decoded, handed to the call task with `try_send` (zero-length payloads, which
//!   Chromium sends at start, are skipped);
//! - outbound: one frame per call tick, numbered by this leg (its own SSRC, sequence and
//!   timestamp from the sample count), payload type as negotiated;
//! - the end: an explicit leave (the page's button or its `pagehide` beacon), the call's
//!   end (its audio channel closes), `failed`/`closed`, or `disconnected` for longer than
//!   [`GRACE`] (the server only sees a killed browser after ~3.5 s / ~25 s).

use super::{BridgeCmd, LEG_IN_PACKETS, LEG_OUT_FRAMES, LegSession, Registry};
use crate::media::FRAME_SAMPLES;
use crate::media::g711::{self, Codec};
use crate::media::mixer::Frame;
use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_PCMU, MediaEngine};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    RTCPeerConnectionState, Registry as Interceptors, register_default_interceptors,
};

/// How long a `disconnected` browser may take to come back.
pub const GRACE: Duration = Duration::from_secs(5);
/// Longest wait for our ICE candidates before answering.
const GATHER_TIMEOUT: Duration = Duration::from_secs(3);
/// PCMU's static payload type (RFC 3551).
const PCMU_PT: u8 = 0;

/// Why a browser could not join.
#[derive(Debug, thiserror::Error)]
pub enum LegError {
    #[error("webrtc: {0}")]
    Webrtc(String),
    #[error("the offer has no PCMU audio")]
    NoPcmu,
    #[error("the call has ended")]
    CallEnded,
}

fn err(e: impl std::fmt::Display) -> LegError {
    LegError::Webrtc(e.to_string())
}

struct Handler {
    audio_in: mpsc::Sender<Vec<i16>>,
    state: mpsc::UnboundedSender<RTCPeerConnectionState>,
    gathered: mpsc::Sender<()>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let audio_in = self.audio_in.clone();
        // Read promptly, on a task of its own: the track's queue drops when full.
        tokio::spawn(async move {
            let mut pcm = Vec::with_capacity(FRAME_SAMPLES);
            while let Some(evt) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(p) = evt else {
                    continue;
                };
                if p.payload.is_empty() || p.header.payload_type != PCMU_PT {
                    continue;
                }
                pcm.clear();
                g711::decode(Codec::Pcmu, &p.payload, &mut pcm);
                // Full means the call task is behind; the mixer would drop it anyway.
                if audio_in.try_send(pcm.clone()).is_err() && audio_in.is_closed() {
                    break;
                }
            }
        });
    }
}

/// Answers a browser's offer and starts its leg on the call. Returns the SDP answer.
pub async fn join(
    registry: Registry,
    secret: String,
    session: LegSession,
    name: String,
    offer_sdp: String,
    bind: IpAddr,
) -> Result<String, LegError> {
    if !offer_sdp.contains("PCMU") {
        return Err(LegError::NoPcmu);
    }
    let mut media = MediaEngine::default();
    media
        .register_codec(
            RTCRtpCodecParameters {
                rtp_codec: pcmu(),
                payload_type: PCMU_PT,
            },
            RtpCodecKind::Audio,
        )
        .map_err(err)?;
    let interceptors =
        register_default_interceptors(Interceptors::new(), &mut media).map_err(err)?;
    let (in_tx, in_rx) = mpsc::channel(LEG_IN_PACKETS);
    let (state_tx, state_rx) = mpsc::unbounded_channel();
    let (gathered_tx, mut gathered_rx) = mpsc::channel(1);
    let handler = Arc::new(Handler {
        audio_in: in_tx,
        state: state_tx,
        gathered: gathered_tx,
    });
    // An explicit address: `0.0.0.0` would skip loopback, where tests and a local console run.
    let pc = PeerConnectionBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(interceptors)
        .with_handler(handler)
        .with_udp_addrs(vec![format!("{bind}:0")])
        .build()
        .await
        .map_err(err)?;
    let ssrc = rand::random::<u32>();
    let track: Arc<TrackLocalStaticRTP> =
        Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "hotline".to_string(),
            "hotline-call".to_string(),
            "hotline call".to_string(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: pcmu(),
                ..Default::default()
            }],
        )));
    pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
        .await
        .map_err(err)?;
    let offer = RTCSessionDescription::offer(offer_sdp).map_err(err)?;
    pc.set_remote_description(offer).await.map_err(err)?;
    let answer = pc.create_answer(None).await.map_err(err)?;
    pc.set_local_description(answer).await.map_err(err)?;
    let _ = tokio::time::timeout(GATHER_TIMEOUT, gathered_rx.recv()).await;
    let answer = pc
        .local_description()
        .await
        .ok_or_else(|| err("no local description"))?
        .sdp;

    let (out_tx, out_rx) = mpsc::channel(LEG_OUT_FRAMES);
    let join = BridgeCmd::Join {
        leg: session.leg,
        name,
        via: "webrtc",
        listen_only: session.listen_only,
        audio_in: in_rx,
        audio_out: out_tx,
    };
    if session.call.cmds.send(join).await.is_err() {
        let _ = pc.close().await;
        return Err(LegError::CallEnded);
    }
    tokio::spawn(run_leg(
        registry, secret, session, pc, track, ssrc, out_rx, state_rx,
    ));
    Ok(answer)
}

fn pcmu() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_PCMU.to_owned(),
        clock_rate: 8000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_leg(
    registry: Registry,
    secret: String,
    session: LegSession,
    pc: impl PeerConnection,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    mut frames: mpsc::Receiver<Frame>,
    mut states: mpsc::UnboundedReceiver<RTCPeerConnectionState>,
) {
    let leg = session.leg;
    let mut seq: u16 = rand::random();
    let ts0: u32 = rand::random();
    let mut samples: u32 = 0;
    let mut marker = true;
    let mut payload = Vec::with_capacity(FRAME_SAMPLES);
    let mut grace: Option<tokio::time::Instant> = None;
    let reason = loop {
        let grace_at =
            grace.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            f = frames.recv() => {
                let Some(f) = f else { break "the call ended".to_string() };
                payload.clear();
                g711::encode(Codec::Pcmu, &f, &mut payload);
                let packet = rtc::rtp::Packet {
                    header: rtc::rtp::Header {
                        version: 2,
                        marker: std::mem::take(&mut marker),
                        payload_type: PCMU_PT,
                        sequence_number: seq,
                        timestamp: ts0.wrapping_add(samples),
                        ssrc,
                        ..Default::default()
                    },
                    payload: Bytes::copy_from_slice(&payload),
                };
                seq = seq.wrapping_add(1);
                samples = samples.wrapping_add(FRAME_SAMPLES as u32);
                // Before the browser connects the track is unbound: dropped, by design.
                let _ = track.write_rtp(packet).await;
            }
            s = states.recv() => match s {
                Some(RTCPeerConnectionState::Disconnected) => {
                    grace.get_or_insert_with(|| tokio::time::Instant::now() + GRACE);
                }
                Some(RTCPeerConnectionState::Connected) => grace = None,
                Some(RTCPeerConnectionState::Failed) => break "connection failed".into(),
                Some(RTCPeerConnectionState::Closed) | None => break "connection closed".into(),
                Some(_) => {}
            },
            _ = tokio::time::sleep_until(grace_at), if grace.is_some() => {
                break "browser gone (no media after the grace period)".into();
            }
            _ = session.leave.notified() => break "left".into(),
        }
    };
    tracing::info!(%leg, reason, "operator leg ended");
    let _ = session
        .call
        .cmds
        .send(BridgeCmd::Leave { leg, reason })
        .await;
    registry.drop_leg(&secret);
    let _ = pc.close().await;
}
