//! The phone alternative to the browser: hotline calls an operator's configured phone
//! (`[[operators]]` in hotline.toml: whitelisted, named by id, never a number from the API) and
//! bridges that SIP leg into a live vendor call's mixer. The operator hears the mix (vendor +
//! hotline + other operators) and is heard by the vendor; the leg leaves when either call ends.

use super::{BridgeCmd, LEG_IN_PACKETS, LEG_OUT_FRAMES};
use crate::dialplan::{
    Contact, ContactId, Destination, Dialplan, DialplanId, Hours, MenuStep, PlaySource,
};
use crate::media::FRAME_SAMPLES;
use crate::media::mixer::Frame;
use crate::media::source::AudioSource;
use crate::runtime::build_call::{CallRequest, build_call};
use crate::runtime::call_task::{SourceFactory, run_call};
use crate::runtime::service::{Service, ServiceError};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Plays what the mixer sends toward the operator; ends when the vendor call's bridge closes.
struct MixSource {
    rx: mpsc::Receiver<Frame>,
}

impl AudioSource for MixSource {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        match self.rx.try_recv() {
            Ok(f) => {
                *out = f;
                true
            }
            Err(mpsc::error::TryRecvError::Empty) => {
                out.fill(0);
                true
            }
            Err(mpsc::error::TryRecvError::Disconnected) => false,
        }
    }
}

/// A one-shot factory over the mixer's frames (a later play gets a finished source).
fn mix_source(rx: mpsc::Receiver<Frame>) -> SourceFactory {
    let slot = Arc::new(Mutex::new(Some(rx)));
    Arc::new(move || {
        let taken = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        match taken {
            Some(rx) => Box::new(MixSource { rx }) as Box<dyn AudioSource>,
            None => Box::new(crate::media::session::SharedPcm::new(Arc::from(Vec::new()))),
        }
    })
}

/// Calls operator `operator_id` and bridges them into live call `call_id`. Returns the
/// operator call's id.
pub async fn call_operator(
    svc: &Service,
    call_id: &str,
    operator_id: &str,
) -> Result<String, ServiceError> {
    let leg = call_operator_for(svc, call_id, operator_id, Duration::from_secs(45)).await?;
    Ok(leg.call_id)
}

/// An operator's phone being rung into a live call.
pub struct PhoneLeg {
    /// The operator call's id.
    pub call_id: String,
    /// Fires when the operator answers.
    pub answered: tokio::sync::oneshot::Receiver<std::time::Instant>,
    /// The operator call's control (`CancelIfRinging` when someone else answered first).
    pub control: mpsc::Sender<crate::call::Input>,
}

/// [`call_operator`], ringing at most `ring_for`. A leg still ringing when the live call
/// ends is cancelled.
pub async fn call_operator_for(
    svc: &Service,
    call_id: &str,
    operator_id: &str,
    ring_for: Duration,
) -> Result<PhoneLeg, ServiceError> {
    let cfg = svc.config();
    let op = cfg
        .operators
        .iter()
        .find(|o| o.id == operator_id)
        .ok_or_else(|| {
            ServiceError::NotFound(format!("no operator \"{operator_id}\" in [[operators]]"))
        })?;
    let destination = Destination::parse(&op.uri)
        .map_err(|e| ServiceError::BadRequest(format!("operator {operator_id}: {e}")))?;
    let (live, leg) = svc
        .bridge()
        .new_leg(call_id)
        .ok_or_else(|| ServiceError::NotFound(format!("call {call_id} is not live")))?;
    // The operator's phone as a one-contact plan: its menu plays the mix until the vendor
    // call ends, then hangs up.
    let contact = Contact {
        id: ContactId::parse(&format!("operator-{}", op.id))
            .map_err(|e| ServiceError::BadRequest(format!("operator id: {e}")))?,
        name: op.name.clone(),
        destination,
        source: "hotline.toml [[operators]]".into(),
        verified_on: chrono::Utc::now().date_naive(),
        ring_timeout: ring_for,
        answer_within: None,
        menu: vec![MenuStep::Play(PlaySource::Briefing), MenuStep::Hangup],
        hours: Hours::Always,
        retries: 0,
        retry_after: Duration::ZERO,
        max_calls: None,
        trunks: Vec::new(),
        location: crate::config::Location {
            file: "hotline.toml".into(),
            line: 0,
            column: 0,
        },
        verified_on_location: crate::config::Location {
            file: "hotline.toml".into(),
            line: 0,
            column: 0,
        },
    };
    let briefing = crate::dialplan::PlanBriefing {
        repeats: 0,
        repeat_on_star: false,
        ..Default::default()
    };
    let plan = Dialplan {
        id: DialplanId::parse("operators").map_err(ServiceError::BadRequest)?,
        vendor: "operators".into(),
        rules: Vec::new(),
        contacts: vec![contact],
        briefing,
        vars: Default::default(),
        strategy: Default::default(),
        group_by: None,
        max_ladders: None,
        trunks: Vec::new(),
        response_within: crate::dialplan::default_response_within(),
        path: "hotline.toml".into(),
    };
    let (in_tx, in_rx) = mpsc::channel(LEG_IN_PACKETS);
    let (out_tx, out_rx) = mpsc::channel(LEG_OUT_FRAMES);
    let req = CallRequest {
        plan: &plan,
        contact: &plan.contacts[0],
        vars: &HashMap::new(),
        // The "briefing" slot of this one-step menu is the live mix.
        briefing: Some(crate::runtime::BriefingAudio::only(mix_source(out_rx))),
        max_duration: cfg.ladder.max_call_duration,
        ring_cap: None,
        append_briefing: false,
        trunk: None,
    };
    let (mut setup, rtp) = build_call(&cfg, &svc.inner.ep, req)
        .await
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    setup.forward_rx = Some(in_tx);
    let (answered_tx, answered) = tokio::sync::oneshot::channel();
    setup.on_answer = Some(answered_tx);
    // Persisted like a vendor call: stored at start (a crash finds it), its dialog kept for an
    // orphan BYE, sealed at the end.
    setup.dialogs = Some(svc.store().clone());
    let incident_id: Option<crate::store::IncidentId> =
        live.incident.as_deref().and_then(|i| i.parse().ok());
    svc.store()
        .save_call(&setup.record, incident_id.as_ref())
        .await
        .map_err(ServiceError::Store)?;
    // An operator's phone is not a vendor: nothing to listen for, no prompts to learn.
    setup.listen = false;
    setup.prompts = None;
    let phone_call = setup.sip.call_id.to_string();
    let join = BridgeCmd::Join {
        leg,
        name: op.name.clone(),
        via: "phone",
        listen_only: false,
        audio_in: in_rx,
        audio_out: out_tx,
    };
    live.cmds
        .send(join)
        .await
        .map_err(|_| ServiceError::NotFound(format!("call {call_id} has ended")))?;
    tracing::info!(
        call = call_id,
        operator = operator_id,
        phone_call,
        "calling the operator's phone"
    );
    let ep = svc.inner.ep.clone();
    let store = svc.store().clone();
    let svc2 = svc.clone();
    svc.inner.side_calls.fetch_add(1, Ordering::Relaxed);
    let (ctl, ctl_rx) = mpsc::channel(2);
    let cancel = ctl.clone();
    tokio::spawn(async move {
        let call = run_call(ep, rtp, setup, ctl_rx);
        tokio::pin!(call);
        let rec = tokio::select! {
            rec = &mut call => rec,
            // The live call ended (its bridge is gone): stop ringing the operator.
            _ = live.cmds.closed() => {
                let why = "the call ended before the operator answered".to_string();
                let _ = cancel.send(crate::call::Input::CancelIfRinging(why)).await;
                call.await
            }
        };
        let result = rec
            .termination
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        if let Err(e) = store.save_call(&rec, incident_id.as_ref()).await {
            tracing::warn!(error = %e, "cannot store the operator call");
        }
        let wav = std::path::Path::new(&rec.recording);
        if let Err(e) =
            crate::audit::seal_call(&store, &rec.call_id, wav, &wav.with_extension("json")).await
        {
            tracing::warn!(error = %e, "cannot seal the operator call");
        }
        svc2.inner.side_calls.fetch_sub(1, Ordering::Relaxed);
        let _ = live
            .cmds
            .send(BridgeCmd::Leave {
                leg,
                reason: format!("operator phone call ended: {result}"),
            })
            .await;
    });
    Ok(PhoneLeg {
        call_id: phone_call,
        answered,
        control: ctl,
    })
}
