//! Opening: migrations from empty, re-opening, a schema from the future, pragmas.

use super::super::migrate::latest;
use super::super::{Store, StoreError};

#[tokio::test]
async fn migrates_an_empty_database() {
    let store = Store::open_memory().await.expect("open");
    assert_eq!(store.schema_version().await.expect("version"), latest());
    let tables: Vec<String> = store
        .worker
        .call(|db| {
            let mut stmt = db
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
            let names = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(names)
        })
        .await
        .expect("tables");
    for t in [
        "call_events",
        "calls",
        "deliveries",
        "incidents",
        "ladder_steps",
        "recordings",
        "schema_version",
        "tickets",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
}

#[tokio::test]
async fn creates_the_folder_and_migrates_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state/db/hotline.db");
    let first = Store::open(&path).await.expect("first open");
    drop(first);
    assert!(path.exists());
    let second = Store::open(&path).await.expect("second open");
    let rows: i64 = second
        .worker
        .call(|db| {
            Ok(db
                .conn
                .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))?)
        })
        .await
        .expect("count");
    assert_eq!(rows, latest());
}

#[tokio::test]
async fn refuses_a_schema_from_a_newer_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hotline.db");
    let store = Store::open(&path).await.expect("open");
    store
        .worker
        .call(|db| {
            db.conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'x', 'y')",
                [],
            )?;
            Ok(())
        })
        .await
        .expect("insert");
    drop(store);
    match Store::open(&path).await {
        Err(StoreError::SchemaTooNew { found: 999, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// The durability promise rests on these two settings.
#[tokio::test]
async fn files_use_wal_and_full_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("hotline.db"))
        .await
        .expect("open");
    let (mode, sync): (String, i64) = store
        .worker
        .call(|db| {
            let mode = db.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let sync = db.conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, sync))
        })
        .await
        .expect("pragmas");
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
}
