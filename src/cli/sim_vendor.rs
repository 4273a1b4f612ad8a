//! `hotline sim-vendor`: a small simulated vendor support line (UAS) for the demo and drills.
//! It rings, answers, plays a menu prompt, waits for a digit, lets an "agent" speak, listens,
//! and hangs up. It is not the test peer (sipp is); it reuses hotline's own media code.

use super::sim_hold::{HearTap, HoldAudio, HoldLine};
use crate::call::{Method, Tag};
use crate::media::g711::Codec;
use crate::media::rtp::PayloadType;
use crate::media::sdp;
use crate::media::session::{MediaEvent, MediaSession, Peer, SharedPcm};
use crate::runtime::pacer::{Due, Pacer};
use crate::sip::{Decoded, Endpoint, Inbound, InboundRequest, Transport, uas};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// Arguments of `hotline sim-vendor`.
#[derive(Clone, Debug)]
pub struct SimVendorArgs {
    pub bind: SocketAddr,
    pub transport: Transport,
    /// How long to ring before answering.
    pub ring: Duration,
    /// How long to wait for a menu digit.
    pub digit_timeout: Duration,
    /// Hang up this long after answering.
    pub hangup_after: Duration,
    /// `sip:hold@…`: hold music and announcements this long before a person answers.
    pub hold: Duration,
}

struct Prompts {
    menu: Arc<[i16]>,
    agent: Arc<[i16]>,
    hold: Arc<HoldAudio>,
}

fn prompts(hold: Duration) -> Prompts {
    let menu = crate::runtime::say(
        "Thank you for calling simulated vendor support. For hardware faults, press 1. \
         Then enter your contract number followed by the pound key.",
    );
    let agent =
        crate::runtime::say("Support desk, this is Alex. I have your contract. Go ahead please.");
    let beep = || -> Arc<[i16]> {
        (0..8000)
            .map(|n| ((n as f32 * 440.0 * std::f32::consts::TAU / 8000.0).sin() * 8000.0) as i16)
            .collect()
    };
    Prompts {
        menu: menu.map(Arc::from).unwrap_or_else(beep),
        agent: agent.map(Arc::from).unwrap_or_else(beep),
        hold: Arc::new(HoldAudio::new(hold)),
    }
}

/// Runs the simulated line until the process ends. `ready` learns the bound address.
pub async fn sim_vendor(
    args: SimVendorArgs,
    ready: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> std::io::Result<()> {
    let ep = Endpoint::bind(args.bind, args.transport, "hotline-sim-vendor").await?;
    let mut invites = ep.accept_calls();
    let hold = args.hold;
    let prompts = Arc::new(
        tokio::task::spawn_blocking(move || prompts(hold))
            .await
            .map_err(std::io::Error::other)?,
    );
    tracing::info!(addr = %ep.local_addr(), "simulated vendor line ready");
    if let Some(r) = ready {
        let _ = r.send(ep.local_addr());
    }
    while let Some(Inbound::Message { from, msg, .. }) = invites.recv().await {
        let Decoded::Request { call_id, req, raw } = msg else {
            continue;
        };
        if req.method != Method::Invite {
            continue;
        }
        let ep = ep.clone();
        let args = args.clone();
        let prompts = prompts.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(ep, args, prompts, call_id, raw, req.sdp, from).await {
                tracing::warn!(error = %e, "simulated call failed");
            }
        });
    }
    Ok(())
}

async fn answer(
    ep: Endpoint,
    args: SimVendorArgs,
    prompts: Arc<Prompts>,
    call_id: String,
    invite: InboundRequest,
    offer: Option<String>,
    from: SocketAddr,
) -> Result<(), String> {
    let mut rx = ep.register(&call_id);
    let tag = Tag(format!("sim{:08x}", rand::random::<u32>()));
    let rtp = UdpSocket::bind((ep.local_addr().ip(), 0))
        .await
        .map_err(|e| e.to_string())?;
    let local_rtp = rtp.local_addr().map_err(|e| e.to_string())?;
    let contact = format!("sip:support@{}", ep.local_addr());
    let ua = "hotline-sim-vendor";
    let send = |bytes: Vec<u8>| {
        let ep = ep.clone();
        async move {
            ep.send(from, &bytes)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let offer = offer
        .as_deref()
        .map(sdp::parse)
        .ok_or("INVITE without SDP")?
        .map_err(|e| e.to_string())?;
    let Some(neg) = choose(&offer) else {
        send(uas::respond(&invite, 488, &tag, &contact, ua, None)).await?;
        return Ok(());
    };
    send(uas::respond(&invite, 100, &tag, &contact, ua, None)).await?;
    // The number dialled picks the line's mood: sip:busy@… is busy, sip:noanswer@… rings
    // until cancelled, sip:hold@… answers with a prompt, hold music and then a person who
    // answers the probe, anything else answers with the menu.
    let user = invite.uri_user().unwrap_or_default();
    if user == "busy" {
        send(uas::respond(&invite, 486, &tag, &contact, ua, None)).await?;
        ep.unregister(&call_id);
        return Ok(());
    }
    send(uas::respond(&invite, 180, &tag, &contact, ua, None)).await?;
    // Ring, watching for CANCEL.
    let ring = if user == "noanswer" {
        Duration::from_secs(3600)
    } else {
        args.ring
    };
    let ring_until = tokio::time::Instant::now() + ring;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(ring_until) => break,
            m = rx.recv() => {
                let Some(Inbound::Message { msg: Decoded::Request { req, raw, .. }, from: f, .. }) = m else { continue };
                if req.method == Method::Cancel {
                    ep.send(f, &uas::respond(&raw, 200, &tag, &contact, ua, None)).await.map_err(|e| e.to_string())?;
                    send(uas::respond(&invite, 487, &tag, &contact, ua, None)).await?;
                    ep.unregister(&call_id);
                    return Ok(());
                }
            }
        }
    }
    // An offer with SDES keys is answered with ours (the simulated line takes SRTP).
    let srtp = match neg.crypto {
        Some(theirs) => {
            let local = crate::media::srtp::LocalSrtp {
                mode: crate::media::srtp::SrtpMode::Optional,
                keys: [
                    crate::media::srtp::MasterKey::generate()?,
                    crate::media::srtp::MasterKey::generate()?,
                ],
            };
            Some(local.answer_offer(&theirs))
        }
        None => None,
    };
    let answer = sdp::answer(
        local_rtp.ip(),
        local_rtp.port(),
        rand::random::<u32>() as u64,
        1,
        &neg,
        sdp::Direction::SendRecv,
        srtp.as_ref().map(|(attr, _)| (attr, neg.savp)),
    );
    let ok = uas::respond(&invite, 200, &tag, &contact, ua, Some(&answer));
    send(ok.clone()).await?;
    let mut media = MediaSession::new(rand::random(), rand::random(), rand::random());
    media
        .set_srtp(srtp.as_ref().map(|(_, keys)| keys))
        .map_err(|e| e.to_string())?;
    media.start(Peer {
        remote: neg.remote,
        codec: neg.codec,
        codec_pt: neg.codec_pt,
        dtmf_pt: neg.dtmf_pt,
    });
    let mut hold = None;
    if user == "hold" {
        hold = Some(HoldLine::start(prompts.hold.clone(), &mut media));
    } else {
        media.play("menu", Box::new(SharedPcm::new(prompts.menu.clone())));
    }
    let mut pacer = Pacer::default();
    pacer.start(Instant::now());
    let answered = Instant::now();
    let mut acked = false;
    let mut retransmit = Instant::now() + Duration::from_millis(500);
    let mut digits = String::new();
    let mut agent_at = answered + args.digit_timeout;
    let mut agent_started = hold.is_some();
    let hangup_at = answered + args.hangup_after;
    let mut buf = vec![0u8; 2048];
    let mut tap = HearTap::default();
    loop {
        let now = Instant::now();
        if now >= hangup_at {
            break;
        }
        if !agent_started && now >= agent_at {
            agent_started = true;
            media.play("agent", Box::new(SharedPcm::new(prompts.agent.clone())));
        }
        if !acked && now >= retransmit {
            send(ok.clone()).await?;
            retransmit = now + Duration::from_millis(1000);
        }
        let wake = [pacer.next(), Some(hangup_at), Some(agent_at)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(hangup_at);
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {
                if let Some(h) = &mut hold {
                    h.tick(Instant::now(), &mut media);
                }
                while let Some(due) = pacer.poll(Instant::now()) {
                    let pkt = media.tick(&mut tap);
                    if let (Due::Send(_), Some((d, b))) = (due, pkt) {
                        let _ = rtp.send_to(b, d).await;
                    }
                }
            }
            r = rtp.recv_from(&mut buf) => {
                if let Ok((n, f)) = r {
                    media.receive(f, &buf[..n], &mut tap);
                    let now = Instant::now();
                    for frame in tap.frames.drain(..) {
                        if let Some(h) = &mut hold {
                            h.heard(now, &frame);
                        }
                    }
                }
            }
            m = rx.recv() => match m {
                Some(Inbound::Message { msg: Decoded::Request { req, raw, .. }, from: f, .. }) => match req.method {
                    Method::Ack => acked = true,
                    Method::Bye => {
                        ep.send(f, &uas::respond(&raw, 200, &tag, &contact, ua, None)).await.map_err(|e| e.to_string())?;
                        tracing::info!(digits, "caller hung up");
                        ep.unregister(&call_id);
                        return Ok(());
                    }
                    Method::Invite => {
                        // Re-INVITE or retransmitted INVITE: answer with our SDP again.
                        ep.send(f, &uas::respond(&raw, 200, &tag, &contact, ua, Some(&answer))).await.map_err(|e| e.to_string())?;
                    }
                    _ => {
                        ep.send(f, &uas::respond(&raw, 200, &tag, &contact, ua, None)).await.map_err(|e| e.to_string())?;
                    }
                },
                Some(_) => {}
                None => break,
            },
        }
        while let Some(e) = media.poll_event() {
            if let Some(h) = &mut hold {
                h.on_event(&e, &mut media);
            }
            if let MediaEvent::DtmfReceived { digit, .. } = e {
                digits.push(digit);
                // The agent picks up shortly after the caller finished the menu.
                if digit == '#' && !agent_started {
                    agent_at = Instant::now() + Duration::from_millis(600);
                }
            }
        }
    }
    // Hang up from our side.
    let bye = uas::bye_for(&invite, &tag, 1, ep.local_addr(), ep.transport())?;
    let target = uas::contact_of(&invite)
        .ok_or("no contact")
        .map(|c| async move { crate::sip::resolve(&c).await })?
        .await
        .unwrap_or(from);
    let _ = ep.send(target, &bye).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Inbound::Message {
            msg: Decoded::Response { resp, .. },
            ..
        } = m
            && resp.method == Method::Bye
        {
            break;
        }
    }
    tracing::info!(digits, "simulated call done");
    ep.unregister(&call_id);
    Ok(())
}

/// Picks PCMU or PCMA from an offer, and its telephone-event payload type.
fn choose(offer: &sdp::SessionDescription) -> Option<sdp::Negotiated> {
    let (codec, pt) = offer.formats.iter().find_map(|f| match f.pt.0 {
        0 => Some((Codec::Pcmu, PayloadType(0))),
        8 => Some((Codec::Pcma, PayloadType(8))),
        _ => None,
    })?;
    let dtmf_pt = offer
        .formats
        .iter()
        .find(|f| f.encoding.eq_ignore_ascii_case("telephone-event"))
        .map(|f| f.pt);
    Some(sdp::Negotiated {
        codec,
        codec_pt: pt,
        dtmf_pt,
        remote: SocketAddr::new(offer.connection, offer.port),
        direction: sdp::Direction::SendRecv,
        crypto: offer.crypto.first().copied(),
        savp: offer.secure_profile(),
        rtcp_mux: false,
        rtcp_port: None,
    })
}
