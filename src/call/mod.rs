//! The call core: one outbound call ([`Call`]) and one inbound call ([`InboundCall`], a
//! vendor calling back) as pure, time-injected state machines.
//!
//! Nothing here touches a socket, a clock or a file. `crate::sip` turns wire messages into
//! [`Input`]s and [`Outgoing`]s into wire messages; `crate::runtime` runs one task per call that
//! drives a [`Call`].

mod digest;
mod event;
mod ids;
mod inbound;
mod io;
mod machine;
mod menu;
mod orphan_bye;
mod phase;
mod record;
mod session_timer;
mod termination;
mod timer;

#[cfg(test)]
mod human_sla_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;

pub use digest::{
    AuthFailure, AuthPolicy, Authorization, Challenge, DigestAlgorithm, DigestQop, DigestSession,
};
pub use event::EventKind;
pub use ids::{Branch, CallId, Method, RequestHandle, Tag};
pub use inbound::{InboundCall, InboundInput, InboundParams, InboundTimer, Offer};
pub use io::{
    DialogState, Heard, Input, Label, MediaCommand, OutRequest, OutResponse, Outgoing, Output,
    Request, Response,
};
pub use machine::{BRIEFING, BRIEFING_DETAILS, BriefingPolicy, Call, CallParams, PROBE, RingLimit};
pub use menu::MenuStep;
pub use orphan_bye::{ByeEnd, ByeOutput, ByeTx};
pub use phase::{Phase, PhaseTracker};
pub use record::{CallDirection, CallRecord, Clock, Failover, MediaStats, SlaBasis, TimelineEvent};
pub use session_timer::parse_min_se as session_timer_min_se;
pub use session_timer::{
    MIN_SE, Refresher, SESSION_EXPIRES, SessionExpires, TimerAnswer, TimerHeaders, TimerRequest,
};
pub use termination::{Outcome, Party, Side, Termination};
pub use timer::Timer;
