//! `hotline serve`: HTTP and SIP in one process, with two-stage shutdown (first signal: drain:
//! no new ladder step, live calls hung up at `[ladder] drain`, recordings finished and sealed;
//! second: exit at once).

pub use crate::runtime::ServeArgs;
use crate::runtime::service::Service;
use crate::store::Store;
use std::net::SocketAddr;

/// A service that is set up and listening, not yet serving HTTP.
pub struct Started {
    pub svc: Service,
    pub http: SocketAddr,
    pub sip: SocketAddr,
    listener: tokio::net::TcpListener,
    /// This process's hold on the store and recordings folder.
    lock: crate::runtime::store_lock::StoreLock,
}

impl Started {
    /// Serves HTTP until `shutdown` resolves, then stops the ladders (hangs up, finishes
    /// recordings).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let _lock = self.lock;
        let app = crate::web::router(self.svc.clone());
        let svc = self.svc.clone();
        let stop = async move {
            shutdown.await;
            svc.shutdown().await;
            // Open event streams end now; clients resume with Last-Event-ID elsewhere.
            svc.live().close();
            svc.unregister().await;
        };
        let http = &self.svc.config().http;
        let limits = crate::web::listener::Limits {
            max_connections: http.max_connections,
            header_timeout: http.header_timeout,
        };
        crate::web::listener::serve(self.listener, app, limits, stop)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs until a shutdown signal. Errors are setup errors (exit 2).
pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let started = start(&args).await?;
    // Machine-readable for tests and scripts: the bound addresses, on stdout.
    println!(
        "{{\"http\":\"{}\",\"sip\":\"{}\"}}",
        started.http, started.sip
    );
    started
        .run(async {
            wait_signal().await;
            tracing::warn!(
                "stopping: no new ladder steps; live calls are hung up at the drain time \
                 (signal again to exit at once)"
            );
            tokio::spawn(async {
                wait_signal().await;
                std::process::exit(130);
            });
        })
        .await
}

/// Loads, checks, locks and binds everything `hotline serve` needs; registers with the trunk;
/// resumes interrupted ladders.
pub async fn start(args: &ServeArgs) -> Result<Started, String> {
    // The same checks as `hotline check` (and a reload); warnings are logged.
    let (cfg, plans, warnings) = crate::runtime::reload::load_checked(args).map_err(|errors| {
        format!(
            "{} errors; not starting:\n  {}",
            errors.len(),
            errors.join("\n  ")
        )
    })?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    // One serve per store, taken before crash recovery touches anything.
    // (SQLite only: replicas share a PostgreSQL store; each keeps its recordings folder.)
    let sqlite = cfg.store.url.is_none().then_some(cfg.store.path.as_path());
    let lock = crate::runtime::store_lock::acquire(sqlite, &cfg.recording.dir)?;
    // Crash recovery (WAV repair, sealing, BYE to orphaned dialogs) runs in
    // `resume_interrupted`, under this lock.
    let store = Store::open_configured(&cfg.store)
        .await
        .map_err(|e| format!("{}: {e}", cfg.store.describe()))?;
    let transport = crate::runtime::build_call::transport_of(&cfg);
    let ua = crate::runtime::build_call::user_agent_of(&cfg);
    let ep = crate::runtime::build_call::bind_endpoint(&cfg, transport, &ua).await?;
    let listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", cfg.http.listen))?;
    let http_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let briefer = crate::briefing::Briefer::new(&cfg.briefing)
        .map_err(|e| format!("{}: {e}", args.config.display()))?;
    if let Err(e) = briefer.warm_up().await {
        tracing::warn!(error = %e, "no pre-synthesized greeting");
    }
    let svc = Service::new(cfg, plans, store, ep.clone(), briefer);
    svc.set_http_addr(http_addr);
    crate::runtime::reload::watch(&svc, args, warnings);
    crate::runtime::registration::start(&svc);
    crate::runtime::trunk_ping::start(&svc);
    crate::runtime::ticket_retry::start(&svc);
    crate::runtime::replicas::start(&svc);
    crate::runtime::readiness::start_heartbeat(&svc);
    // The callback line: new INVITEs are screened, refused or answered from here on.
    crate::runtime::callback::start(&svc);
    match svc.resume_interrupted().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(n, "resumed interrupted ladders"),
        Err(e) => tracing::warn!(error = %e, "cannot check for interrupted ladders"),
    }
    tracing::info!(http = %http_addr, sip = %ep.local_addr(), "hotline serving");
    Ok(Started {
        svc,
        http: http_addr,
        sip: ep.local_addr(),
        listener,
        lock,
    })
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
