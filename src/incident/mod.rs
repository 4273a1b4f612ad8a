//! Incidents: every monitoring format becomes one [`Incident`].

mod model;

pub use model::{Asset, Fault, Incident, Pattern, Severity, Status};
