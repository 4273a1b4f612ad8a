//! `hotline demo`: the simulated vendor on loopback, one call to it through
//! `dialplans/demo.toml`, the record and where the recording is.

use super::dial::{DialArgs, DialError, prepare};
use super::sim_vendor::{SimVendorArgs, sim_vendor};
use crate::call::CallRecord;
use crate::sip::Transport;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Arguments of `hotline demo`.
#[derive(Clone, Debug)]
pub struct DemoArgs {
    pub config: PathBuf,
    /// Where the simulated vendor listens (must match `dialplans/demo.toml`).
    pub vendor: SocketAddr,
}

const BRIEFING: &str = "Hello, this is hotline, the automated incident line of Example Corp. \
    Support contract 1 2 3 4 5. Asset tag Alpha dash 1 2 3 4, serial number 7 X-ray 9 Kilo 2 Lima. \
    ProLiant DL380 Gen10 in data center Frankfurt one, room 2, rack 14, unit 22. \
    Fault: disk 3 failed at 03:12 UTC. Business impact: the payment database runs degraded. \
    We ask for an engineer with a replacement disk. Our on-call engineer will join this call.";

/// Runs the demo and returns the call record.
pub async fn demo(args: DemoArgs) -> Result<CallRecord, DialError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let vendor = SimVendorArgs {
        bind: args.vendor,
        transport: Transport::Udp,
        ring: Duration::from_millis(1500),
        digit_timeout: Duration::from_secs(12),
        hangup_after: Duration::from_secs(40),
    };
    tokio::spawn(async move {
        if let Err(e) = sim_vendor(vendor, Some(tx)).await {
            tracing::error!(error = %e, "simulated vendor failed");
        }
    });
    let addr = rx.await.map_err(|_| {
        DialError::Setup(format!("simulated vendor could not bind {}", args.vendor))
    })?;
    tracing::info!(%addr, "simulated vendor up; dialling it");
    let briefing = tokio::task::spawn_blocking(|| super::say(BRIEFING))
        .await
        .ok()
        .flatten()
        .ok_or_else(|| DialError::Setup("espeak-ng is needed for the demo briefing".into()))?;
    let mut vars = HashMap::new();
    vars.insert("contract_digits".to_string(), "12345".to_string());
    let dial = DialArgs {
        config: args.config,
        dialplan: "demo".into(),
        contact: None,
        play: None,
        max_duration: Duration::from_secs(60),
        vars,
        incident: None,
    };
    let p = prepare(
        &dial,
        Some(super::call_task::pcm_source(Arc::from(briefing))),
        None,
    )
    .await?;
    super::recover::recover_recordings(&p.config.recording.dir);
    let (_tx, hangup) = mpsc::channel(1);
    Ok(super::run_call(p.endpoint, p.rtp, p.setup, hangup).await)
}
