//! The `hotline` commands: one file per command (brief, demo, dial, listen, serve, sim-vendor).
//! Each parses nothing itself (main.rs does) and hands over to the runtime.

mod brief;
mod demo;
mod dial;
mod listen;
mod serve;
mod sim_hold;
mod sim_vendor;

pub use brief::{BriefArgs, BriefError, brief, load_incident};
pub use demo::{DemoArgs, demo};
pub use dial::{DialArgs, Prepared, dial, prepare};
pub use listen::{ListenError, listen};
pub use serve::{ServeArgs, Started, serve, start};
pub use sim_vendor::{SimVendorArgs, sim_vendor};
