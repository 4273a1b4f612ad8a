//! Wiring: sockets, tasks and the CLI commands. Everything with I/O that is not SIP lives here.

mod brief;
mod call_task;
mod demo;
mod dial;
mod pacer;
mod recover;
mod sidecar;
mod sim_vendor;
mod speech;

pub use brief::{BriefArgs, BriefError, brief, load_incident};
pub use call_task::{CallSetup, run_call};
pub use demo::{DemoArgs, demo};
pub use dial::{DialArgs, DialError, Prepared, dial, prepare};
pub use pacer::{Histogram, PTIME, Pacer};
pub use recover::recover_recordings;
pub use sim_vendor::{SimVendorArgs, sim_vendor};
pub use speech::say;
