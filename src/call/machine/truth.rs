//! Ground truth from an operator on the bridge: "a person is here" / "still a machine".
//! The label goes on the timeline beside the listener's own decision (never replacing it),
//! and to the listener, which learns from it.

use super::*;
use crate::call::io::Label;

impl Call {
    pub(super) fn labelled(&mut self, now: Instant, label: Label, by: String) {
        let listener_human = self.human;
        self.emit(
            now,
            EventKind::OperatorLabel {
                label: label.as_str().to_string(),
                by,
                listener_human,
                // The detection stays in the record; the label stands beside it.
                disputed: listener_human && label == Label::Machine,
            },
        );
        self.out
            .push_back(Output::Media(MediaCommand::Labelled(label)));
        if label == Label::Machine || listener_human {
            return;
        }
        // A person the listener has not found yet: the human stage is the operator's, from
        // now (the label is given after the person began: never earlier than the truth).
        self.human = true;
        let waiting = matches!(self.running_step(), Some(MenuStep::WaitHuman(_)));
        if waiting {
            self.timers.stop(Timer::MenuStep);
            self.out
                .push_back(Output::Media(MediaCommand::Probing(false)));
        }
        self.emit(
            now,
            EventKind::HumanDetected {
                confidence: 1.0,
                evidence: vec!["operator".into()],
                onset_ms_before: 0,
            },
        );
        if waiting {
            self.step_finished(now, |s| matches!(s, MenuStep::WaitHuman(_)));
        }
    }
}
