//! Where a test's database lives, so one suite runs against both engines: a SQLite file in
//! a temporary folder, or a fresh database on the test PostgreSQL server
//! (`tests/support/postgres.rs`). [`Place::open`] may be called again: a reopen, or a second
//! process on the same database.

use super::super::Store;

#[path = "../../../tests/support/postgres.rs"]
pub(crate) mod pg_server;

#[derive(Clone)]
pub(crate) enum Place {
    Sqlite(std::sync::Arc<tempfile::TempDir>),
    Postgres(String),
}

impl Place {
    pub(crate) fn sqlite() -> Self {
        Place::Sqlite(std::sync::Arc::new(tempfile::tempdir().expect("tempdir")))
    }

    pub(crate) fn postgres() -> Self {
        Place::Postgres(pg_server::fresh_database())
    }

    /// Opens (or reopens) the store here.
    pub(crate) async fn open(&self) -> Store {
        self.try_open().await.expect("open store")
    }

    pub(crate) async fn try_open(&self) -> Result<Store, super::super::StoreError> {
        match self {
            Place::Sqlite(dir) => Store::open(dir.path().join("hotline.db")).await,
            Place::Postgres(url) => Store::connect(url).await,
        }
    }
}

/// `both!(name, ...)`: each `async fn name(place: Place)` as two tests, `name::sqlite` and
/// `name::postgres`, each with its own empty [`Place`].
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::store::tests::place::Place::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::store::tests::place::Place::postgres()).await;
            }
        }
    )*};
}
pub(crate) use both;
