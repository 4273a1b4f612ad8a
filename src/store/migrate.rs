//! Schema migrations: the files in `migrations/`, applied in order at open, each in its own
//! transaction, and tracked in `schema_version`.

use super::codec::ts;
use super::error::StoreError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

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
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest`]; returns the versions it applied.
pub fn migrate(conn: &mut Connection) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )?;
    let mut applied = Vec::new();
    for m in MIGRATIONS {
        // Immediate: two processes opening one file at once must not both apply it.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?;
        if current > latest() {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known: latest(),
            });
        }
        let done = tx
            .query_row(
                "SELECT 1 FROM schema_version WHERE version = ?1",
                [m.version],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if done {
            continue;
        }
        let fail = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        tx.execute_batch(m.sql).map_err(fail)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, ts(chrono::Utc::now())],
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
