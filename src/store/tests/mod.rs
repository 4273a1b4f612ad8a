//! Store tests, each run on a SQLite file and on a PostgreSQL database (`place.rs`), and a
//! few SQLite-only ones on in-memory databases and files. None is timed.

mod batch;
mod calls;
mod groups;
mod incidents;
mod leases;
mod migrations;
pub(crate) mod place;
mod restart;

use crate::call::{CallRecord, Clock, EventKind, Outcome, Termination};
use crate::incident::{Incident, Severity};
use std::time::{Duration, Instant};

/// Shared across tasks and held in web state.
#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<super::Store>();
}

/// A firing incident from `source` with this fingerprint.
fn incident(source: &str, fingerprint: &str) -> Incident {
    let mut i = Incident {
        source: source.into(),
        fingerprint: fingerprint.into(),
        severity: Severity::Critical,
        ..Incident::default()
    };
    i.fault.summary = format!("disk failed on {fingerprint}");
    i.asset.vendor = Some("Acme".into());
    i
}

/// A call record that has rung and been answered, not yet ended.
fn answered_call(call_id: &str) -> (CallRecord, Instant) {
    let t0 = Instant::now();
    let mut r = CallRecord::new(
        call_id,
        "acme",
        "support",
        "sip:support@127.0.0.1",
        Duration::from_secs(30),
        &format!("recordings/{call_id}.wav"),
        Clock::now(),
    );
    r.push(
        t0,
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(
        t0 + Duration::from_millis(120),
        EventKind::Provisional {
            code: 180,
            reason: "Ringing".into(),
        },
    );
    r.push(
        t0 + Duration::from_millis(2500),
        EventKind::Answered { code: 200 },
    );
    (r, t0)
}

/// Ends an answered call with a BYE from us.
fn end_call(r: &mut CallRecord, t0: Instant) {
    r.push(
        t0 + Duration::from_millis(9000),
        EventKind::ByeSent {
            reason: "briefing done".into(),
        },
    );
    r.push(
        t0 + Duration::from_millis(9050),
        EventKind::Ended {
            result: Outcome::Answered,
        },
    );
    r.terminate(Termination::new(Outcome::Answered, "briefing done"));
}
