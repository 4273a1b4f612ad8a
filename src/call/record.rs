//! The call record: the JSON contract auditors and later features rely on. Pure: built from
//! timeline events stamped with `Instant`s and one wall-clock anchor taken at call start, so
//! every time is on one monotonic clock and still reads as RFC 3339 UTC.

use super::event::EventKind;
use super::phase::{Phase, PhaseTracker};
use super::termination::Termination;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::time::{Duration, Instant};

/// Maps the monotonic clock to UTC.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub instant: Instant,
    pub utc: DateTime<Utc>,
}

impl Clock {
    /// Anchors now.
    pub fn now() -> Self {
        Self {
            instant: Instant::now(),
            utc: Utc::now(),
        }
    }

    /// The UTC time of `at`.
    pub fn utc(&self, at: Instant) -> DateTime<Utc> {
        match at.checked_duration_since(self.instant) {
            Some(d) => self.utc + chrono::Duration::from_std(d).unwrap_or_default(),
            None => {
                let back = self.instant.duration_since(at);
                self.utc - chrono::Duration::from_std(back).unwrap_or_default()
            }
        }
    }
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// One timeline entry.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEvent {
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// Milliseconds since the INVITE left.
    pub offset_ms: f64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The staged clocks an SLA is measured on.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stages {
    #[serde(serialize_with = "rfc3339_opt")]
    pub invite_sent: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub ringing: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub answered: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub menu_done: Option<DateTime<Utc>>,
    /// A person's first words (back-dated from the listener's decision to the speech onset).
    #[serde(
        serialize_with = "rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub human: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub ended: Option<DateTime<Utc>>,
}

/// What the SLA is measured to: the 200 OK, or a person on the line (a contact whose menu
/// has `wait = "human"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaBasis {
    Answer,
    Human,
}

/// The listener's verdict that a person picked up.
#[derive(Clone, Debug, Serialize)]
pub struct Human {
    pub confidence: f32,
    pub evidence: Vec<String>,
    /// An operator said "still a machine" after this detection (the detection is kept as
    /// made; the label is beside it, on the timeline and in the store).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disputed: bool,
}

/// The SLA verdict for time to answer (or to a person).
#[derive(Clone, Debug, Serialize)]
pub struct Sla {
    pub basis: SlaBasis,
    pub answer_within_ms: u64,
    /// `None` while the call is still ringing, and for an unanswered call that ended on our
    /// side or that we withdrew (see [`super::Side`]).
    pub met: Option<bool>,
}

/// Media figures for the call.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MediaStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub packets_lost: u64,
    pub packets_late: u64,
    pub packets_duplicate: u64,
    /// RTP from a source other than the SDP's (or the NAT latch): dropped.
    pub packets_foreign: u64,
    /// SRTP packets that failed authentication (or replays): dropped. Shown when any were.
    #[serde(skip_serializing_if = "is_zero")]
    pub packets_unauthenticated: u64,
    /// SIP responses from an address we sent nothing to, or answering no transaction of ours.
    pub sip_responses_rejected: u64,
    /// Frames the pacer skipped because the task ran too late to catch up.
    pub frames_skipped: u64,
    /// How far each gap between our packets is from 20 ms, microseconds.
    pub send_jitter_p50_us: u64,
    pub send_jitter_p99_us: u64,
    pub send_jitter_max_us: u64,
    /// Send time minus scheduled time (p99), microseconds.
    pub send_lateness_p99_us: u64,
    /// 200 OK received -> first RTP packet sent, microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_to_first_rtp_us: Option<u64>,
    pub recording_late_samples: u64,
    /// Received frames the listener never heard: its worker was a second behind (the call's
    /// pacing is never held up for it).
    pub listener_frames_dropped: u64,
    /// Receipt of a frame -> the listener done with it (the delay its decisions carry on top
    /// of the listener's own), microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listener_lag_p99_us: Option<u64>,
    /// RTCP (RFC 3550): reports both ways, loss and jitter each way, round-trip time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtcp: Option<crate::media::rtcp::RtcpSummary>,
    /// The full histograms, for aggregating across calls.
    #[serde(skip)]
    pub jitter: crate::media::histogram::Histogram,
    #[serde(skip)]
    pub lateness: crate::media::histogram::Histogram,
    #[serde(skip)]
    pub listener_lag: crate::media::histogram::LogHistogram,
}

/// A call placed because the same contact's attempt before it failed on another trunk
/// (unreachable, no 100 Trying, 503): what failed, where and when.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failover {
    /// The trunk the failed attempt went out on.
    pub from_trunk: String,
    /// The failed attempt's Call-ID.
    pub from_call: String,
    /// Why it failed (its termination reason).
    pub reason: String,
    /// When the failed attempt ended (the fault as hotline saw it).
    #[serde(serialize_with = "rfc3339")]
    pub fault_at: DateTime<Utc>,
}

/// Who placed the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallDirection {
    /// hotline called out (a ladder step, `hotline dial`, an operator's phone).
    #[default]
    Outbound,
    /// Someone called hotline's callback line.
    Inbound,
}

impl CallDirection {
    fn is_outbound(&self) -> bool {
        *self == CallDirection::Outbound
    }
}

/// Everything known about one call; printed by `hotline dial`, kept as the sidecar JSON.
#[derive(Clone, Debug, Serialize)]
pub struct CallRecord {
    pub call_id: String,
    /// `inbound` for a call to hotline (a vendor calling back); absent for our own calls.
    #[serde(skip_serializing_if = "CallDirection::is_outbound")]
    pub direction: CallDirection,
    pub dialplan: String,
    pub contact: String,
    pub uri: String,
    /// The trunk the call went out on (a `[[trunks]]` name, or `sip` for `[sip]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trunk: Option<String>,
    /// Set when this call is a failover from another trunk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<Failover>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination: Option<Termination>,
    pub stages: Stages,
    /// Where the call is now (`ended` once over); see `call::Phase`.
    pub phase: Phase,
    /// When the call entered `phase`.
    #[serde(serialize_with = "rfc3339_opt")]
    pub phase_since: Option<DateTime<Utc>>,
    pub time_to_ring_ms: Option<u64>,
    pub time_to_answer_ms: Option<u64>,
    /// INVITE -> a person's first words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_human_ms: Option<u64>,
    /// Hold music heard before the person (or in the whole call), milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human: Option<Human>,
    pub sla: Sla,
    pub events: Vec<TimelineEvent>,
    pub recording: String,
    /// Why the recording is incomplete, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_error: Option<String>,
    pub media: MediaStats,
    #[serde(skip)]
    phases: PhaseTracker,
    #[serde(skip)]
    first: Option<Instant>,
    #[serde(skip)]
    clock: Option<Clock>,
    #[serde(skip)]
    answer_within: Duration,
    /// Hold music sounding since.
    #[serde(skip)]
    music_since: Option<Instant>,
}

impl CallRecord {
    /// An empty record for a call about to start.
    pub fn new(
        call_id: &str,
        dialplan: &str,
        contact: &str,
        uri: &str,
        answer_within: Duration,
        recording: &str,
        clock: Clock,
    ) -> Self {
        Self {
            call_id: call_id.into(),
            direction: CallDirection::Outbound,
            dialplan: dialplan.into(),
            contact: contact.into(),
            uri: uri.into(),
            trunk: None,
            failover: None,
            termination: None,
            stages: Stages::default(),
            phase: Phase::default(),
            phase_since: None,
            time_to_ring_ms: None,
            time_to_answer_ms: None,
            time_to_human_ms: None,
            hold_ms: None,
            human: None,
            sla: Sla {
                basis: SlaBasis::Answer,
                answer_within_ms: answer_within.as_millis() as u64,
                met: None,
            },
            events: Vec::new(),
            recording: recording.into(),
            recording_error: None,
            media: MediaStats::default(),
            phases: PhaseTracker::default(),
            first: None,
            clock: Some(clock),
            answer_within,
            music_since: None,
        }
    }

    /// Judge the SLA on time to a person, not the 200 OK (the menu waits for a human).
    pub fn judge_on_human(&mut self) {
        self.sla.basis = SlaBasis::Human;
    }

    fn add_hold(&mut self, until: Instant) {
        if let Some(from) = self.music_since.take()
            && self.stages.human.is_none()
        {
            let ms = until.saturating_duration_since(from).as_millis() as u64;
            *self.hold_ms.get_or_insert(0) += ms;
        }
    }

    /// Appends an event that happened at `at`; returns true if it moved a stage or the
    /// phase (worth persisting).
    pub fn push(&mut self, at: Instant, kind: EventKind) -> bool {
        let clock = self.clock.unwrap_or_else(Clock::now);
        // Offsets count from the INVITE leaving.
        if matches!(
            kind,
            EventKind::InviteSent { .. } | EventKind::OfferReceived { .. }
        ) && self.first.is_none()
        {
            self.first = Some(at);
        }
        let first = self.first.unwrap_or(at);
        let utc = clock.utc(at);
        let since = at.saturating_duration_since(first);
        let ms = |d: Duration| d.as_millis() as u64;
        let mut stage = true;
        match &kind {
            EventKind::InviteSent { .. } if self.stages.invite_sent.is_none() => {
                self.stages.invite_sent = Some(utc)
            }
            // Inbound: the caller's INVITE is the call's start, our 180 its ringing.
            EventKind::OfferReceived { .. } if self.stages.invite_sent.is_none() => {
                self.stages.invite_sent = Some(utc)
            }
            EventKind::RingingSent if self.stages.ringing.is_none() => {
                self.stages.ringing = Some(utc);
                self.time_to_ring_ms = Some(ms(since));
            }
            EventKind::AnsweredLocal { .. } if self.stages.answered.is_none() => {
                self.stages.answered = Some(utc);
                self.time_to_answer_ms = Some(ms(since));
            }
            EventKind::Provisional { code, .. }
                if (*code == 180 || *code == 183) && self.stages.ringing.is_none() =>
            {
                self.stages.ringing = Some(utc);
                self.time_to_ring_ms = Some(ms(since));
            }
            EventKind::Answered { .. } if self.stages.answered.is_none() => {
                self.stages.answered = Some(utc);
                self.time_to_answer_ms = Some(ms(since));
                if self.sla.basis == SlaBasis::Answer {
                    self.sla.met = Some(since <= self.answer_within);
                }
            }
            EventKind::HumanDetected {
                confidence,
                evidence,
                onset_ms_before,
            } if self.stages.human.is_none() => {
                let onset = at
                    .checked_sub(Duration::from_millis(*onset_ms_before))
                    .unwrap_or(at);
                self.add_hold(onset);
                let to_human = onset.saturating_duration_since(first);
                self.stages.human = Some(clock.utc(onset));
                self.time_to_human_ms = Some(ms(to_human));
                self.hold_ms.get_or_insert(0);
                self.human = Some(Human {
                    confidence: *confidence,
                    evidence: evidence.clone(),
                    disputed: false,
                });
                if self.sla.basis == SlaBasis::Human {
                    self.sla.met = Some(to_human <= self.answer_within);
                }
            }
            EventKind::SoundStarted { sound } if sound == "music" => {
                self.music_since.get_or_insert(at);
                stage = false;
            }
            EventKind::SoundEnded { sound } if sound == "music" => {
                self.add_hold(at);
                stage = false;
            }
            EventKind::OperatorLabel { disputed: true, .. } => {
                if let Some(h) = &mut self.human {
                    h.disputed = true;
                }
            }
            // The SLA ran out with no person (the core's `HumanSla` timer): a miss at once,
            // not at the end of the hold.
            EventKind::SlaMissed { .. } => self.sla.met = Some(false),
            EventKind::MenuDone => self.stages.menu_done = Some(utc),
            EventKind::Ended { .. } => {
                self.add_hold(at);
                self.stages.ended = Some(utc);
                let vendors = self
                    .termination
                    .as_ref()
                    .is_none_or(|t| t.side() == super::Side::Vendor);
                // An inbound call has no answer SLA (hotline answers it).
                let outbound = self.direction == CallDirection::Outbound;
                if self.sla.met.is_none() && vendors && outbound {
                    self.sla.met = Some(false);
                }
            }
            _ => stage = false,
        }
        if let Some(p) = self.phases.on_event(&kind) {
            self.phase = p;
            self.phase_since = Some(utc);
            stage = true;
        }
        // Keep the timeline in time order: sends are stamped at the socket, which can be
        // a little after a receive the task handles first.
        let i = self.events.partition_point(|e| e.at <= utc);
        self.events.insert(
            i,
            TimelineEvent {
                at: utc,
                offset_ms: since.as_secs_f64() * 1000.0,
                kind,
            },
        );
        stage
    }

    /// Records how the call ended. An unanswered call that ended on our side (or that we
    /// withdrew) has no SLA verdict: the vendor never had the chance to answer.
    /// A miss already on the timeline (`sla_missed`) stands: the vendor had the whole SLA.
    pub fn terminate(&mut self, t: Termination) {
        let missed = self
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::SlaMissed { .. }));
        if self.stages.answered.is_none() && t.side() != super::Side::Vendor && !missed {
            self.sla.met = None;
        }
        self.termination = Some(t);
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
