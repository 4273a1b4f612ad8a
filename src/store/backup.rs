//! `hotline backup`: a consistent copy of a live store with SQLite's online backup API (a
//! plain file copy of a WAL database mid-write gave "malformed"), and the integrity chain's
//! head at that moment, so a restore can be checked with `hotline verify --head <hash>`.

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// The last entry of the integrity chain in a copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    /// Entries in the chain (0: none yet).
    pub seq: i64,
    /// The last entry's hash (`None` for an empty chain).
    pub hash: Option<String>,
}

/// Copies the database at `src` to `dst` (which must not exist) while others may be writing
/// to it, page by page, and returns the chain head the copy holds.
pub fn backup_database(src: &Path, dst: &Path) -> Result<ChainHead, StoreError> {
    let from = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // A writer holding the lock briefly (one transaction per write) is waited for.
    from.busy_timeout(Duration::from_secs(10))?;
    let mut to = Connection::open(dst)?;
    {
        let b = rusqlite::backup::Backup::new(&from, &mut to)?;
        // 256 pages a step, a short pause between steps so the live server keeps writing.
        b.run_to_completion(256, Duration::from_millis(5), None)?;
    }
    let head = to.query_row(
        "SELECT COUNT(*), (SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1) FROM audit_chain",
        [],
        |r| {
            Ok(ChainHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        },
    )?;
    let check: String = to.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("the copy failed its integrity check: {check}")),
        )));
    }
    Ok(head)
}
