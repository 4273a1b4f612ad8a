//! Wiring: sockets, tasks and the CLI commands. Everything with I/O that is not SIP lives here.

mod brief;
mod call_task;
mod demo;
mod dial;
mod ladder_task;
mod metrics;
mod notify;
mod pacer;
mod recover;
mod serve;
mod service;
mod sidecar;
mod sim_vendor;
mod speech;

pub use brief::{BriefArgs, BriefError, brief, load_incident};
pub use call_task::{CallSetup, run_call};
pub use demo::{DemoArgs, demo};
pub use dial::{CallRequest, DialArgs, DialError, Prepared, build_call, dial, prepare};
pub use ladder_task::menu_vars;
pub use metrics::Metrics;
pub use pacer::{Histogram, PTIME, Pacer};
pub use recover::recover_recordings;
pub use serve::{ServeArgs, serve};
pub use service::{Accepted, Service, ServiceError};
pub use sim_vendor::{SimVendorArgs, sim_vendor};
pub use speech::say;

/// Speech for `play = "briefing"` on a ladder call. Interim: a short plain-English summary
/// spoken by espeak-ng until the briefing engine is wired in.
pub(crate) async fn briefing_audio(
    _cfg: &crate::config::Config,
    _plan: &crate::dialplan::Dialplan,
    incident: &crate::incident::Incident,
) -> Option<std::sync::Arc<[i16]>> {
    let a = &incident.asset;
    let mut text = String::from("This is hotline with an automated incident report. ");
    for (label, v) in [
        ("Contract", &a.contract),
        ("Asset tag", &a.tag),
        ("Serial number", &a.serial),
        ("Model", &a.model),
        ("Site", &a.site),
    ] {
        if let Some(v) = v {
            text.push_str(&format!("{label}: {v}. "));
        }
    }
    text.push_str(&format!("Fault: {}.", incident.fault.summary));
    tokio::task::spawn_blocking(move || say(&text))
        .await
        .ok()
        .flatten()
        .map(std::sync::Arc::from)
}
