//! The store: incidents, webhook deliveries, calls and their timelines, ladder steps,
//! recordings and fallback tickets, and the auditor console's access log, integrity chain
//! and notes, in SQLite (embedded, no system library; the default) or PostgreSQL (several
//! hotline processes on one database; `[store] url = "postgres://…"`).
//!
//! [`Store`] is a cheap, cloneable handle with an async API. The SQL is written once
//! (`conn.rs` runs it on either engine). SQLite: one thread per store owns the connection
//! and runs the jobs in order (see `worker.rs`): SQLite's blocking calls stay off the
//! runtime, and writes from this process are serialized without a lock. PostgreSQL: jobs run
//! at once on pooled connections (`pg.rs`), each transaction SERIALIZABLE and run again when
//! it loses a race, so every rule below holds across processes too.
//!
//! # Durability
//! Every write is one transaction, committed before its future resolves. The file is in WAL
//! mode with `synchronous=FULL`, so each commit fsyncs the WAL: a write that returned `Ok`
//! survives a crash of hotline or of the machine (as far as the disk honours fsync). A write
//! whose future is dropped still runs to the end or not at all, never half. On SQLite the
//! writes waiting at one moment share one commit (group commit, `worker.rs`), and each is
//! answered only after that commit. The in-memory
//! store ([`Store::open_memory`]) is for tests and keeps nothing.
//!
//! # Idempotency
//! At most one incident per fingerprint fires at a time; the schema enforces it with a
//! partial unique index and [`Store::upsert_firing`] inserts with `ON CONFLICT DO NOTHING`,
//! so it holds for any number of connections or processes on one file (and carries over to
//! PostgreSQL as written).
//!
//! # Two engines
//! Callers hold the concrete [`Store`]; its methods are the boundary. The schema
//! (`migrations/`) keeps to SQL both engines read, and each concern's SQL sits in its own file
//! (`incidents.rs`, `calls.rs`, `ladder.rs`, `tickets.rs`, `interrupted.rs`). The one
//! history: every chain append holds `audit::CHAIN_LOCK` (an advisory lock on PostgreSQL).

mod audit;
mod backup;
mod callbacks;
mod calls;
mod codec;
mod conn;
mod console;
mod dialogs;
mod error;
mod groups;
mod id;
mod incidents;
mod interrupted;
mod labels;
mod ladder;
mod leases;
mod migrate;
mod model;
mod pg;
mod tickets;
mod worker;

#[cfg(test)]
pub(crate) mod tests;

pub use audit::{AccessEntry, ChainEntry, GENESIS, IncidentField, entry_hash};
pub use backup::{ChainHead, backup_database};
pub use callbacks::{OpenForCallback, ResponseFacts};
pub use codec::ts as format_ts;
pub use conn::Backend;
pub use console::{CallFact, ConsoleFilter, IncidentSummary};
pub use error::StoreError;
pub use id::IncidentId;
pub use incidents::Routing;
pub use labels::{CallLabel, KIND_LABEL, label_payload};
pub use leases::{LEASE_TTL, Takeover};
pub use model::{
    Delivery, Group, GroupMember, IncidentFilter, IncidentRow, IncidentView, Interrupted,
    InterruptedCall, InterruptedIncident, LadderState, LadderStep, NewStep, RecordingFile, Route,
    StepEnd, StepStart, StoredCall, StoredDialog, StoredEvent, TicketAttempt, Upserted,
};
pub use tickets::PendingTicket;

use std::path::Path;
use std::sync::Arc;
use worker::{Target, Worker};

/// The database handle. Clone it freely; every clone talks to the same thread and file.
#[derive(Clone, Debug)]
pub struct Store {
    worker: Worker,
    /// The leases this process holds (work claiming across replicas, `leases.rs`).
    held: Arc<leases::Held>,
}

impl Store {
    /// Opens (creating the file and its folder on first start) the database at `path` and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let worker = Worker::start(Target::file(path.as_ref())).await?;
        Ok(Self::with(worker))
    }

    fn with(worker: Worker) -> Self {
        Self {
            worker,
            held: Arc::new(leases::Held::new()),
        }
    }

    /// Opens the PostgreSQL database at `url` (`postgres://user:password@host:port/db`) and
    /// brings its schema up to date; several processes may share it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let worker = Worker::start(Target::Postgres(url.to_string())).await?;
        Ok(Self::with(worker))
    }

    /// The store `[store]` names: PostgreSQL when `url` is set, else the SQLite file.
    pub async fn open_configured(cfg: &crate::config::StoreConfig) -> Result<Self, StoreError> {
        match &cfg.url {
            Some(url) => Self::connect(url.expose()).await,
            None => Self::open(&cfg.path).await,
        }
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.worker.backend()
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.worker
            .call(|db| db.conn.query_one("SELECT 1", &[]).map(drop))
            .await
    }

    /// A fresh database in memory, for tests.
    pub async fn open_memory() -> Result<Self, StoreError> {
        let worker = Worker::start(Target::Memory).await?;
        Ok(Self::with(worker))
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.worker
            .call(|db| {
                db.conn
                    .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
                    .get(0)
            })
            .await
    }
}
