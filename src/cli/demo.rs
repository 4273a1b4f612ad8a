//! `hotline demo`: the main job on embedded defaults. A simulated vendor line on loopback,
//! `hotline serve` in-process, the shipped Alertmanager payload posted to its webhook: the
//! incident routes to `dialplans/demo.toml`, the ladder calls down its contacts (busy, no
//! answer within the SLA, then the hold line: a prompt, hold music, a person), briefs the
//! person, records; then the alert resolves. Prints what happened (time to answer, to a
//! human, the hold, the SLA verdict on its basis) and where to look.

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
        ring: Duration::from_millis(1000),
        digit_timeout: Duration::from_secs(12),
        hangup_after: Duration::from_secs(90),
        hold: Duration::from_secs(8),
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

    eprintln!("calls:");
    for c in &view.calls {
        eprintln!("  {}: {}", c.contact, call_summary(&c.record));
    }
    let calls: Vec<Value> = view
        .calls
        .iter()
        .map(|c| {
            json!({
                "summary": call_summary(&c.record),
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

/// One line per call from its record: "answered 0.3 s, human after 14.2 s (hold 12.6 s), SLA
/// (person within 30 s) met".
pub fn call_summary(rec: &Value) -> String {
    let secs = |v: &Value| v.as_f64().map(|ms| format!("{:.1} s", ms / 1000.0));
    let within = rec["sla"]["answer_within_ms"]
        .as_f64()
        .map(|ms| format!("{} s", ms / 1000.0))
        .unwrap_or_default();
    let mut parts = Vec::new();
    match secs(&rec["time_to_answer_ms"]) {
        Some(a) => parts.push(format!("answered {a}")),
        None => {
            let why = rec["termination"]["reason"]
                .as_str()
                .unwrap_or("not answered");
            parts.push(format!("not answered ({why})"));
        }
    }
    let human = rec["sla"]["basis"] == "human";
    if let Some(h) = secs(&rec["time_to_human_ms"]) {
        let hold = secs(&rec["hold_ms"]).unwrap_or_else(|| "0.0 s".into());
        parts.push(format!("human after {h} (hold {hold})"));
    } else if human && rec["time_to_answer_ms"].is_u64() {
        parts.push("no person".into());
    }
    let what = if human { "person" } else { "answer" };
    let verdict = match rec["sla"]["met"].as_bool() {
        Some(true) => "met",
        Some(false) => "missed",
        None => "no verdict",
    };
    parts.push(format!("SLA ({what} within {within}) {verdict}"));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_summary_reads_time_to_a_human_on_its_basis() {
        let held = json!({
            "time_to_answer_ms": 312, "time_to_human_ms": 14_200, "hold_ms": 12_600,
            "sla": {"basis": "human", "answer_within_ms": 30_000, "met": true}
        });
        assert_eq!(
            super::call_summary(&held),
            "answered 0.3 s, human after 14.2 s (hold 12.6 s), SLA (person within 30 s) met"
        );
        let busy = json!({
            "termination": {"reason": "486 Busy Here"},
            "sla": {"basis": "answer", "answer_within_ms": 5_000, "met": false}
        });
        assert_eq!(
            super::call_summary(&busy),
            "not answered (486 Busy Here), SLA (answer within 5 s) missed"
        );
    }
}
