//! What a sequential ladder holds back for its next call's one transaction before the INVITE
//! (`Store::start_call`): its `running` state and its briefing text. Anything else that
//! happens first (a skipped contact, a wait for open hours, a step not placed, the end)
//! writes them on their own before it ([`Unsaved::flush`]), so the store never shows them
//! out of order.

use crate::store::{IncidentId, LadderState, StepStart, Store};

/// The ladder's writes not stored yet.
#[derive(Debug, Default)]
pub(super) struct Unsaved {
    /// The ladder is `running` (it left `pending`).
    running: bool,
    /// The briefing text the next call speaks.
    briefing: Option<String>,
}

impl Unsaved {
    /// A ladder that started running.
    pub(super) fn running() -> Self {
        Self {
            running: true,
            briefing: None,
        }
    }

    /// The briefing was (re)written: its text goes with the next call.
    pub(super) fn briefing(&mut self, text: String) {
        self.briefing = Some(text);
    }

    /// What the next call writes with its step (`queued`: its wait for room); the caller
    /// calls [`Unsaved::saved`] once that transaction committed.
    pub(super) fn step_start(&self, queued: Option<(u64, String)>) -> StepStart {
        StepStart {
            running: self.running,
            briefing_text: self.briefing.clone(),
            queued,
        }
    }

    /// The call's transaction committed: nothing is left to write.
    pub(super) fn saved(&mut self) {
        *self = Self::default();
    }

    /// Writes what is held back now (off the INVITE's path).
    pub(super) async fn flush(&mut self, store: &Store, id: &IncidentId) {
        if self.running
            && let Err(e) = store.set_ladder_state(id, LadderState::Running, None).await
        {
            tracing::warn!(error = %e, "cannot store the ladder's state");
        }
        if let Some(text) = &self.briefing
            && let Err(e) = store.set_briefing_text(id, text).await
        {
            tracing::warn!(error = %e, "cannot store the briefing text");
        }
        self.saved();
    }
}
