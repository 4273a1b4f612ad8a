//! `hotline serve`: HTTP and SIP in one process, with two-stage shutdown (first signal: drain:
//! no new ladder step, live calls hung up at `[ladder] drain`, recordings finished and sealed;
//! second: exit at once).

use super::service::Service;
use crate::config;
use crate::dialplan;
use crate::sip::Endpoint;
use crate::store::Store;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `hotline serve`.
#[derive(Clone, Debug)]
pub struct ServeArgs {
    pub config: PathBuf,
    /// Overrides `[http] listen`.
    pub http: Option<SocketAddr>,
    /// Overrides `[sip] bind`.
    pub sip: Option<SocketAddr>,
}

/// A service that is set up and listening, not yet serving HTTP.
pub struct Started {
    pub svc: Service,
    pub http: SocketAddr,
    pub sip: SocketAddr,
    listener: tokio::net::TcpListener,
}

impl Started {
    /// Serves HTTP until `shutdown` resolves, then stops the ladders (hangs up, finishes
    /// recordings).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let app = crate::web::router(self.svc.clone());
        let svc = self.svc.clone();
        let stop = async move {
            shutdown.await;
            svc.shutdown().await;
        };
        axum::serve(self.listener, app)
            .with_graceful_shutdown(stop)
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

/// Loads, checks and binds everything `hotline serve` needs; resumes interrupted ladders.
pub async fn start(args: &ServeArgs) -> Result<Started, String> {
    let mut cfg = config::load(&args.config).map_err(|e| e.to_string())?;
    if let Some(h) = args.http {
        cfg.http.listen = h;
    }
    if let Some(s) = args.sip {
        cfg.sip.bind = s;
    }
    if cfg.http.api_token.as_ref().is_none_or(|t| t.is_empty())
        && cfg.http.tokens.is_empty()
        && !(cfg.http.allow_unauthenticated_loopback && cfg.http.listen.ip().is_loopback())
    {
        return Err(format!(
            "{}: [http] api_token is empty; set it (e.g. api_token = \"${{HOTLINE_API_TOKEN}}\") \
             or, for a loopback-only listener, allow_unauthenticated_loopback = true",
            args.config.display()
        ));
    }
    let loopback_ok = cfg.http.allow_unauthenticated_loopback && cfg.http.listen.ip().is_loopback();
    for f in crate::incident::Format::ALL {
        if let Some(a) = cfg.intake.auth.get(f)
            && a.is_empty()
            && !loopback_ok
        {
            return Err(format!(
                "{}: [intake.auth.{f}] has an empty secret (unset environment variable?); \
                 set it, or allow_unauthenticated_loopback = true on a loopback listener",
                args.config.display()
            ));
        }
    }
    let plans = dialplan::load_dir(&cfg.dialplans.dir).map_err(|e| e.to_string())?;
    let store = Store::open(&cfg.store.path)
        .await
        .map_err(|e| format!("{}: {e}", cfg.store.path.display()))?;
    let transport = super::dial::transport_of(&cfg);
    let ua = super::dial::user_agent_of(&cfg);
    let ep = Endpoint::bind(cfg.sip.bind, transport, &ua)
        .await
        .map_err(|e| format!("cannot bind sip {}: {e}", cfg.sip.bind))?;
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
