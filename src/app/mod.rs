//! Wiring: sockets, tasks and the CLI commands. Everything with I/O that is not SIP lives here.

pub mod bridge;
mod brief;
mod briefing_source;
mod call_task;
mod demo;
mod dial;
mod ladder_task;
pub mod live;
mod metrics;
mod notify;
mod orphan;
mod pacer;
mod recover;
mod registration;
mod reload;
mod serve;
mod service;
mod sidecar;
mod sim_vendor;
mod speech;
pub mod store_lock;

pub use brief::{BriefArgs, BriefError, brief, load_incident};
pub use call_task::{CallSetup, SourceFactory, pcm_source, run_bridged_call, run_call};
pub use demo::{DemoArgs, demo};
pub use dial::{CallRequest, DialArgs, DialError, Prepared, build_call, dial, prepare};
pub use ladder_task::menu_vars;
pub use metrics::Metrics;
pub use pacer::{Histogram, PTIME, Pacer};
pub use recover::recover_recordings;
pub use reload::{ReloadError, Reloaded};
pub use serve::{ServeArgs, Started, serve, start};
pub use service::{Accepted, Service, ServiceError};
pub use sim_vendor::{SimVendorArgs, sim_vendor};
pub use speech::say;
