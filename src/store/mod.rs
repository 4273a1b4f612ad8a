//! The store: incidents, webhook deliveries, calls and their timelines, ladder steps,
//! recordings and fallback tickets, and the auditor console's access log, integrity chain
//! and notes, in SQLite (embedded, no system library).
//!
//! [`Store`] is a cheap, cloneable handle with an async API. One thread per store owns the
//! connection and runs the jobs in order (see `worker.rs`): SQLite's blocking calls stay off
//! the runtime, and writes from this process are serialized without a lock.
//!
//! # Durability
//! Every write is one transaction, committed before its future resolves. The file is in WAL
//! mode with `synchronous=FULL`, so each commit fsyncs the WAL: a write that returned `Ok`
//! survives a crash of hotline or of the machine (as far as the disk honours fsync). A write
//! whose future is dropped still runs to the end or not at all, never half. The in-memory
//! store ([`Store::open_memory`]) is for tests and keeps nothing.
//!
//! # Idempotency
//! At most one incident per fingerprint fires at a time; the schema enforces it with a
//! partial unique index and [`Store::upsert_firing`] inserts with `ON CONFLICT DO NOTHING`,
//! so it holds for any number of connections or processes on one file (and carries over to
//! PostgreSQL as written).
//!
//! # Adding PostgreSQL
//! Callers hold the concrete [`Store`]; its methods are the boundary. The schema
//! (`migrations/`) keeps to SQL both engines read, and each concern's SQL sits in its own file
//! (`incidents.rs`, `calls.rs`, `ladder.rs`, `tickets.rs`, `interrupted.rs`). A PostgreSQL
//! backend becomes a second variant behind `Store` (same method set, `$n` placeholders, a
//! pool instead of the thread), chosen at open from the URL; no caller changes.

mod audit;
mod backup;
mod calls;
mod codec;
mod console;
mod dialogs;
mod error;
mod groups;
mod id;
mod incidents;
mod interrupted;
mod labels;
mod ladder;
mod migrate;
mod model;
mod tickets;
mod worker;

#[cfg(test)]
mod tests;

pub use audit::{AccessEntry, ChainEntry, GENESIS, IncidentField, entry_hash};
pub use backup::{ChainHead, backup_database};
pub use codec::ts as format_ts;
pub use console::{CallFact, ConsoleFilter, IncidentSummary};
pub use error::StoreError;
pub use id::IncidentId;
pub use labels::{CallLabel, KIND_LABEL, label_payload};
pub use model::{
    Delivery, Group, GroupMember, IncidentFilter, IncidentRow, IncidentView, Interrupted,
    InterruptedCall, InterruptedIncident, LadderState, LadderStep, NewStep, RecordingFile, Route,
    StepEnd, StoredCall, StoredDialog, StoredEvent, TicketAttempt, Upserted,
};
pub use tickets::PendingTicket;

use std::path::Path;
use worker::{Target, Worker};

/// The database handle. Clone it freely; every clone talks to the same thread and file.
#[derive(Clone, Debug)]
pub struct Store {
    worker: Worker,
}

impl Store {
    /// Opens (creating the file and its folder on first start) the database at `path` and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let worker = Worker::start(Target::file(path.as_ref())).await?;
        Ok(Self { worker })
    }

    /// A fresh database in memory, for tests.
    pub async fn open_memory() -> Result<Self, StoreError> {
        let worker = Worker::start(Target::Memory).await?;
        Ok(Self { worker })
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.worker
            .call(|db| {
                Ok(db.conn.query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
    }
}
