//! `hotline demo`: the main job on embedded defaults. A simulated vendor line on loopback,
//! `hotline serve` in-process, the shipped Alertmanager payload posted to its webhook: the
//! incident routes to `dialplans/demo.toml`, the ladder calls down its contacts (busy, no
//! answer within the SLA, answered), briefs, records; then the alert resolves. Prints what
//! happened and where to look.

use super::serve::{ServeArgs, start};
use super::sim_vendor::{SimVendorArgs, sim_vendor};
use crate::sip::Transport;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `hotline demo`.
#[derive(Clone, Debug)]
pub struct DemoArgs {
    pub config: PathBuf,
    /// Where the simulated vendor listens (must match `dialplans/demo.toml`).
    pub vendor: SocketAddr,
}

/// Runs the demo; returns a summary (incident, ladder steps, calls, where to look).
pub async fn demo(args: DemoArgs) -> Result<Value, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let vendor = SimVendorArgs {
        bind: args.vendor,
        transport: Transport::Udp,
        ring: Duration::from_millis(1500),
        digit_timeout: Duration::from_secs(12),
        hangup_after: Duration::from_secs(90),
        hold: Duration::from_secs(12),
    };
    tokio::spawn(async move {
        if let Err(e) = sim_vendor(vendor, Some(tx)).await {
            tracing::error!(error = %e, "simulated vendor failed");
        }
    });
    rx.await
        .map_err(|_| format!("the simulated vendor could not bind {}", args.vendor))?;
    let serve_args = ServeArgs {
        config: args.config.clone(),
        http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        sip: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
    };
    let started = start(&serve_args).await?;
    let (http, svc) = (started.http, started.svc.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(started.run(async {
        let _ = stop_rx.await;
    }));
    eprintln!("hotline serving on http://{http} (webhooks, API, /console, /metrics)");

    let base = args.config.parent().unwrap_or(std::path::Path::new("."));
    let payload_path = base.join("examples/alertmanager.json");
    let payload = std::fs::read_to_string(&payload_path)
        .map_err(|e| format!("{}: {e}", payload_path.display()))?;
    let client = reqwest::Client::new();
    let post = |body: String| {
        let mut r = client
            .post(format!("http://{http}/v1/hooks/alertmanager"))
            .header("content-type", "application/json")
            .body(body);
        if let Ok(t) = std::env::var("HOTLINE_WEBHOOK_TOKEN")
            && !t.is_empty()
        {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    eprintln!("posting {} as Alertmanager would", payload_path.display());
    let resp = post(payload.clone()).await.map_err(|e| e.to_string())?;
    let code = resp.status();
    let reply: Value = serde_json::from_str(&resp.text().await.map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if !code.is_success() {
        return Err(format!("webhook answered {code}: {reply}"));
    }
    let first = &reply["incidents"][0];
    eprintln!(
        "202 Accepted: incident {} -> {}",
        first["id"], first["action"]
    );
    let id: crate::store::IncidentId = first["id"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| format!("no incident id in {reply}"))?;

    // Follow the ladder.
    let mut shown = 0;
    let view = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Some(v) = svc.store().incident(&id).await.map_err(|e| e.to_string())? else {
            continue;
        };
        for step in v.ladder.iter().skip(shown) {
            if step.outcome.is_none() && step.reason.is_none() {
                break;
            }
            eprintln!(
                "  step {}: {} -> {} ({})",
                step.seq,
                step.contact,
                step.outcome
                    .and_then(|o| serde_json::to_value(o).ok())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "skipped".into()),
                step.reason.clone().unwrap_or_default()
            );
            shown += 1;
        }
        let state = serde_json::to_value(v.row.ladder_state).unwrap_or_default();
        if !matches!(state.as_str(), Some("running" | "pending")) {
            break v;
        }
    };

    // The alert clears: Alertmanager sends the same alert as resolved.
    let mut resolved: Value = serde_json::from_str(&payload).map_err(|e| e.to_string())?;
    resolved["status"] = json!("resolved");
    if let Some(alerts) = resolved["alerts"].as_array_mut() {
        for a in alerts {
            a["status"] = json!("resolved");
            a["endsAt"] = json!(chrono::Utc::now().to_rfc3339());
        }
    }
    let _ = post(resolved.to_string()).await;
    let _ = stop_tx.send(());
    let _ = server.await;

    let calls: Vec<Value> = view
        .calls
        .iter()
        .map(|c| {
            json!({
                "call_id": c.call_id,
                "contact": c.contact,
                "uri": c.uri,
                "result": c.result,
                "code": c.code,
                "time_to_answer_ms": c.time_to_answer_ms,
                "sla_met": c.sla_met,
                "recording": c.recording_path,
            })
        })
        .collect();
    let db = svc.config().store.path.display().to_string();
    Ok(json!({
        "incident": id.to_string(),
        "dialplan": view.row.dialplan,
        "ladder_state": view.row.ladder_state,
        "ladder": view.ladder,
        "calls": calls,
        "briefing": view.row.briefing_text,
        "where_to_look": {
            "database": db,
            "recordings": "each call's WAV (left = hotline, right = vendor) with its <call_id>.json timeline",
            "console": "hotline serve, then open http://127.0.0.1:8080/console",
            "verify": "hotline verify --config hotline.toml",
        }
    }))
}
