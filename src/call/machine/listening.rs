//! Menu steps that act on what the listener hears: `wait = "prompt"` (until the vendor's
//! prompt has ended) and `wait = "human"` (hold, probe unknown speech, a person answers).

use super::*;
use crate::call::io::Heard;

impl Call {
    /// The step running now, if the call is up.
    pub(super) fn running_step(&self) -> Option<&MenuStep> {
        match &self.state {
            State::Confirmed(d) => match d.menu {
                MenuProgress::Running(i) => self.p.menu.get(i),
                _ => None,
            },
            _ => None,
        }
    }

    /// Starts a listening step (called by the menu walk).
    pub(super) fn start_listening_step(&mut self, now: Instant, step: &MenuStep) {
        match step {
            MenuStep::WaitPrompt(cap) => {
                let speaking = self.speaking;
                if let State::Confirmed(d) = &mut self.state {
                    d.prompt_heard = speaking;
                }
                self.timers.set(Timer::MenuStep, now + *cap);
            }
            MenuStep::WaitHuman(timeout) => {
                self.out
                    .push_back(Output::Media(MediaCommand::Probing(true)));
                self.timers.set(Timer::MenuStep, now + *timeout);
            }
            _ => {}
        }
    }

    /// The `MenuStep` timer fired: a timed wait is over, or a listening step hit its cap.
    pub(super) fn wait_over(&mut self, now: Instant) {
        match self.running_step().cloned() {
            Some(MenuStep::Wait(_)) => self.step_finished(now, |s| matches!(s, MenuStep::Wait(_))),
            Some(MenuStep::WaitPrompt(_)) => {
                self.emit(now, EventKind::PromptEnded { capped: true });
                self.step_finished(now, |s| matches!(s, MenuStep::WaitPrompt(_)));
            }
            Some(MenuStep::WaitHuman(timeout)) => {
                self.out
                    .push_back(Output::Media(MediaCommand::Probing(false)));
                self.emit(
                    now,
                    EventKind::NoHuman {
                        waited_ms: timeout.as_millis() as u64,
                    },
                );
                // Never brief hold music: the call ends here.
                self.hangup(now, format!("no person within {}s", timeout.as_secs()));
            }
            _ => {}
        }
    }

    /// [`Timer::HumanSla`] fired: no person within the SLA. The verdict is a miss now (the
    /// record reads `sla_missed`), whatever happens later; the call goes on (the ladder
    /// decides whether it is hung up, `[ladder] human_sla_miss`).
    pub(super) fn human_sla_over(&mut self, now: Instant) {
        let live = matches!(
            self.state,
            State::Calling | State::Proceeding { .. } | State::Confirmed(_)
        );
        let Some(within) = self.p.human_sla else {
            return;
        };
        if self.person || !live {
            return;
        }
        self.emit(
            now,
            EventKind::SlaMissed {
                basis: crate::call::record::SlaBasis::Human,
                within_ms: within.as_millis() as u64,
            },
        );
    }

    pub(super) fn heard(&mut self, now: Instant, h: Heard) {
        let step = self.running_step().cloned();
        match h {
            Heard::SpeechStarted => {
                self.speaking = true;
                if let State::Confirmed(d) = &mut self.state {
                    d.prompt_heard = true;
                }
            }
            Heard::SpeechEnded => {
                self.speaking = false;
                let heard = matches!(&self.state, State::Confirmed(d) if d.prompt_heard);
                if matches!(step, Some(MenuStep::WaitPrompt(_))) && heard {
                    self.timers.stop(Timer::MenuStep);
                    self.emit(now, EventKind::PromptEnded { capped: false });
                    self.step_finished(now, |s| matches!(s, MenuStep::WaitPrompt(_)));
                }
            }
            Heard::ProbeWanted => {
                if matches!(step, Some(MenuStep::WaitHuman(_))) {
                    self.emit(now, EventKind::ProbeSent);
                    self.out.push_back(Output::Media(MediaCommand::Play {
                        source: PROBE.to_string(),
                    }));
                }
            }
            Heard::Human {
                onset,
                confidence,
                evidence,
            } => {
                if !matches!(step, Some(MenuStep::WaitHuman(_))) {
                    return;
                }
                self.person = true;
                self.timers.stop(Timer::HumanSla);
                self.timers.stop(Timer::MenuStep);
                self.out
                    .push_back(Output::Media(MediaCommand::Probing(false)));
                self.human = true;
                self.emit(
                    now,
                    EventKind::HumanDetected {
                        confidence: confidence as f32 / 100.0,
                        evidence,
                        onset_ms_before: now.saturating_duration_since(onset).as_millis() as u64,
                    },
                );
                self.step_finished(now, |s| matches!(s, MenuStep::WaitHuman(_)));
            }
        }
    }
}
