//! The service behind `hotline serve`: the running config and dialplans, the store, the
//! endpoint and every shared registry, as one cheap handle shared by the HTTP routes and the
//! tasks. Incidents in: `intake.rs`; ladders started, stopped, drained, resumed: `ladders.rs`.

use super::admission::{Gate, Slot};
use super::groups::Groups;
use super::metrics::Metrics;
use super::notify::Outbound;
use crate::config::Config;
use crate::dialplan::Dialplans;
use crate::incident::{Incident, Status};
use crate::sip::Endpoint;
use crate::sip::RegistrationState;
use crate::store::{IncidentId, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What happened to one incident of a webhook delivery (the 202's body).
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    pub id: String,
    pub status: Status,
    /// The dialplan it routes to, or null when unrouted.
    pub dialplan: Option<String>,
    /// New incident, or a re-delivery joining an existing one.
    pub created: bool,
    /// In words: what hotline does now.
    pub action: String,
}

/// Commands to a running ladder.
#[derive(Debug)]
pub enum LadderCmd {
    /// Resolved or stopped by an operator.
    Stop(String),
    /// The service is stopping gracefully: take no new step, let the live call go on until
    /// `until`, then hang it up; the ladder ends `interrupted`, resumed by the next start.
    Drain { until: tokio::time::Instant },
}

/// Why an incident could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
}

pub(super) struct Inner {
    /// `hotline.toml` and the dialplans as running now; `reload` swaps them.
    live: RwLock<Live>,
    pub store: Store,
    pub ep: Endpoint,
    pub metrics: Metrics,
    pub outbound: Outbound,
    pub briefer: crate::briefing::Briefer,
    /// Live calls operators can join, and their links.
    pub bridge: super::bridge::Registry,
    pub(super) ladders: Mutex<HashMap<String, mpsc::Sender<LadderCmd>>>,
    pub(super) shutting_down: std::sync::atomic::AtomicBool,
    /// Where a reload reads from (set by `serve`), one reload at a time.
    pub reload: ReloadState,
    /// The trunk registration, when `[sip.register]` is set.
    pub registration: RegistrationCell,
    /// Calls outside a ladder still running (operator phone legs): a graceful stop waits for
    /// them to be stored and sealed too.
    pub side_calls: std::sync::atomic::AtomicUsize,
    /// Each incident's live event stream (`GET /v1/incidents/{id}/events`).
    pub events: super::live::LiveHub,
    /// `http://<bound address>` once `serve` has bound HTTP (see `set_http_addr`).
    public_base: Arc<std::sync::OnceLock<String>>,
    /// Console sign-in sessions.
    pub sessions: super::sessions::Sessions,
    /// Ladders waiting for room: per webhook delivery, per dialplan.
    pub ladder_gate: Gate,
    /// Calls waiting for room: per vendor line, per dialplan's RTP share.
    pub call_gate: Gate,
    /// Groups whose leader's ladder runs or waits.
    pub(super) groups: Mutex<Groups>,
    /// Numbers webhook deliveries (the per-delivery cap's key).
    pub(super) deliveries: std::sync::atomic::AtomicU64,
    /// Every trunk's health (calls' trunk faults, OPTIONS pings).
    pub trunks: super::trunk_health::Trunks,
}

/// A ladder to start once its whole delivery is stored (so a group formed within one
/// delivery is complete before its briefing is written).
pub(super) struct PendingStart {
    pub(super) id: IncidentId,
    pub(super) incident: Incident,
    pub(super) plan: Option<String>,
    pub(super) slot: Option<Slot>,
}

/// One consistent pair: a reload replaces both at once.
#[derive(Clone)]
struct Live {
    cfg: Arc<Config>,
    plans: Arc<Dialplans>,
}

impl Inner {
    fn live(&self) -> Live {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The config as running now.
    pub fn cfg(&self) -> Arc<Config> {
        self.live().cfg
    }

    /// The dialplans as loaded now; a ladder keeps the snapshot it started with.
    pub fn plans(&self) -> Arc<Dialplans> {
        self.live().plans
    }

    /// Swaps in a new config and dialplans (already validated).
    pub fn replace(&self, cfg: Config, plans: Dialplans) {
        self.trunks.sync(&cfg);
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = Live {
            cfg: Arc::new(cfg),
            plans: Arc::new(plans),
        };
    }
}

/// The service handle. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    pub(super) inner: Arc<Inner>,
}

impl Service {
    /// A service over a loaded config, its dialplans, an open store and a bound endpoint.
    pub fn new(
        cfg: Config,
        plans: Dialplans,
        store: Store,
        ep: Endpoint,
        briefer: crate::briefing::Briefer,
    ) -> Self {
        let announce_to = cfg.ladder.notify_url.clone();
        // `[bridge] public_url`, else the address HTTP is bound to (set by `serve` once
        // bound: `listen` may say port 0).
        let public_base: Arc<std::sync::OnceLock<String>> = Arc::default();
        let base_of = public_base.clone();
        let configured = cfg.bridge.public_url.clone();
        let fallback = format!("http://{}", cfg.http.listen);
        let outbound = Outbound::new();
        let out = outbound.clone();
        let trunks = super::trunk_health::Trunks::new(&cfg);
        let bridge =
            super::bridge::Registry::new(cfg.bridge.join_ttl).with_announce(move |id, news| {
                // Where an operator mints a link for themself (signed in as a writer).
                let base = configured
                    .clone()
                    .or_else(|| base_of.get().cloned())
                    .unwrap_or_else(|| fallback.clone());
                let text = format!("call {id} {news}: operators join at {base}/console/calls/{id}");
                tracing::info!("{text}");
                if let Some(url) = announce_to.clone() {
                    let out = out.clone();
                    tokio::spawn(async move { out.notify(&url, &text).await });
                }
            });
        Self {
            inner: Arc::new(Inner {
                bridge,
                live: RwLock::new(Live {
                    cfg: Arc::new(cfg),
                    plans: Arc::new(plans),
                }),
                store,
                ep,
                metrics: Metrics::default(),
                outbound,
                briefer,
                ladders: Mutex::new(HashMap::new()),
                shutting_down: false.into(),
                reload: Default::default(),
                registration: Default::default(),
                side_calls: 0.into(),
                events: Default::default(),
                sessions: Default::default(),
                ladder_gate: Gate::default(),
                call_gate: Gate::default(),
                groups: Mutex::new(Groups::default()),
                deliveries: 0.into(),
                trunks,
                public_base,
            }),
        }
    }

    /// HTTP is bound at `addr`: links and announcements name it (unless `[bridge]
    /// public_url` says where people reach hotline).
    pub fn set_http_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.inner.public_base.set(format!("http://{addr}"));
    }

    /// Where people reach hotline's pages: `[bridge] public_url`, else the bound address.
    pub fn public_base(&self) -> String {
        let cfg = self.inner.cfg();
        cfg.bridge
            .public_url
            .clone()
            .or_else(|| self.inner.public_base.get().cloned())
            .unwrap_or_else(|| format!("http://{}", cfg.http.listen))
            .trim_end_matches('/')
            .to_string()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The config as running now (a reload may replace it).
    pub fn config(&self) -> Arc<Config> {
        self.inner.cfg()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The incidents' live event streams.
    pub fn live(&self) -> &super::live::LiveHub {
        &self.inner.events
    }

    /// The console's sign-in sessions.
    pub fn sessions(&self) -> &super::sessions::Sessions {
        &self.inner.sessions
    }

    /// The operator bridge's registry.
    pub fn bridge(&self) -> &super::bridge::Registry {
        &self.inner.bridge
    }

    /// Where browser legs bind (ICE host candidate).
    pub fn webrtc_ip(&self) -> std::net::IpAddr {
        self.inner
            .cfg()
            .bridge
            .webrtc_ip
            .unwrap_or(self.inner.cfg().media.advertise)
    }

    /// The dialplans as loaded now (a reload may replace them).
    pub fn dialplans(&self) -> Arc<Dialplans> {
        self.inner.plans()
    }

    pub(super) fn ladders(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<LadderCmd>>> {
        self.inner.ladders.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Arguments of `hotline serve`: where the config is and what overrides it; a reload reads
/// the same files with the same overrides.
#[derive(Clone, Debug)]
pub struct ServeArgs {
    pub config: PathBuf,
    /// Overrides `[http] listen`.
    pub http: Option<SocketAddr>,
    /// Overrides `[sip] bind`.
    pub sip: Option<SocketAddr>,
}

/// Where a reload reads from, and one reload at a time.
#[derive(Default)]
pub struct ReloadState {
    pub(super) source: OnceLock<ServeArgs>,
    /// Held while reloading (one at a time); the warnings of the config running now, so a
    /// reload logs only new ones.
    pub(super) gate: tokio::sync::Mutex<Vec<String>>,
}

/// The registration, once `serve` started it.
#[derive(Default)]
pub struct RegistrationCell(pub(super) OnceLock<RunningRegistration>);

pub(super) struct RunningRegistration {
    pub(super) registrar: String,
    pub(super) state: watch::Receiver<RegistrationState>,
    /// `true`: remove the binding and end.
    pub(super) stop: watch::Sender<bool>,
    pub(super) task: Mutex<Option<JoinHandle<()>>>,
}

impl RegistrationCell {
    /// The registrar and its state now; `None` when hotline does not register.
    pub fn get(&self) -> Option<(String, RegistrationState)> {
        self.0
            .get()
            .map(|r| (r.registrar.clone(), r.state.borrow().clone()))
    }
}
