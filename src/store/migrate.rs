//! Schema migrations: the files in `migrations/`, applied in order at open, each in its own
//! transaction, and tracked in `schema_version`.

use super::codec::ts;
use super::conn::{Conn, args};
use super::error::StoreError;

/// One migration: its number, its file name and its SQL.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration this build knows, oldest first. Append only: never edit a shipped one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init.sql",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_console.sql",
        sql: include_str!("../../migrations/0002_console.sql"),
    },
    Migration {
        version: 3,
        name: "0003_recovery.sql",
        sql: include_str!("../../migrations/0003_recovery.sql"),
    },
    Migration {
        version: 4,
        name: "0004_groups.sql",
        sql: include_str!("../../migrations/0004_groups.sql"),
    },
    Migration {
        version: 5,
        name: "0005_labels.sql",
        sql: include_str!("../../migrations/0005_labels.sql"),
    },
    Migration {
        version: 6,
        name: "0006_leases.sql",
        sql: include_str!("../../migrations/0006_leases.sql"),
    },
    Migration {
        version: 7,
        name: "0007_callback.sql",
        sql: include_str!("../../migrations/0007_callback.sql"),
    },
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The advisory lock migrations hold on PostgreSQL, so replicas starting at once apply each
/// migration once ("hotline_migrate" as a number).
pub const MIGRATE_LOCK: i64 = 0x686f_746c_696e_6501;

/// Brings the database up to [`latest`]; returns the versions it applied.
pub fn migrate(conn: &Conn) -> Result<Vec<i64>, StoreError> {
    {
        // Under the lock: two processes creating the table at once would collide on
        // PostgreSQL's catalog.
        let tx = conn.begin_locked(MIGRATE_LOCK)?;
        tx.batch(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TEXT NOT NULL
             )",
        )?;
        tx.commit()?;
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS {
        // Locked (SQLite: IMMEDIATE): two processes opening one database at once must not
        // both apply it.
        let tx = conn.begin_locked(MIGRATE_LOCK)?;
        let current: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?
            .get(0)?;
        if current > latest() {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known: latest(),
            });
        }
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_version WHERE version = ?1",
                args![m.version],
            )?
            .is_some();
        if done {
            continue;
        }
        let fail = |source: StoreError| StoreError::Migration {
            version: m.version,
            name: m.name,
            source: Box::new(source),
        };
        tx.batch(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
            args![m.version, m.name, ts(chrono::Utc::now())],
        )
        .map_err(fail)?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_in_order_and_named_after_them() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }
}
