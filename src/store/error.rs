//! What can go wrong in the store.

use std::path::PathBuf;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create database folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start store thread: {0}")]
    Thread(std::io::Error),
    #[error("store thread stopped")]
    Stopped,
    /// The group commit a write was part of failed (or could not start): not stored.
    #[error("database commit: {0}")]
    Batch(String),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Pg(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("lease on {0} lost: another replica took its ladder over")]
    LeaseLost(String),
    #[error("query returned no row")]
    NoRow,
    #[error("{0} needs SQLite")]
    SqliteOnly(&'static str),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: Box<StoreError>,
    },
    #[error("database schema {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("bad {column} value in database: {value:?}")]
    BadColumn { column: &'static str, value: String },
    #[error("no incident {0}")]
    NoIncident(String),
    #[error("no ladder step {seq} on incident {incident}")]
    NoStep { incident: String, seq: u32 },
    #[error("no call {0}")]
    NoCall(String),
    #[error("bad incident id {0:?}")]
    BadId(String),
}
