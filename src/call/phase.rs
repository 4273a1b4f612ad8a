//! Where a call is right now, for people watching it live (the API, the console, the event
//! stream). Pure: folded from the same timeline events the record keeps, so a phase change
//! carries the very stamps the final record will show.
//!
//! The listener (what the far end is doing) will add its own phases (`prompt`, `music`,
//! `human`) as variants fed by its events; everything downstream only reads the name.

use super::event::EventKind;
use serde::Serialize;

/// The call's current phase. Serialized as a lower-case name (`"ringing"`, `"on_hold"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Set up, the INVITE not yet sent.
    #[default]
    Starting,
    /// INVITE sent, no ringing yet.
    Dialing,
    /// 180/183 received.
    Ringing,
    /// Answered; walking the vendor's menu (waits, digits, prompts).
    Menu,
    /// The briefing is playing.
    Briefing,
    /// Menu done with the call still up, or an operator is talking.
    Talking,
    /// The vendor put us on hold (re-INVITE with `sendonly` / `inactive`).
    OnHold,
    Ended,
}

impl Phase {
    /// The name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Dialing => "dialing",
            Phase::Ringing => "ringing",
            Phase::Menu => "menu",
            Phase::Briefing => "briefing",
            Phase::Talking => "talking",
            Phase::OnHold => "on_hold",
            Phase::Ended => "ended",
        }
    }

    /// Words for a person: `on hold`, `talking`.
    pub fn words(self) -> &'static str {
        match self {
            Phase::OnHold => "on hold",
            p => p.as_str(),
        }
    }

    /// The phase has no verdict yet: the call is still running.
    pub fn is_live(self) -> bool {
        self != Phase::Ended
    }
}

/// Folds timeline events into the current phase. Holds only what the fold needs: the phase
/// the menu or talk is in underneath a hold, and how many operators are talking.
#[derive(Clone, Debug, Default)]
pub struct PhaseTracker {
    /// The phase without the hold.
    base: Phase,
    held: bool,
    /// Operators on the line who can be heard (listen-only legs do not talk).
    talking: u32,
    /// Talking legs by leg id, so a leave of a listen-only leg does not count down.
    legs: Vec<String>,
    /// The menu's last step is a hangup: its end is not a conversation.
    hanging_up: bool,
    /// The menu walk is over: a replayed briefing's end is back to talking.
    menu_done: bool,
}

impl PhaseTracker {
    /// The phase now.
    pub fn phase(&self) -> Phase {
        match self.base {
            Phase::Ended => Phase::Ended,
            _ if self.held => Phase::OnHold,
            _ if self.talking > 0 => Phase::Talking,
            p => p,
        }
    }

    /// Takes one event; returns the new phase if it changed.
    pub fn on_event(&mut self, kind: &EventKind) -> Option<Phase> {
        let before = self.phase();
        match kind {
            EventKind::InviteSent { .. } if self.base == Phase::Starting => {
                self.base = Phase::Dialing
            }
            EventKind::Provisional { code, .. }
                if (*code == 180 || *code == 183) && self.base == Phase::Dialing =>
            {
                self.base = Phase::Ringing
            }
            EventKind::Answered { .. } => self.base = Phase::Menu,
            EventKind::MenuStep { step, .. } => {
                self.menu_done = false;
                self.hanging_up = step == "hangup";
                self.base = if step == &format!("play {}", super::BRIEFING) {
                    Phase::Briefing
                } else {
                    Phase::Menu
                }
            }
            EventKind::BriefingRepeated { .. } => self.base = Phase::Briefing,
            // A hangup step ends the call (or, with an operator on the line, leaves them
            // talking, which `talking` already says).
            EventKind::MenuDone if self.hanging_up => self.menu_done = true,
            EventKind::MenuDone => {
                self.menu_done = true;
                self.base = Phase::Talking
            }
            // An operator's replay after the menu: its end leaves the line to the people.
            EventKind::PlaybackFinished { source }
                if source == super::BRIEFING && self.menu_done && self.base == Phase::Briefing =>
            {
                self.base = Phase::Talking
            }
            EventKind::ReinviteReceived { direction } => {
                self.held = matches!(direction.as_str(), "sendonly" | "inactive")
            }
            EventKind::OperatorJoined {
                leg, listen_only, ..
            } if !listen_only => {
                self.talking += 1;
                self.legs.push(leg.clone());
            }
            EventKind::OperatorLeft { leg, .. } => {
                if let Some(i) = self.legs.iter().position(|l| l == leg) {
                    self.legs.remove(i);
                    self.talking -= 1;
                }
            }
            EventKind::Ended { .. } => self.base = Phase::Ended,
            _ => {}
        }
        let after = self.phase();
        (after != before).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Outcome;

    fn walk(events: &[EventKind]) -> Vec<Phase> {
        let mut t = PhaseTracker::default();
        events.iter().filter_map(|e| t.on_event(e)).collect()
    }

    #[test]
    fn a_briefed_call_goes_through_each_phase_once() {
        let phases = walk(&[
            EventKind::InviteSent {
                cseq: 1,
                authenticated: false,
            },
            EventKind::Provisional {
                code: 100,
                reason: "Trying".into(),
            },
            EventKind::Provisional {
                code: 180,
                reason: "Ringing".into(),
            },
            EventKind::Provisional {
                code: 183,
                reason: "Session Progress".into(),
            },
            EventKind::Answered { code: 200 },
            EventKind::MenuStep {
                index: 0,
                step: "wait 500ms".into(),
            },
            EventKind::MenuStep {
                index: 1,
                step: "dtmf 1".into(),
            },
            EventKind::MenuStep {
                index: 2,
                step: "play briefing".into(),
            },
            EventKind::MenuDone,
            EventKind::MenuStep {
                index: 3,
                step: "hangup".into(),
            },
            EventKind::MenuDone,
            EventKind::Ended {
                result: Outcome::Answered,
            },
        ]);
        use Phase::*;
        assert_eq!(
            phases,
            vec![Dialing, Ringing, Menu, Briefing, Talking, Menu, Ended]
        );
    }

    #[test]
    fn hold_and_operators_sit_on_top_of_the_menu() {
        let joined = |leg: &str, listen_only| EventKind::OperatorJoined {
            leg: leg.into(),
            name: "ana".into(),
            via: "webrtc".into(),
            listen_only,
        };
        let left = |leg: &str| EventKind::OperatorLeft {
            leg: leg.into(),
            reason: "left".into(),
        };
        let phases = walk(&[
            EventKind::Answered { code: 200 },
            EventKind::ReinviteReceived {
                direction: "sendonly".into(),
            },
            EventKind::ReinviteReceived {
                direction: "sendrecv".into(),
            },
            joined("1", true),
            joined("2", false),
            left("1"),
            left("2"),
            EventKind::Ended {
                result: Outcome::Answered,
            },
        ]);
        use Phase::*;
        assert_eq!(phases, vec![Menu, OnHold, Menu, Talking, Menu, Ended]);
    }

    #[test]
    fn an_operators_replay_after_the_menu_returns_to_talking() {
        let phases = walk(&[
            EventKind::Answered { code: 200 },
            EventKind::MenuDone,
            EventKind::BriefingRepeated {
                reason: "operator L1 asked".into(),
            },
            EventKind::PlaybackStarted {
                source: "briefing".into(),
            },
            EventKind::PlaybackFinished {
                source: "briefing".into(),
            },
        ]);
        use Phase::*;
        assert_eq!(phases, vec![Menu, Talking, Briefing, Talking]);
    }
}
