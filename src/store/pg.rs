//! PostgreSQL: a deadpool of tokio-postgres connections on the store's own small runtime,
//! used from blocking threads, so the store's jobs stay the plain synchronous functions
//! SQLite runs (`worker.rs`). Several jobs run at once, each on its own pooled connection;
//! several hotline processes share the database.

use super::conn::Value;
use super::error::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::str::FromStr;
use std::sync::Arc;
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

/// Connections in the pool: as many jobs run at once.
pub(super) const POOL_SIZE: usize = 8;

/// The runtime that drives the connections; shut down without waiting when the last handle
/// goes (a runtime may not be dropped inside another's async context).
struct OwnRuntime(Option<Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// The pool and the runtime its connections live on. Cheap to clone.
#[derive(Clone)]
pub(super) struct PgPool {
    pub pool: Pool,
    pub handle: Handle,
    /// The connection string without its password, for logs and errors.
    pub shown: String,
    /// For the LISTEN connection (outside the pool).
    config: tokio_postgres::Config,
    _rt: Arc<OwnRuntime>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgPool({})", self.shown)
    }
}

impl PgPool {
    /// A pool for `url` (`postgres://user:password@host:port/db`); connects lazily.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Pool(e.to_string()))?;
        let shown = shown(&config);
        let listen_config = config.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(POOL_SIZE * 2)
            .thread_name("hotline-pg")
            .enable_all()
            .build()
            .map_err(StoreError::Thread)?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _in_rt = rt.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .wait_timeout(Some(std::time::Duration::from_secs(10)))
                .create_timeout(Some(std::time::Duration::from_secs(5)))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| StoreError::Pool(e.to_string()))?
        };
        Ok(Self {
            pool,
            handle: rt.handle().clone(),
            shown,
            config: listen_config,
            _rt: Arc::new(OwnRuntime(Some(rt))),
        })
    }

    /// A connection from the pool, for a blocking thread.
    pub fn get(&self) -> Result<PgConn, StoreError> {
        let client = self
            .handle
            .block_on(self.pool.get())
            .map_err(|e| StoreError::Pool(format!("{}: {e}", self.shown)))?;
        Ok(PgConn {
            client,
            handle: self.handle.clone(),
        })
    }
}

/// The channel replicas notify each other on (`NOTIFY hotline, '…'`).
pub(super) const CHANNEL: &str = "hotline";

impl PgPool {
    /// The payloads notified on [`CHANNEL`], from a connection of its own that reconnects
    /// (after a reconnect it sends `"wake"`: something may have been missed). Ends when the
    /// receiver is dropped.
    pub fn listen(&self) -> tokio::sync::mpsc::Receiver<String> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let config = self.config.clone();
        self.handle.spawn(async move {
            while !tx.is_closed() {
                if let Ok((client, mut conn)) = config.connect(NoTls).await {
                    let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel();
                    // The connection delivers notifications as it is polled.
                    let driver = tokio::spawn(async move {
                        while let Some(Ok(m)) =
                            std::future::poll_fn(|cx| conn.poll_message(cx)).await
                        {
                            if let tokio_postgres::AsyncMessage::Notification(n) = m {
                                let _ = ntx.send(n.payload().to_string());
                            }
                        }
                    });
                    if client
                        .batch_execute(&format!("LISTEN {CHANNEL}"))
                        .await
                        .is_ok()
                    {
                        let _ = tx.send("wake".into()).await;
                        while let Some(p) = nrx.recv().await {
                            if tx.send(p).await.is_err() {
                                break;
                            }
                        }
                    }
                    driver.abort();
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        rx
    }
}

/// `host:port/dbname` as user@…, never the password.
fn shown(c: &tokio_postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}

/// One pooled connection, used from a blocking thread.
pub struct PgConn {
    client: Object,
    handle: Handle,
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl PgConn {
    pub fn execute(&self, sql: &str, args: &[Value]) -> Result<usize, StoreError> {
        self.handle.block_on(async {
            let stmt = self.client.prepare_cached(sql).await?;
            let n = self.client.execute(&stmt, &params(args)).await?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    pub fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        self.handle.block_on(async {
            let stmt = self.client.prepare_cached(sql).await?;
            let rows = self.client.query(&stmt, &params(args)).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut row = Vec::with_capacity(r.len());
                for i in 0..r.len() {
                    row.push(r.try_get::<_, Value>(i)?);
                }
                out.push(row);
            }
            Ok(out)
        })
    }

    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.handle
            .block_on(self.client.batch_execute(sql))
            .map_err(StoreError::from)
    }
}

/// Whether a job that failed with `e` may simply be run again: it lost a race with another
/// transaction (SERIALIZABLE) and was rolled back whole.
pub(super) fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Pg(e) => e.code().is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        }),
        _ => false,
    }
}
