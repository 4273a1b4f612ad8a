//! Opening: migrations from empty, re-opening, a schema from the future, pragmas.

use super::super::conn::Backend;
use super::super::migrate::latest;
use super::super::{Store, StoreError};
use super::place::{Place, both};

async fn migrates_an_empty_database(place: Place) {
    let store = place.open().await;
    assert_eq!(store.schema_version().await.expect("version"), latest());
    let sql = match store.backend() {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = 'public' ORDER BY 1"
        }
    };
    let tables: Vec<String> = store
        .worker
        .call(move |db| db.conn.query(sql, &[])?.iter().map(|r| r.get(0)).collect())
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

/// Opened again (a restart, another replica), nothing is applied twice; a database a newer
/// build migrated is refused.
async fn migrates_once_and_refuses_a_newer_schema(place: Place) {
    let first = place.open().await;
    drop(first);
    let second = place.open().await;
    let rows: i64 = second
        .worker
        .call(|db| {
            db.conn
                .query_one("SELECT COUNT(*) FROM schema_version", &[])?
                .get(0)
        })
        .await
        .expect("count");
    assert_eq!(rows, latest());
    second
        .execute_raw(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'x', 'y')",
        )
        .await
        .expect("insert");
    drop(second);
    match place.try_open().await {
        Err(StoreError::SchemaTooNew { found: 999, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

/// Replicas starting together each run the migrations; each is applied once.
async fn concurrent_opens_migrate_once(place: Place) {
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let place = place.clone();
            tokio::spawn(async move { place.open().await })
        })
        .collect();
    for o in opens {
        let store = o.await.expect("task");
        assert_eq!(store.schema_version().await.expect("version"), latest());
    }
}

#[tokio::test]
async fn creates_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state/db/hotline.db");
    drop(Store::open(&path).await.expect("first open"));
    assert!(path.exists());
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
            let mode = db.conn.query_one("PRAGMA journal_mode", &[])?.get(0)?;
            let sync = db.conn.query_one("PRAGMA synchronous", &[])?.get(0)?;
            Ok((mode, sync))
        })
        .await
        .expect("pragmas");
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
}

both!(
    migrates_an_empty_database,
    migrates_once_and_refuses_a_newer_schema,
    concurrent_opens_migrate_once,
);
