//! Where the store's jobs run. SQLite: the store's own thread owns the connection and runs
//! one job at a time, so blocking SQLite calls never stall the async runtime and writes from
//! one process are serialized without a lock. PostgreSQL: each job runs on a blocking thread
//! with a pooled connection; a job whose transaction lost a race (SERIALIZABLE) is run again.
//!
//! Group commit (SQLite): the thread takes every job already waiting (up to [`BATCH`]) and
//! runs them in one transaction, each inside its own savepoint (a job's own transaction
//! becomes a nested savepoint, `conn.rs`; a failed job is rolled back to its savepoint alone),
//! then commits once: one fsync for the lot. No job's answer is sent before that commit
//! returned, so nothing is acknowledged before it is durable; if the commit fails, every job
//! of the batch gets the error. A lone job is a batch of one: the same single fsync as before.

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

/// What a job left for after the batch's commit: whether it succeeded (else its savepoint is
/// rolled back) and how to answer its caller, given the commit's result.
pub(super) struct Done {
    ok: bool,
    reply: Box<dyn FnOnce(Result<(), String>) + Send>,
}

/// A job gets the connection, or why its batch could not start (then it only answers).
type Job = Box<dyn FnOnce(Result<&mut Db, String>) -> Done + Send>;

/// The most jobs one commit covers: a batch holds SQLite's write lock while it runs, so
/// another process on the file (`hotline backup`, a CLI command) waits at most this long.
const BATCH: usize = 128;

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
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(db, batch);
    }
}

/// Runs `batch` in one transaction and answers every job once it committed.
fn run_batch(db: &mut Db, batch: Vec<Job>) {
    let conn = match &db.conn {
        Conn::Lite(c) => c,
        Conn::Pg(_) => unreachable!("PostgreSQL jobs run on the pool"),
    };
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Not even the write lock (another process held it past the busy timeout).
        let why = e.to_string();
        for job in batch {
            let _ = catch_unwind(AssertUnwindSafe(|| job(Err(why.clone()))));
        }
        return;
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        if let Err(e) = db.conn.batch("SAVEPOINT job") {
            let _ = catch_unwind(AssertUnwindSafe(|| job(Err(e.to_string()))));
            continue;
        }
        let done = catch_unwind(AssertUnwindSafe(|| job(Ok(&mut *db))));
        let ok = matches!(&done, Ok(d) if d.ok);
        // A failed or panicked job leaves nothing behind; the others in the batch stay.
        let end = if ok {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        if let Err(e) = db.conn.batch(end) {
            tracing::error!(error = %e, "store batch: cannot end a job's savepoint");
        }
        match done {
            Ok(d) => replies.push(d.reply),
            // A panicking job dropped its reply sender: its caller sees `Stopped`.
            Err(_) => tracing::error!("store job panicked"),
        }
    }
    let committed = db.conn.batch("COMMIT").map_err(|e| e.to_string());
    if committed.is_err() {
        // The connection is still in the transaction after a failed COMMIT (SQLITE_BUSY):
        // give it up, so the next batch starts clean.
        let _ = db.conn.batch("ROLLBACK");
    }
    for reply in replies {
        reply(committed.clone());
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
                    let db = match db {
                        Ok(db) => db,
                        Err(why) => {
                            // The caller may have gone (its future dropped): nothing to tell.
                            let _ = tx.send(Err(StoreError::Batch(why)));
                            return Done {
                                ok: false,
                                reply: Box::new(|_| {}),
                            };
                        }
                    };
                    let result = f(db);
                    Done {
                        ok: result.is_ok(),
                        // Sent only once the batch committed (or failed to).
                        reply: Box::new(move |committed| {
                            let answer = match (result, committed) {
                                (Err(e), _) => Err(e),
                                (Ok(_), Err(why)) => Err(StoreError::Batch(why)),
                                (Ok(v), Ok(())) => Ok(v),
                            };
                            let _ = tx.send(answer);
                        }),
                    }
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
