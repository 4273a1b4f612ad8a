//! Keeps the call's JSON sidecar current without blocking the call task: the newest record is
//! handed to a writer task through a `watch` channel (older versions are simply skipped), and
//! every write is atomic (tmp + fsync + rename).

use crate::call::CallRecord;
use crate::recording::sidecar::write_json_atomic;
use std::path::PathBuf;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The sidecar writer of one call.
pub struct Sidecar {
    tx: Option<watch::Sender<Option<serde_json::Value>>>,
    task: Option<JoinHandle<()>>,
}

impl Sidecar {
    /// Starts the writer for `path`.
    pub fn start(path: PathBuf) -> Self {
        let (tx, mut rx) = watch::channel::<Option<serde_json::Value>>(None);
        let task = tokio::spawn(async move {
            loop {
                let changed = rx.changed().await;
                let value = rx.borrow_and_update().clone();
                if let Some(v) = value {
                    let p = path.clone();
                    let r = tokio::task::spawn_blocking(move || write_json_atomic(&p, &v)).await;
                    if let Ok(Err(e)) = r {
                        tracing::warn!(error = %e, path = %path.display(), "sidecar write failed");
                    }
                }
                if changed.is_err() {
                    break;
                }
            }
        });
        Self {
            tx: Some(tx),
            task: Some(task),
        }
    }

    /// Publishes the newest record.
    pub fn update(&self, record: &CallRecord) {
        if let (Some(tx), Ok(v)) = (&self.tx, serde_json::to_value(record)) {
            tx.send_replace(Some(v));
        }
    }

    /// Writes the final record and waits for it to be on disk.
    pub async fn finish(&mut self, record: &CallRecord) {
        self.update(record);
        self.tx = None;
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}
