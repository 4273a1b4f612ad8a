//! The walk through the vendor's menu after answer, and the briefing's repeats (`*`, silence).

use super::*;

impl Call {
    /// The current menu step plays the briefing.
    pub(super) fn running_briefing(&self) -> bool {
        match &self.state {
            State::Confirmed(d) => matches!(d.menu, MenuProgress::Running(i)
                if matches!(self.p.menu.get(i), Some(MenuStep::Play(s)) if s == BRIEFING)),
            _ => false,
        }
    }

    /// A playback ended. After the briefing, wait for the far end to speak before moving on;
    /// play it again if the line stays silent (policy permitting).
    pub(super) fn playback_finished(&mut self, now: Instant) {
        if self.running_briefing()
            && let State::Confirmed(d) = &mut self.state
            && d.repeats_left > 0
        {
            d.heard = false;
            self.timers
                .set(Timer::BriefingSilence, now + self.p.briefing.silence);
            return;
        }
        self.step_finished(now, |s| matches!(s, MenuStep::Play(_)));
    }

    /// An operator takes over: the menu ends where it is (no replay, no closing hangup).
    pub(super) fn take_over(&mut self, now: Instant) {
        self.operator_on_line = true;
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        if d.menu == MenuProgress::Done {
            return;
        }
        d.menu = MenuProgress::Done;
        self.timers.stop(Timer::BriefingSilence);
        self.timers.stop(Timer::MenuStep);
        self.out
            .push_back(Output::Media(MediaCommand::StopPlayback));
        self.emit(now, EventKind::MenuDone);
    }

    /// An operator asked for the briefing again (the bridge page): it plays now, over
    /// whatever plays; the menu walk does not move (answered calls only).
    pub(super) fn operator_replay(&mut self, now: Instant, why: &str) {
        if matches!(self.state, State::Confirmed(_)) {
            self.replay_briefing(now, why);
        }
    }

    pub(super) fn replay_briefing(&mut self, now: Instant, why: &str) {
        self.timers.stop(Timer::BriefingSilence);
        self.emit(
            now,
            EventKind::BriefingRepeated {
                reason: why.to_string(),
            },
        );
        self.out.push_back(Output::Media(MediaCommand::Play {
            source: BRIEFING.to_string(),
        }));
    }

    pub(super) fn dtmf_received(&mut self, now: Instant, digit: char) {
        // Only while the briefing step is current (playing, or waiting after it).
        if !self.running_briefing() {
            return;
        }
        match digit {
            '*' if self.p.briefing.repeat_on_star => self.replay_briefing(now, "star pressed"),
            '2' if self.p.briefing.details_on_2 => {
                // The details play in the briefing's step: their end counts as its end.
                self.timers.stop(Timer::BriefingSilence);
                self.out.push_back(Output::Media(MediaCommand::Play {
                    source: BRIEFING_DETAILS.to_string(),
                }));
            }
            _ => {}
        }
    }

    /// The running menu step finished if it is of the kind `is`; go on with the next one.
    pub(super) fn step_finished(&mut self, now: Instant, is: impl Fn(&MenuStep) -> bool) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        if let MenuProgress::Running(i) = d.menu
            && self.p.menu.get(i).is_some_and(is)
        {
            d.menu = MenuProgress::Next(i + 1);
            self.advance_menu(now);
        }
    }

    pub(super) fn advance_menu(&mut self, now: Instant) {
        let State::Confirmed(d) = &mut self.state else {
            return;
        };
        let MenuProgress::Next(i) = d.menu else {
            return;
        };
        let Some(step) = self.p.menu.get(i).cloned() else {
            d.menu = MenuProgress::Done;
            self.emit(now, EventKind::MenuDone);
            return;
        };
        d.menu = MenuProgress::Running(i);
        self.emit(
            now,
            EventKind::MenuStep {
                index: i,
                step: step.describe(),
            },
        );
        match step {
            MenuStep::Wait(dur) => self.timers.set(Timer::MenuStep, now + dur),
            MenuStep::WaitPrompt(_) | MenuStep::WaitHuman(_) => {
                self.start_listening_step(now, &step)
            }
            MenuStep::Dtmf {
                digits,
                duration_ms,
            } => self.out.push_back(Output::Media(MediaCommand::SendDtmf {
                digits,
                duration_ms,
            })),
            MenuStep::Play(source) => self
                .out
                .push_back(Output::Media(MediaCommand::Play { source })),
            MenuStep::Hangup if self.operator_on_line => {
                // People are talking on the bridge: they end the call, not the menu.
                if let State::Confirmed(d) = &mut self.state {
                    d.menu = MenuProgress::Done;
                }
                self.emit(now, EventKind::MenuDone);
            }
            MenuStep::Hangup => {
                let State::Confirmed(d) = std::mem::replace(&mut self.state, State::Ended) else {
                    unreachable!("checked Confirmed above")
                };
                self.emit(now, EventKind::MenuDone);
                let why = Termination {
                    result: Outcome::Answered,
                    code: None,
                    reason: "menu finished".into(),
                    hangup_by: Some(Party::Local),
                };
                self.start_bye(now, d, "menu finished", why);
            }
        }
    }
}
