//! The values the store hands out and takes in.

use super::error::StoreError;
use super::id::IncidentId;
use crate::call::Outcome;
use crate::incident::{Incident, Severity, Status};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Whether a dialplan took the incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Routed,
    /// No dialplan matched: nobody will be called.
    Unrouted,
}

impl Route {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Routed => "routed",
            Route::Unrouted => "unrouted",
        }
    }

    pub(super) fn parse(s: String) -> Result<Self, StoreError> {
        match s.as_str() {
            "routed" => Ok(Route::Routed),
            "unrouted" => Ok(Route::Unrouted),
            _ => Err(StoreError::BadColumn {
                column: "route",
                value: s,
            }),
        }
    }
}

/// Where an incident's escalation ladder stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LadderState {
    /// Not started (new, or unrouted).
    Pending,
    /// Calling down the ladder.
    Running,
    /// Someone answered and the briefing was delivered.
    Done,
    /// Every contact was tried without success.
    Exhausted,
    /// Hotline stopped while the ladder ran (found at the next start).
    Interrupted,
    /// Stopped on purpose: the incident resolved, or an operator stopped it.
    Stopped,
    /// Joined another incident's ladder (same vendor line and asset): that call covers it.
    Grouped,
}

impl LadderState {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            LadderState::Pending => "pending",
            LadderState::Running => "running",
            LadderState::Done => "done",
            LadderState::Exhausted => "exhausted",
            LadderState::Interrupted => "interrupted",
            LadderState::Stopped => "stopped",
            LadderState::Grouped => "grouped",
        }
    }

    pub(super) fn parse(s: String) -> Result<Self, StoreError> {
        Ok(match s.as_str() {
            "pending" => LadderState::Pending,
            "running" => LadderState::Running,
            "done" => LadderState::Done,
            "exhausted" => LadderState::Exhausted,
            "interrupted" => LadderState::Interrupted,
            "stopped" => LadderState::Stopped,
            "grouped" => LadderState::Grouped,
            _ => {
                return Err(StoreError::BadColumn {
                    column: "ladder_state",
                    value: s,
                });
            }
        })
    }
}

/// What [`Store::upsert_firing`](super::Store::upsert_firing) did with a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Upserted {
    pub id: IncidentId,
    /// True if this delivery opened the incident; false if it joined a firing one.
    pub created: bool,
}

/// One incident as stored.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentRow {
    pub id: IncidentId,
    pub source: String,
    pub fingerprint: String,
    pub status: Status,
    pub severity: Severity,
    pub dialplan: Option<String>,
    /// `None` until routing was decided.
    pub route: Option<Route>,
    /// The incident of the latest delivery, its `id` set to the store's id.
    pub incident: Incident,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_reason: Option<String>,
    pub ladder_state: LadderState,
    /// Why the ladder is in its state (e.g. what interrupted it).
    pub ladder_reason: Option<String>,
    /// The vendor's case number, once known.
    pub vendor_case: Option<String>,
    /// The engineer the vendor sent, once known.
    pub engineer_name: Option<String>,
    /// The briefing as spoken to the vendor, once prepared.
    pub briefing_text: Option<String>,
    /// Post-incident notes (cause, fix, what to do next time), edited in the console.
    pub notes: Option<String>,
}

/// One webhook delivery that opened or joined an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// 1, 2, ... per incident.
    pub seq: u32,
    pub received_at: DateTime<Utc>,
    pub source: String,
    /// Body bytes as received.
    pub raw_size: u64,
    /// True for the delivery that opened the incident.
    pub created: bool,
}

/// One timeline event of a stored call.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEvent {
    /// Position in the timeline, from 0.
    pub seq: u32,
    pub at: DateTime<Utc>,
    /// Milliseconds since the INVITE left.
    pub offset_ms: f64,
    /// The event's `kind` tag (e.g. `answered`).
    pub kind: String,
    /// The event as the call record serializes it.
    pub event: serde_json::Value,
}

/// A call's WAV as indexed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordingFile {
    pub path: String,
    pub bytes: u64,
    /// Hex SHA-256 of the file, once final.
    pub sha256: Option<String>,
    /// True once the writer closed the file.
    pub is_final: bool,
}

/// One call as stored.
#[derive(Clone, Debug, Serialize)]
pub struct StoredCall {
    pub call_id: String,
    pub incident_id: Option<IncidentId>,
    pub dialplan: String,
    pub contact: String,
    pub uri: String,
    /// Where the call is: `call::Phase`'s name from the record as last saved (`ended` once
    /// it has a result or was interrupted; `unknown` for a record saved before phases).
    pub phase: String,
    /// When it entered `phase`.
    pub phase_since: Option<DateTime<Utc>>,
    /// `None` while the call is live.
    pub result: Option<Outcome>,
    pub code: Option<u16>,
    pub reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub time_to_answer_ms: Option<u64>,
    /// `None` while ringing.
    pub sla_met: Option<bool>,
    pub recording_path: String,
    /// The call record's JSON as last saved (with `interrupted` set if it was).
    pub record: serde_json::Value,
    /// Hotline stopped during the call.
    pub interrupted: bool,
    pub updated_at: DateTime<Utc>,
    pub events: Vec<StoredEvent>,
    pub recording: Option<RecordingFile>,
}

/// A ladder step about to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStep {
    pub contact: String,
    /// 1-based, per contact.
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    /// The call placed for this step, if known when it starts.
    pub call_id: Option<String>,
}

/// What a ladder's call writes with its step, in the one transaction before its INVITE
/// ([`crate::store::Store::start_call`]): the ladder's state and briefing when not stored yet,
/// and the wait for room the call had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepStart {
    /// The ladder becomes `running` (reason cleared).
    pub running: bool,
    /// The briefing text the call speaks (the incident's `briefing_text`).
    pub briefing_text: Option<String>,
    /// How long the call waited for room (ms), and for what.
    pub queued: Option<(u64, String)>,
}

/// One ladder step as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LadderStep {
    /// 1, 2, ... per incident.
    pub seq: u32,
    pub contact: String,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    /// `None` while the step runs.
    pub outcome: Option<Outcome>,
    pub reason: Option<String>,
    pub call_id: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    /// A stop cut this step's call short (a crash, or the drain time of a graceful stop).
    pub interrupted: bool,
    /// How long the call waited for room before it was placed (caps), if it waited.
    pub queued_ms: Option<u64>,
    /// What it waited for ("line sip:… busy (1 call at once)").
    pub queue_reason: Option<String>,
}

/// One POST of a fallback P0 ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TicketAttempt {
    pub url: String,
    /// 1-based.
    pub attempt: u32,
    /// `None` if no response came (connect error, time-out).
    pub status_code: Option<u16>,
    /// The start of the response body, or the error (the store keeps at most 1 KiB).
    pub response: Option<String>,
    pub at: DateTime<Utc>,
}

/// Everything about one incident.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub row: IncidentRow,
    pub deliveries: Vec<Delivery>,
    pub ladder: Vec<LadderStep>,
    /// Oldest first, each with its events and recording.
    pub calls: Vec<StoredCall>,
    pub tickets: Vec<TicketAttempt>,
    /// The group this incident belongs to (one call for several incidents), if any.
    pub group: Option<Group>,
}

/// Incidents on one vendor line and asset (or site) served by one ladder: the leader's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The incident whose ladder calls for the whole group.
    pub leader: IncidentId,
    /// What they share (the line and the asset or site).
    pub key: String,
    /// Every member, the leader first, then in joining order.
    pub members: Vec<GroupMember>,
}

/// One incident of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupMember {
    pub id: IncidentId,
    pub status: Status,
    pub summary: String,
    pub joined_at: DateTime<Utc>,
}

impl StoredCall {
    /// The call is still running (as of its last save).
    pub fn is_live(&self) -> bool {
        !matches!(self.phase.as_str(), "ended" | "unknown")
    }
}

impl IncidentView {
    /// The call running now, if any (the newest live one).
    pub fn live_call(&self) -> Option<&StoredCall> {
        self.calls.iter().rev().find(|c| c.is_live())
    }
}

/// Which incidents [`Store::list_incidents`](super::Store::list_incidents) returns, newest
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    pub source: Option<String>,
    /// At most this many (clamped to 1..=1000).
    pub limit: u32,
    /// Only incidents older than this one: pass the last id of the previous page.
    pub before: Option<IncidentId>,
}

impl Default for IncidentFilter {
    fn default() -> Self {
        Self {
            status: None,
            source: None,
            limit: 50,
            before: None,
        }
    }
}

/// An incident whose ladder was running when hotline stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterruptedIncident {
    pub id: IncidentId,
    pub fingerprint: String,
    pub dialplan: Option<String>,
    /// Steps that were still running and are now closed as failed.
    pub open_steps: Vec<u32>,
}

/// A call that had not ended when hotline stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterruptedCall {
    pub call_id: String,
    pub incident_id: Option<IncidentId>,
    pub recording_path: String,
}

/// What [`Store::interrupted_on_start`](super::Store::interrupted_on_start) found and marked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interrupted {
    pub incidents: Vec<InterruptedIncident>,
    pub calls: Vec<InterruptedCall>,
}

/// How a ladder step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepEnd {
    /// `None`: the contact was not called (skipped, with the reason).
    pub outcome: Option<Outcome>,
    pub reason: String,
    pub ended_at: DateTime<Utc>,
    /// The call placed, if it was not known when the step started (kept otherwise).
    pub call_id: Option<String>,
}

/// The SIP dialog of an answered call, as persisted at answer: enough for another process to
/// end it with a BYE (RFC 3261 §12, §15.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredDialog {
    pub call_id: String,
    /// Our From tag.
    pub local_tag: String,
    /// Their To tag.
    pub remote_tag: String,
    /// From URI.
    pub local_uri: String,
    /// To URI: the dialled URI.
    pub remote_uri: String,
    /// Their Contact (the in-dialog Request-URI); `None`: the dialled URI.
    pub remote_target: Option<String>,
    /// Route header values, in the order they are sent.
    pub route_set: Vec<String>,
    /// Our next CSeq number in this dialog.
    pub next_cseq: u32,
    /// `UDP` or `TCP`.
    pub transport: String,
    /// Where the BYE goes (`ip:port`): the proxy, the first route or the remote target.
    pub destination: String,
    pub answered_at: DateTime<Utc>,
}
