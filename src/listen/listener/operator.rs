//! Ground truth from an operator on the bridge, applied to the listener's decision and to
//! the prompt library (pure: the label and its time are inputs).

use super::{Decision, Listener, Recorded};
use crate::listen::library::Origin;
use std::time::Instant;

/// Closed, unlearned speech segments kept for a later "still a machine" (the person's first
/// words, the reply to the probe and what followed them: a few segments, a few kB each).
pub(super) const UNLEARNED_KEPT: usize = 16;

impl Listener {
    /// An operator says "still a machine". If the listener had decided on a person, the speech
    /// it took for them (from the person's first words on) is learned as recordings of this
    /// contact (the next call matches them as known prompts), and the decision starts over.
    /// Returns how many segments were learned (the one sounding now is learned when it ends).
    pub fn operator_says_machine(&mut self, _now: Instant) -> usize {
        let Some(onset) = self.person.take() else {
            return 0;
        };
        let mut learned = 0;
        for (at, landmarks) in std::mem::take(&mut self.unlearned) {
            if at >= onset {
                self.lib.add(&landmarks, Origin::ThisCall);
                learned += 1;
            }
        }
        self.chain = None;
        self.decision = Decision::Listening;
        if let Some(seg) = &mut self.seg
            && seg.onset >= onset
            && seg.recorded.is_none()
        {
            seg.recorded = Some(Recorded::OperatorLabel);
        }
        learned
    }

    /// An operator says "a person is here": the decision is made (no more probes; what they
    /// say is never learned as a prompt). Their words began no later than `now`.
    pub fn operator_says_person(&mut self, now: Instant) {
        if matches!(self.decision, Decision::Decided) {
            return;
        }
        self.decision = Decision::Decided;
        let onset = self.seg.as_ref().map_or(now, |s| s.onset.min(now));
        self.person = Some(onset);
    }

    /// The person's first words, once decided (by the listener or an operator).
    pub fn person(&self) -> Option<Instant> {
        self.person
    }
}
