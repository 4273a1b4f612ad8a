//! The `hotline` commands: one file per command (brief, demo, dial, listen, serve, sim-vendor,
//! trunk-test).
//! Each parses nothing itself (main.rs does) and hands over to the runtime.

mod brief;
mod demo;
mod dial;
mod listen;
mod serve;
mod sim_hold;
mod sim_vendor;
mod trunk_test;

pub use brief::{BriefArgs, BriefError, brief, load_incident};
pub use demo::{DemoArgs, demo};
pub use dial::{DialArgs, Prepared, dial, prepare};
pub use listen::{ListenError, listen};
pub use serve::{ServeArgs, Started, serve, start};
pub use sim_vendor::{SimVendorArgs, sim_vendor};
pub use trunk_test::{TrunkTestArgs, TrunkTestReport, trunk_test};
