//! The store's own thread: it owns the SQLite connection and runs one job at a time, so
//! blocking SQLite calls never stall the async runtime and writes from one process are
//! serialized without a lock.

use super::error::StoreError;
use super::id::IdGen;
use super::migrate::migrate;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// What a job gets: the connection and the id generator.
pub(super) struct Db {
    pub conn: Connection,
    pub ids: IdGen,
}

type Job = Box<dyn FnOnce(&mut Db) + Send>;

/// A handle to the store thread; cheap to clone. The thread ends, closing the connection,
/// when the last handle is dropped and the queued jobs are done.
#[derive(Clone, Debug)]
pub(super) struct Worker {
    jobs: mpsc::Sender<Job>,
}

/// Where the database lives.
pub(super) enum Target {
    File(PathBuf),
    Memory,
}

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
    /// Starts the thread, opens the database and migrates it.
    pub async fn start(target: Target) -> Result<Self, StoreError> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready) = oneshot::channel();
        let name = match &target {
            Target::File(p) => format!("store {}", p.display()),
            Target::Memory => "store :memory:".into(),
        };
        std::thread::Builder::new()
            .name("hotline-store".into())
            .spawn(move || {
                let opened = connect(&target).and_then(|mut conn| {
                    migrate(&mut conn)?;
                    Ok(conn)
                });
                match opened {
                    Ok(conn) => {
                        // If the opener is gone, its handle never existed: `rx` closes and
                        // the thread ends.
                        let _ = ready_tx.send(Ok(()));
                        let mut db = Db {
                            conn,
                            ids: IdGen::new(),
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
        Ok(Self { jobs })
    }

    /// Runs `f` on the store thread and waits for its answer.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |db| {
                // The caller may have gone (its future dropped): nothing to tell then.
                let _ = tx.send(f(db));
            }))
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)?
    }
}

impl Target {
    pub fn file(path: &Path) -> Self {
        Target::File(path.to_path_buf())
    }
}
