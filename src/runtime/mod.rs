//! The runtime: sockets, tasks, shutdown (service, ladder task, call task, bridge). Everything
//! with I/O that is not SIP or a CLI command lives here.

mod admission;
pub mod bridge;
mod briefing_source;
pub(crate) mod build_call;
mod call_core;
mod call_listener;
mod call_rtcp;
mod call_task;
mod call_watch;
pub mod callback;
mod callback_call;
mod callback_metrics;
mod failover;
mod groups;
mod intake;
mod ladder_calls;
mod ladder_end;
mod ladder_overlap;
mod ladder_task;
mod ladder_unsaved;
mod ladder_wait;
mod ladders;
pub mod listen_pool;
pub mod live;
mod metrics;
mod notify;
mod orphan;
pub(crate) mod pacer;
pub(crate) mod readiness;
mod recover;
pub(crate) mod registration;
pub(crate) mod reload;
pub mod replicas;
pub mod response_clock;
pub(crate) mod service;
pub mod sessions;
mod sidecar;
pub(crate) mod speech;
pub mod store_lock;
mod storm;
pub(crate) mod ticket_retry;
mod trunk_health;
pub(crate) mod trunk_ping;

pub use briefing_source::{BriefingAudio, briefing_audio, briefing_source};
pub use build_call::{
    CallRequest, DialError, PROBE_LINE, bind_endpoint, build_call, transport_of, user_agent_of,
};
pub use call_task::{CallIo, CallSetup, SourceFactory, pcm_source, run_bridged_call, run_call};
pub use ladder_task::menu_vars;
pub use metrics::Metrics;
pub use pacer::{Histogram, PTIME, Pacer};
pub use recover::recover_recordings;
pub use reload::{ReloadError, Reloaded};
pub use service::{Accepted, ServeArgs, Service, ServiceError};
pub use speech::say;
