//! Where the store's jobs run. SQLite: the store's own thread owns the connection and runs
//! one job at a time, so blocking SQLite calls never stall the async runtime and writes from
//! one process are serialized without a lock. PostgreSQL: each job runs on a blocking thread
//! with a pooled connection; a job whose transaction lost a race (SERIALIZABLE) is run again.

use super::conn::{Backend, Conn};
use super::error::StoreError;
use super::id::IdGen;
use super::migrate::migrate;
use super::pg::{PgPool, retryable};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

/// What a job gets: the connection and the id generator.
pub(super) struct Db {
    pub conn: Conn,
    pub ids: Arc<IdGen>,
}

type Job = Box<dyn FnOnce(&mut Db) + Send>;

/// A handle to the store's jobs; cheap to clone. SQLite's thread ends, closing the
/// connection, when the last handle is dropped and the queued jobs are done.
#[derive(Clone)]
pub(super) enum Worker {
    Lite { jobs: mpsc::Sender<Job> },
    Pg { pool: Box<PgPool>, ids: Arc<IdGen> },
}

/// Where the database lives.
pub(super) enum Target {
    File(PathBuf),
    Memory,
    Postgres(String),
}

/// How often a job that lost a serialization race is tried in all.
const ATTEMPTS: u32 = 50;

/// How long a write waits for another connection's lock (another process on the same file)
/// before it fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn connect(target: &Target) -> Result<Connection, StoreError> {
    let conn = match target {
        Target::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
            let conn = Connection::open(path)?;
            // WAL: readers do not block the writer; FULL: each commit fsyncs the WAL, so a
            // write that returned survives a crash or power loss.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn
        }
        Target::Memory => Connection::open_in_memory()?,
        Target::Postgres(_) => unreachable!("PostgreSQL is not opened by rusqlite"),
    };
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

fn run(db: &mut Db, rx: mpsc::Receiver<Job>) {
    while let Ok(job) = rx.recv() {
        // A panicking job drops its reply sender (its caller sees `Stopped`); the thread
        // and the connection stay up for the others.
        if catch_unwind(AssertUnwindSafe(|| job(db))).is_err() {
            tracing::error!("store job panicked");
        }
    }
}

impl Worker {
    /// Starts the thread (SQLite) or the pool (PostgreSQL), opens the database and
    /// migrates it.
    pub async fn start(target: Target) -> Result<Self, StoreError> {
        if let Target::Postgres(url) = &target {
            let pool = PgPool::new(url)?;
            let worker = Worker::Pg {
                pool: Box::new(pool),
                ids: Arc::new(IdGen::new()),
            };
            worker.call(|db| migrate(&db.conn).map(drop)).await?;
            if let Worker::Pg { pool, .. } = &worker {
                tracing::debug!(store = pool.shown, "store open");
            }
            return Ok(worker);
        }
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready) = oneshot::channel();
        let name = match &target {
            Target::File(p) => format!("store {}", p.display()),
            Target::Memory => "store :memory:".into(),
            Target::Postgres(_) => unreachable!("handled above"),
        };
        std::thread::Builder::new()
            .name("hotline-store".into())
            .spawn(move || {
                let opened = connect(&target).and_then(|conn| {
                    let conn = Conn::Lite(conn);
                    migrate(&conn)?;
                    Ok(conn)
                });
                match opened {
                    Ok(conn) => {
                        // If the opener is gone, its handle never existed: `rx` closes and
                        // the thread ends.
                        let _ = ready_tx.send(Ok(()));
                        let mut db = Db {
                            conn,
                            ids: Arc::new(IdGen::new()),
                        };
                        run(&mut db, rx);
                    }
                    Err(e) => {
                        // If the opener is gone there is nobody left to tell.
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(StoreError::Thread)?;
        ready.await.map_err(|_| StoreError::Stopped)??;
        tracing::debug!(store = name, "store open");
        Ok(Worker::Lite { jobs })
    }

    pub fn pg(&self) -> Option<&PgPool> {
        match self {
            Worker::Lite { .. } => None,
            Worker::Pg { pool, .. } => Some(&**pool),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Worker::Lite { .. } => Backend::Sqlite,
            Worker::Pg { .. } => Backend::Postgres,
        }
    }

    /// Runs `f` with a connection and waits for its answer. On PostgreSQL `f` may run more
    /// than once: again from the start when its transaction lost a serialization race (it
    /// was rolled back whole, so nothing of the lost run stays).
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Db) -> Result<T, StoreError> + Send + 'static,
    {
        match self {
            Worker::Lite { jobs } => {
                let (tx, rx) = oneshot::channel();
                jobs.send(Box::new(move |db| {
                    // The caller may have gone (its future dropped): nothing to tell then.
                    let _ = tx.send(f(db));
                }))
                .map_err(|_| StoreError::Stopped)?;
                rx.await.map_err(|_| StoreError::Stopped)?
            }
            Worker::Pg { pool, ids } => {
                let (pool, ids) = (pool.clone(), ids.clone());
                let handle = pool.handle.clone();
                handle
                    .spawn_blocking(move || run_pg(&pool, &ids, f))
                    .await
                    .map_err(|_| StoreError::Stopped)?
            }
        }
    }
}

/// One job on a pooled connection, run again while it loses serialization races.
fn run_pg<T>(
    pool: &PgPool,
    ids: &Arc<IdGen>,
    f: impl Fn(&mut Db) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        let mut db = Db {
            conn: Conn::Pg(pool.get()?),
            ids: ids.clone(),
        };
        match f(&mut db) {
            Err(e) if retryable(&e) && attempt < ATTEMPTS => {
                // A short random pause, growing, so the racers spread out.
                let ms = rand::random::<u64>() % (2 * u64::from(attempt) + 1);
                std::thread::sleep(Duration::from_millis(ms));
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl Target {
    pub fn file(path: &Path) -> Self {
        Target::File(path.to_path_buf())
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Worker::Lite { .. } => f.write_str("Worker(sqlite)"),
            Worker::Pg { pool, .. } => write!(f, "Worker({pool:?})"),
        }
    }
}
