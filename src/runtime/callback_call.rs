//! One admitted call to the callback line, start to end: the record stored (inbound, on the
//! matched incident), the call task (`run_inbound_call`: the inbound core and its script,
//! media, the two-channel recording, the bridge opened at our 200), the operators rung when
//! the script says so (the announcement to the notify webhook and console, the
//! `[callback] ring_operators` phones at once; the first to answer is bridged, the others
//! stop ringing), then stored, sealed into the hash chain and counted.

use super::bridge::BridgeSetup;
use super::bridge::phone::{PhoneLeg, call_operator_for};
use super::call_core::InboundCore;
use super::call_task::{CallIo, SourceFactory, pcm_source, run_inbound_call};
use super::live::LiveSetup;
use super::service::Service;
use crate::call::{
    CallDirection, CallRecord, Clock, EventKind, InboundCall, InboundParams, Input, Offer,
    TimelineEvent,
};
use crate::config::CallbackConfig;
use crate::ladder::callback_script::{
    BEEP, CASE_PROMPT, CallbackScript, GREETING, NO_ANSWER, ScriptParams,
};
use crate::ladder::{CallerMatch, MatchedBy, OpenIncident};
use crate::sip::{Inbound, InboundRequest, SipContext};
use crate::store::IncidentId;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// How often the call's timeline is read for the script's news (as `call_watch` does).
const POLL: Duration = Duration::from_millis(100);

/// What the screening admitted, with everything set up for the call task.
pub(super) struct Admitted {
    /// When the INVITE was read, and from where.
    pub at: Instant,
    pub from: SocketAddr,
    pub raw: InboundRequest,
    pub handle: crate::call::RequestHandle,
    pub offer: Offer,
    pub params: InboundParams,
    pub sip: SipContext,
    pub rtp: UdpSocket,
    /// The Call-ID's messages, routed since the screening.
    pub messages: mpsc::UnboundedReceiver<Inbound>,
    pub first: CallerMatch,
    pub open: Vec<OpenIncident>,
    pub caller_uri: String,
    pub callback: CallbackConfig,
}

/// The prompts, spoken once per process (espeak-ng, like the briefing).
fn prompts() -> &'static HashMap<&'static str, Arc<[i16]>> {
    static PCM: OnceLock<HashMap<&'static str, Arc<[i16]>>> = OnceLock::new();
    PCM.get_or_init(|| {
        let say = |text: &str| -> Arc<[i16]> {
            super::speech::say(text)
                .unwrap_or_else(|| vec![0; 8000])
                .into()
        };
        HashMap::from([
            (
                GREETING,
                say("Incident line. Connecting you to the on-call engineer."),
            ),
            (
                CASE_PROMPT,
                say("Please enter your case number, then hash."),
            ),
            (
                NO_ANSWER,
                say("Nobody could take your call. Please leave a message after the tone."),
            ),
            (BEEP, beep()),
        ])
    })
}

/// 400 ms of 1 kHz at -12 dBFS.
fn beep() -> Arc<[i16]> {
    (0..3200)
        .map(|n| {
            let t = n as f64 / 8000.0;
            (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect()
}

fn sources() -> HashMap<String, SourceFactory> {
    prompts()
        .iter()
        .map(|(k, v)| (k.to_string(), pcm_source(v.clone())))
        .collect()
}

/// The dialplan and contact the record names, and the incident, from the first match.
fn describe(first: &CallerMatch, open: &[OpenIncident]) -> (String, String, Option<String>) {
    match first {
        CallerMatch::Matched { incident_id, by } => {
            let plan = open
                .iter()
                .find(|o| &o.incident_id == incident_id)
                .map(|o| o.dialplan.clone())
                .unwrap_or_else(|| "callback".into());
            let contact = match by {
                MatchedBy::Contact(c) => c.clone(),
                _ => "caller".into(),
            };
            (plan, contact, Some(incident_id.clone()))
        }
        CallerMatch::AskCaseNumber { vendor: Some(v) } => (v.clone(), "caller".into(), None),
        _ => ("callback".into(), "caller".into(), None),
    }
}

/// The incident the call ended up tied to (the last match on its timeline).
fn matched_incident(events: &[TimelineEvent]) -> Option<IncidentId> {
    events.iter().rev().find_map(|e| match &e.kind {
        EventKind::CallbackMatched { incident_id, .. } => incident_id.parse().ok(),
        _ => None,
    })
}

/// Runs the call to its end, then stores, seals and counts it.
pub(super) async fn run(svc: &Service, a: Admitted) {
    let cfg = svc.config();
    let store = svc.store().clone();
    // Ours, not the caller's Call-ID: it names the WAV file and the console's call page.
    let id = format!("in{:030x}", rand::random::<u128>() >> 8);
    let now = chrono::Utc::now();
    let date = (
        chrono::Datelike::year(&now),
        chrono::Datelike::month(&now),
        chrono::Datelike::day(&now),
    );
    let recording = match crate::recording::sidecar::recording_path(&cfg.recording.dir, date, &id) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "no recording path for a callback");
            return;
        }
    };
    // Spoken before the core exists (first call only): the 200 never waits for audio.
    let sources = tokio::task::spawn_blocking(sources)
        .await
        .unwrap_or_default();
    let (dialplan, contact, incident) = describe(&a.first, &a.open);
    let mut record = CallRecord::new(
        &id,
        &dialplan,
        &contact,
        &a.caller_uri,
        Duration::ZERO,
        &recording.display().to_string(),
        Clock::now(),
    );
    record.direction = CallDirection::Inbound;
    let incident_id: Option<IncidentId> = incident.as_deref().and_then(|i| i.parse().ok());
    if let Err(e) = store.save_call(&record, incident_id.as_ref()).await {
        tracing::warn!(error = %e, "cannot store the callback's start");
    }
    let _ = store.mark_inbound(&id).await;
    let cb = &a.callback;
    let script = CallbackScript::new(ScriptParams {
        first: a.first,
        open: a.open,
        ring_for: cb.ring_for,
        digits_within: cb.digits_within,
        message_max: cb.message_max,
    });
    let core = InboundCore::new(InboundCall::new(a.params, a.offer, a.at), script);
    let io = CallIo {
        sip: a.sip,
        dest: a.from,
        force_proxy: false,
        record,
        recording_path: recording,
        sources,
        // Stored and sealed at the end, not 32 s later: a retransmitted BYE after it gets
        // the endpoint's 481, as for our own calls.
        linger: false,
        forward_rx: None,
        dialogs: None,
        prompts: None,
        listen: false,
        live: incident.clone().map(|incident| LiveSetup {
            store: store.clone(),
            hub: svc.inner.events.clone(),
            incident,
        }),
        on_answer: None,
    };
    let bridge = BridgeSetup {
        registry: svc.inner.bridge.clone(),
        incident,
    };
    let (ctl, ctl_rx) = mpsc::channel(8);
    svc.inner
        .side_calls
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let task = tokio::spawn(run_inbound_call(
        svc.inner.ep.clone(),
        a.rtp,
        io,
        (core, a.messages),
        (a.raw, a.handle, a.from),
        ctl_rx,
        Some(bridge),
    ));
    let rec = ring_operators(svc, &id, cb, task, ctl).await;
    if let Some(rec) = rec {
        finish(svc, rec).await;
    }
    svc.inner
        .side_calls
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// Waits for the call's end; meanwhile rings the operators when the script says so and
/// bridges the first who answers.
async fn ring_operators(
    svc: &Service,
    id: &str,
    cb: &CallbackConfig,
    mut task: tokio::task::JoinHandle<CallRecord>,
    ctl: mpsc::Sender<Input>,
) -> Option<CallRecord> {
    let registry = svc.inner.bridge.clone();
    let mut legs: Vec<PhoneLeg> = Vec::new();
    let (mut rung, mut bridged, mut gave_up) = (false, false, false);
    let rec = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = tokio::time::sleep(POLL) => {}
        }
        let Some(live) = registry.call(id) else {
            continue; // not answered yet
        };
        let timeline = live.timeline.borrow().clone();
        let has = |f: &dyn Fn(&EventKind) -> bool| timeline.iter().any(|e| f(&e.kind));
        if !rung && has(&|k| matches!(k, EventKind::OperatorsRung { .. })) {
            rung = true;
            let about = match matched_incident(&timeline) {
                Some(i) => format!("about incident {i}"),
                None => "not matched to an incident".into(),
            };
            registry.announce(id, &format!("a vendor is calling back ({about}): join now"));
            for op in &cb.ring_operators {
                match call_operator_for(svc, id, op, cb.ring_for).await {
                    Ok(leg) => legs.push(leg),
                    Err(e) => {
                        tracing::warn!(operator = %op, error = %e, "cannot ring the operator")
                    }
                }
            }
        }
        if bridged || gave_up {
            continue;
        }
        // A browser leg is someone there; a phone leg joins the mix when dialled, so its
        // answer is what counts.
        let browser =
            has(&|k| matches!(k, EventKind::OperatorJoined { via, .. } if via != "phone"));
        let phone = legs.iter_mut().position(|l| l.answered.try_recv().is_ok());
        if browser || phone.is_some() {
            bridged = true;
            let _ = ctl.send(Input::TakeOver).await;
            for (i, l) in legs.iter().enumerate() {
                if Some(i) != phone {
                    let why = "another operator answered first".to_string();
                    let _ = l.control.try_send(Input::CancelIfRinging(why));
                }
            }
        } else if has(&|k| matches!(k, EventKind::OperatorsNoAnswer)) {
            gave_up = true;
            for l in &legs {
                let why = "nobody answered in time".to_string();
                let _ = l.control.try_send(Input::CancelIfRinging(why));
            }
        }
    };
    for l in &legs {
        let _ = l
            .control
            .try_send(Input::CancelIfRinging("the caller hung up".into()));
    }
    match rec {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "callback task failed");
            None
        }
    }
}

/// Stored on its incident (as matched by the end), sealed, counted; an answered callback
/// tied to an incident is the vendor's response.
async fn finish(svc: &Service, rec: CallRecord) {
    let store = svc.store();
    let incident = matched_incident(&rec.events);
    if let Err(e) = store.save_call(&rec, incident.as_ref()).await {
        tracing::warn!(error = %e, "cannot store the callback");
    }
    let wav = std::path::Path::new(&rec.recording);
    if let Err(e) =
        crate::audit::seal_call(store, &rec.call_id, wav, &wav.with_extension("json")).await
    {
        tracing::warn!(error = %e, "cannot seal the callback");
    }
    let matched_by = rec
        .events
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::CallbackMatched { by, .. } => Some(by_label(by)),
            _ => None,
        })
        .unwrap_or("unmatched");
    let result = rec
        .termination
        .as_ref()
        .and_then(|t| serde_json::to_value(t.result).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "failed".into());
    svc.inner.metrics.callbacks.call(matched_by, &result);
    if let (Some(i), Some(at)) = (&incident, rec.stages.answered) {
        let note = format!("callback {}", rec.call_id);
        match store.record_response(i, at, &note, "callback").await {
            Ok(true) => {
                tracing::info!(incident = %i, "vendor response: callback answered");
                super::response_clock::count_response(svc, i).await;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot record the response"),
        }
    }
    tracing::info!(call = %rec.call_id, matched_by, result, "callback ended");
}

/// The `/metrics` label of a match description (`MatchedBy::describe`).
fn by_label(by: &str) -> &'static str {
    if by.starts_with("caller is contact") {
        "contact"
    } else if by.starts_with("case number") {
        "case_number"
    } else {
        "only_open"
    }
}
