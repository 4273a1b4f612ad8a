//! What the operator's page shows live, folded from a call's timeline (pure: no I/O, no
//! clock; `web::operator_stream` pushes it). One fold gives the phase as a person reads it
//! (ringing, menu, on hold, a person on the line, briefing, talking), the moments the clocks
//! count from, who is on the bridge (muted or not) and how far the briefing has played.

use crate::call::{BRIEFING, BRIEFING_DETAILS, EventKind, Phase, PhaseTracker, TimelineEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Timeline entries sent with each state (the newest ones; the page lists them).
pub const RECENT: usize = 150;

/// The phase as the page names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    #[default]
    Starting,
    Dialing,
    Ringing,
    /// Walking the vendor's menu (waits, digits, prompts).
    Menu,
    /// The vendor's hold: a re-INVITE to `sendonly`/`inactive`, or music the listener hears.
    OnHold,
    /// The listener heard a person (and nobody from our side is talking yet).
    Person,
    Briefing,
    /// An operator on the bridge can be heard, or the menu is done with the line up.
    Talking,
    Ended,
}

impl Shown {
    /// Words for a person.
    pub fn words(self) -> &'static str {
        match self {
            Shown::Starting => "starting",
            Shown::Dialing => "dialling",
            Shown::Ringing => "ringing",
            Shown::Menu => "in the vendor's menu",
            Shown::OnHold => "on hold",
            Shown::Person => "a person is on the line",
            Shown::Briefing => "briefing the vendor",
            Shown::Talking => "talking",
            Shown::Ended => "ended",
        }
    }
}

/// One person on the bridge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operator {
    pub leg: String,
    pub name: String,
    /// "webrtc" or "phone".
    pub via: String,
    pub listen_only: bool,
    pub muted: bool,
}

/// The briefing's plays: the page highlights what has been said.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BriefingPlays {
    /// Plays started (the first, `*`, silence repeats, an operator's replay).
    pub plays: u32,
    /// The play running now began here.
    pub playing_since: Option<DateTime<Utc>>,
    /// How long the last finished play took (the real length of the speech), ms.
    pub last_play_ms: Option<u64>,
    /// A play ran to its end at least once.
    pub finished_once: bool,
    /// The details (on the vendor's `2`): playing since, and whether they were heard to the
    /// end once.
    pub details_since: Option<DateTime<Utc>>,
    pub details_finished: bool,
}

/// A phase the call went through and when it began (transient ones included: a person
/// whose detection starts the briefing at once is still a step of the story).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseAt {
    pub phase: Shown,
    pub at: DateTime<Utc>,
}

/// One timeline entry as the page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub offset_ms: f64,
    pub kind: String,
    /// The event's fields, as short text.
    pub text: String,
}

/// The call now, for the page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveView {
    pub phase: Shown,
    pub phase_words: &'static str,
    pub phase_since: Option<DateTime<Utc>>,
    /// Every phase so far, in order.
    pub history: Vec<PhaseAt>,
    pub invite_at: Option<DateTime<Utc>>,
    pub ringing_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// A person's first words (back-dated to the speech onset).
    pub person_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The SLA ran out (`sla_missed` on the timeline).
    pub sla_missed: bool,
    /// On the bridge now, in joining order.
    pub operators: Vec<Operator>,
    pub briefing: BriefingPlays,
    /// An operator stopped the briefing to talk (their leg).
    pub took_over: Option<String>,
    /// Digits sent toward the vendor, in order.
    pub dtmf_sent: String,
    /// The vendor's case number or engineer noted on the call, newest last.
    pub vendor_case: Option<String>,
    pub engineer: Option<String>,
    /// The newest [`RECENT`] entries.
    pub recent: Vec<Entry>,
}

#[derive(Default)]
struct Fold {
    tracker: PhaseTracker,
    view: LiveView,
    music: bool,
    person: bool,
}

impl Fold {
    fn shown(&self) -> Shown {
        let talking = self
            .view
            .operators
            .iter()
            .any(|o| !o.listen_only && !o.muted);
        match self.tracker.phase() {
            Phase::Ended => Shown::Ended,
            Phase::OnHold => Shown::OnHold,
            Phase::Starting => Shown::Starting,
            Phase::Dialing => Shown::Dialing,
            Phase::Ringing => Shown::Ringing,
            // Operators listening in do not stop the briefing: it is what the vendor hears.
            _ if self.view.briefing.playing_since.is_some()
                || self.view.briefing.details_since.is_some() =>
            {
                Shown::Briefing
            }
            Phase::Briefing => Shown::Briefing,
            _ if talking => Shown::Talking,
            _ if self.person => Shown::Person,
            _ if self.music => Shown::OnHold,
            Phase::Menu => Shown::Menu,
            Phase::Talking => Shown::Talking,
        }
    }

    fn push(&mut self, e: &TimelineEvent) {
        self.tracker.on_event(&e.kind);
        let v = &mut self.view;
        match &e.kind {
            EventKind::InviteSent { .. } => {
                v.invite_at.get_or_insert(e.at);
            }
            EventKind::Provisional { code, .. } if *code == 180 || *code == 183 => {
                v.ringing_at.get_or_insert(e.at);
            }
            EventKind::Answered { .. } => v.answered_at = Some(e.at),
            EventKind::SoundStarted { sound } if sound == "music" => self.music = true,
            EventKind::SoundEnded { sound } if sound == "music" => self.music = false,
            EventKind::HumanDetected {
                onset_ms_before, ..
            } => {
                self.person = true;
                self.music = false;
                v.person_at = Some(
                    e.at - chrono::Duration::milliseconds(
                        (*onset_ms_before).min(i64::MAX as u64) as i64
                    ),
                );
            }
            EventKind::OperatorLabel { label, .. } => {
                // The operator's word is ground truth: "still a machine" takes it back.
                self.person = label == "person";
                if self.person {
                    v.person_at.get_or_insert(e.at);
                }
            }
            EventKind::SlaMissed { .. } => v.sla_missed = true,
            EventKind::OperatorJoined {
                leg,
                name,
                via,
                listen_only,
            } => v.operators.push(Operator {
                leg: leg.clone(),
                name: name.clone(),
                via: via.clone(),
                listen_only: *listen_only,
                muted: false,
            }),
            EventKind::OperatorLeft { leg, .. } => v.operators.retain(|o| &o.leg != leg),
            EventKind::OperatorMuted { leg, muted } => {
                if let Some(o) = v.operators.iter_mut().find(|o| &o.leg == leg) {
                    o.muted = *muted;
                }
            }
            EventKind::OperatorTookOver { leg } => {
                v.took_over = Some(leg.clone());
                v.briefing.playing_since = None;
                v.briefing.details_since = None;
            }
            EventKind::PlaybackStarted { source } if source == BRIEFING => {
                v.briefing.details_since = None;
                v.briefing.plays += 1;
                v.briefing.playing_since = Some(e.at);
            }
            EventKind::PlaybackFinished { source } if source == BRIEFING => {
                if let Some(since) = v.briefing.playing_since.take() {
                    v.briefing.last_play_ms = Some((e.at - since).num_milliseconds().max(0) as u64);
                    v.briefing.finished_once = true;
                }
            }
            EventKind::PlaybackStarted { source } if source == BRIEFING_DETAILS => {
                // The details replace what played.
                v.briefing.playing_since = None;
                v.briefing.details_since = Some(e.at);
            }
            EventKind::PlaybackFinished { source } if source == BRIEFING_DETAILS => {
                v.briefing.details_finished |= v.briefing.details_since.take().is_some();
            }
            EventKind::DtmfSent { digit, .. } => v.dtmf_sent.push(*digit),
            EventKind::Ownership {
                vendor_case,
                engineer,
                ..
            } => {
                if vendor_case.is_some() {
                    v.vendor_case.clone_from(vendor_case);
                }
                if engineer.is_some() {
                    v.engineer.clone_from(engineer);
                }
            }
            EventKind::Ended { .. } => {
                v.ended_at = Some(e.at);
                v.operators.clear();
                v.briefing.playing_since = None;
                v.briefing.details_since = None;
            }
            _ => {}
        }
        let shown = self.shown();
        if shown != self.view.phase || self.view.phase_since.is_none() {
            self.view.phase = shown;
            self.view.phase_since = Some(e.at);
            self.view.history.push(PhaseAt {
                phase: shown,
                at: e.at,
            });
        }
    }
}

/// The view of a call whose timeline so far is `timeline`.
pub fn live_view(timeline: &[TimelineEvent]) -> LiveView {
    let mut f = Fold::default();
    for e in timeline {
        f.push(e);
    }
    let mut v = f.view;
    v.phase_words = v.phase.words();
    let from = timeline.len().saturating_sub(RECENT);
    v.recent = timeline[from..].iter().map(entry).collect();
    v
}

fn entry(e: &TimelineEvent) -> Entry {
    let fields = serde_json::to_value(&e.kind).unwrap_or_default();
    let text = fields
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "kind")
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}={s}"),
                    v => format!("{k}={v}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let kind = fields["kind"].as_str().unwrap_or("event").to_string();
    Entry {
        offset_ms: e.offset_ms,
        kind,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Outcome;

    fn at(events: &[(u64, EventKind)]) -> Vec<TimelineEvent> {
        let t0: DateTime<Utc> = "2026-12-02T03:00:00Z".parse().expect("time");
        events
            .iter()
            .map(|(ms, kind)| TimelineEvent {
                at: t0 + chrono::Duration::milliseconds(*ms as i64),
                offset_ms: *ms as f64,
                kind: kind.clone(),
            })
            .collect()
    }

    fn phases(events: &[(u64, EventKind)]) -> Vec<Shown> {
        let tl = at(events);
        let mut out: Vec<Shown> = Vec::new();
        for n in 1..=tl.len() {
            let p = live_view(&tl[..n]).phase;
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        out
    }

    fn step(index: usize, step: &str) -> EventKind {
        EventKind::MenuStep {
            index,
            step: step.into(),
        }
    }

    #[test]
    fn a_held_call_reads_menu_hold_person_talking() {
        use Shown::*;
        let joined = EventKind::OperatorJoined {
            leg: "L1".into(),
            name: "Ada".into(),
            via: "webrtc".into(),
            listen_only: false,
        };
        let events = [
            (
                0,
                EventKind::InviteSent {
                    cseq: 1,
                    authenticated: false,
                },
            ),
            (
                100,
                EventKind::Provisional {
                    code: 180,
                    reason: "Ringing".into(),
                },
            ),
            (900, EventKind::Answered { code: 200 }),
            (900, step(0, "wait human (timeout 60000ms)")),
            (
                5_000,
                EventKind::SoundStarted {
                    sound: "music".into(),
                },
            ),
            (
                20_000,
                EventKind::SoundEnded {
                    sound: "music".into(),
                },
            ),
            (
                23_000,
                EventKind::HumanDetected {
                    confidence: 0.9,
                    evidence: vec![],
                    onset_ms_before: 2_000,
                },
            ),
            (24_000, joined),
            (
                30_000,
                EventKind::Ended {
                    result: Outcome::Answered,
                },
            ),
        ];
        let p = phases(&events);
        assert_eq!(
            p,
            vec![Dialing, Ringing, Menu, OnHold, Menu, Person, Talking, Ended]
        );
        let whole: Vec<Shown> = live_view(&at(&events))
            .history
            .iter()
            .map(|h| h.phase)
            .collect();
        assert_eq!(whole, p, "the history holds every phase, however short");
        let v = live_view(&at(&[(
            23_000,
            EventKind::HumanDetected {
                confidence: 0.9,
                evidence: vec![],
                onset_ms_before: 2_000,
            },
        )]));
        assert_eq!(
            v.person_at.map(|t| t.to_rfc3339()),
            Some("2026-12-02T03:00:21+00:00".into()),
            "back-dated to the first words"
        );
    }

    #[test]
    fn the_briefing_plays_are_timed_and_operators_listed() {
        let tl = at(&[
            (0, EventKind::Answered { code: 200 }),
            (10, step(0, "play briefing")),
            (
                10,
                EventKind::PlaybackStarted {
                    source: "briefing".into(),
                },
            ),
            (
                500,
                EventKind::OperatorJoined {
                    leg: "L1".into(),
                    name: "Ada".into(),
                    via: "webrtc".into(),
                    listen_only: false,
                },
            ),
            (
                600,
                EventKind::OperatorJoined {
                    leg: "L2".into(),
                    name: "Bo".into(),
                    via: "webrtc".into(),
                    listen_only: true,
                },
            ),
            (
                700,
                EventKind::OperatorMuted {
                    leg: "L1".into(),
                    muted: true,
                },
            ),
        ]);
        let v = live_view(&tl);
        assert_eq!(v.phase, Shown::Briefing);
        assert_eq!(v.briefing.plays, 1);
        assert!(v.briefing.playing_since.is_some());
        let names: Vec<(&str, bool)> = v
            .operators
            .iter()
            .map(|o| (o.name.as_str(), o.muted))
            .collect();
        assert_eq!(names, vec![("Ada", true), ("Bo", false)]);
        let mut tl = tl;
        tl.extend(at(&[
            (
                30_010,
                EventKind::PlaybackFinished {
                    source: "briefing".into(),
                },
            ),
            (30_020, EventKind::MenuDone),
            (
                31_000,
                EventKind::OperatorLeft {
                    leg: "L2".into(),
                    reason: "left".into(),
                },
            ),
        ]));
        let v = live_view(&tl);
        assert_eq!(v.briefing.last_play_ms, Some(30_000));
        assert!(v.briefing.finished_once && v.briefing.playing_since.is_none());
        assert_eq!(v.operators.len(), 1);
        assert_eq!(
            v.phase,
            Shown::Talking,
            "menu done, the muted operator is on the line"
        );
        assert_eq!(v.recent.len(), tl.len());
        assert_eq!(v.recent[1].text, "index=0 step=play briefing");
    }
}
