//! An engine that falls back to another (espeak-ng) on any error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BoxFuture, Engine, Speech, SpeechRequest};
use crate::briefing::BriefingError;

/// Tries `primary`; on any error (timeout, connection, bad audio) logs it and uses `backup`.
pub struct Fallback {
    primary: Arc<dyn Engine>,
    backup: Arc<dyn Engine>,
    /// How often the backup was used (for metrics and tests).
    fallbacks: AtomicU64,
}

impl Fallback {
    /// `primary`, falling back to `backup`.
    pub fn new(primary: Arc<dyn Engine>, backup: Arc<dyn Engine>) -> Self {
        Self {
            primary,
            backup,
            fallbacks: AtomicU64::new(0),
        }
    }

    /// How many syntheses fell back so far.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }
}

impl Engine for Fallback {
    fn id(&self) -> String {
        self.primary.id()
    }

    fn synthesize<'a>(
        &'a self,
        request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>> {
        Box::pin(async move {
            match self.primary.synthesize(request).await {
                Ok(speech) => Ok(speech),
                Err(error) => {
                    tracing::warn!(engine = %self.primary.id(), %error, fallback = %self.backup.id(),
                        "speech engine failed; using the fallback");
                    self.fallbacks.fetch_add(1, Ordering::Relaxed);
                    self.backup.synthesize(request).await
                }
            }
        })
    }
}
