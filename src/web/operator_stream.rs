//! The operator page's data: one Server-Sent Events stream per page, guarded like the rest
//! of the bridge by its own credential: `GET /join/{token}/events` before joining (the link
//! is checked, not used) and `GET /leg/{secret}/events` once on the call.
//!
//! Events, in order: `context` once (incident, severity, vendor, contact and the number
//! dialled with its provenance, asset, contract, start, the briefing as spoken, the SLA),
//! then `state` (`operator_view::LiveView` plus the server's `now`) each time the call's
//! timeline moves, and `ended` (outcome, console page) when the call is over; then the
//! stream closes. Never a token or a leg secret.

use super::operator_view::live_view;
use crate::runtime::Service;
use crate::runtime::bridge::LiveCall;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;

/// States are sent at most this often (a burst of listener events is one state).
const MIN_GAP: Duration = Duration::from_millis(100);
/// How long the ended call's outcome is waited for in the store.
const OUTCOME_WAIT: Duration = Duration::from_secs(5);

/// What the page learns before joining: everything from the store and the dialplans.
pub async fn context(svc: &Service, call: &LiveCall, listen_only: bool) -> Value {
    let stored = svc.store().call(&call.call_id).await.ok().flatten();
    let incident = match call
        .incident
        .as_deref()
        .and_then(|i| i.parse::<crate::store::IncidentId>().ok())
    {
        Some(id) => svc.store().incident(&id).await.ok().flatten(),
        None => None,
    };
    let plans = svc.dialplans();
    let found = stored.as_ref().and_then(|c| plans.contact(&c.contact));
    let inc = incident.as_ref().map(|v| &v.row);
    let asset = inc.map(|r| &r.incident.asset);
    let briefing = inc.and_then(|r| r.briefing_text.clone());
    let lines: Vec<&str> = briefing
        .as_deref()
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    // A contact whose menu waits for a person has a hold limit (`wait = "human"`).
    let hold_limit_ms = found.and_then(|(_, c)| {
        c.menu.iter().find_map(|s| match s {
            crate::dialplan::MenuStep::WaitHuman(d) => Some(d.as_millis() as u64),
            _ => None,
        })
    });
    let cfg = svc.config();
    let phones: Vec<Value> = if listen_only {
        Vec::new()
    } else {
        cfg.operators
            .iter()
            .map(|o| json!({ "id": o.id, "name": o.name }))
            .collect()
    };
    json!({
        "call_id": call.call_id,
        "console": format!("/console/calls/{}", call.call_id),
        "listen_only": listen_only,
        "incident": inc.map(|r| json!({
            "id": r.id.to_string(),
            "title": r.incident.fault.summary,
            "severity": r.severity,
            "status": r.status,
            "source": r.source,
            "fault_started_at": r.incident.fault.started_at,
            "opened_at": r.created_at,
            "impact": r.incident.fault.impact,
            "request": r.incident.fault.request,
            "vendor_case": r.vendor_case,
            "engineer": r.engineer_name,
        })),
        "vendor": found.map(|(p, _)| p.vendor.clone()),
        "dialplan": stored.as_ref().map(|c| c.dialplan.clone()),
        "contact": stored.as_ref().map(|c| json!({
            "id": c.contact,
            "name": found.map(|(_, k)| k.name.clone()),
            "dialled": c.uri,
            "source": found.map(|(_, k)| k.source.clone()),
            "verified_on": found.map(|(_, k)| k.verified_on.to_string()),
        })),
        "asset": asset,
        "contract": asset.and_then(|a| a.contract.clone()),
        "call_started_at": stored.as_ref().and_then(|c| c.started_at),
        "briefing": { "text": briefing, "lines": lines },
        "sla": stored.as_ref().map(|c| c.record["sla"].clone()),
        "hold_limit_ms": hold_limit_ms,
        "phones": phones,
    })
}

fn event(name: &'static str, data: &Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

fn state(timeline: &[crate::call::TimelineEvent]) -> Value {
    let mut v = serde_json::to_value(live_view(timeline)).unwrap_or_default();
    v["now"] = json!(chrono::Utc::now());
    v
}

/// How the call ended, from the store (the ladder saves the final record just after).
async fn outcome(svc: &Service, call_id: &str) -> Value {
    let until = tokio::time::Instant::now() + OUTCOME_WAIT;
    loop {
        let c = svc.store().call(call_id).await.ok().flatten();
        if let Some(c) = &c
            && (c.result.is_some() || tokio::time::Instant::now() >= until)
        {
            return ended_json(c);
        }
        if c.is_none() && tokio::time::Instant::now() >= until {
            return json!({ "call_id": call_id, "console": format!("/console/calls/{call_id}") });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An ended call as the page explains it.
pub fn ended_json(c: &crate::store::StoredCall) -> Value {
    json!({
        "call_id": c.call_id,
        "result": c.result,
        "code": c.code,
        "reason": c.reason,
        "ended_at": c.ended_at,
        "console": format!("/console/calls/{}", c.call_id),
    })
}

/// The stream of one page (see the module docs).
pub fn stream(
    svc: Service,
    call: LiveCall,
    listen_only: bool,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<Event>(8);
    tokio::spawn(async move {
        let ctx = context(&svc, &call, listen_only).await;
        if tx.send(event("context", &ctx)).await.is_err() {
            return;
        }
        let mut timeline = call.timeline.clone();
        loop {
            let now = state(&timeline.borrow_and_update());
            if tx.send(event("state", &now)).await.is_err() {
                return;
            }
            tokio::time::sleep(MIN_GAP).await;
            // An error: the call task dropped its bridge, the call is over.
            if timeline.changed().await.is_err() {
                break;
            }
        }
        let last = state(&timeline.borrow());
        let _ = tx.send(event("state", &last)).await;
        let end = outcome(&svc, &call.call_id).await;
        let _ = tx.send(event("ended", &end)).await;
    });
    let events = stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}
