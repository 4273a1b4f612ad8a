//! The service behind `hotline serve`: incidents in (deduplicated, stored durably), routed to
//! one dialplan, its ladder run as a task; resolve stops it. Shared by the HTTP routes.

use super::admission::{Gate, Slot};
use super::groups::Groups;
use super::ladder_task::{LadderCmd, run_ladder};
use super::metrics::Metrics;
use super::notify::Outbound;
use crate::config::Config;
use crate::dialplan::Dialplans;
use crate::incident::{Incident, Status};
use crate::sip::Endpoint;
use crate::store::{IncidentId, LadderState, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::mpsc;

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
    ladders: Mutex<HashMap<String, mpsc::Sender<LadderCmd>>>,
    shutting_down: std::sync::atomic::AtomicBool,
    /// Where a reload reads from (set by `serve`), one reload at a time.
    pub reload: super::reload::ReloadState,
    /// The trunk registration, when `[sip.register]` is set.
    pub registration: super::registration::RegistrationCell,
    /// Calls outside a ladder still running (operator phone legs): a graceful stop waits for
    /// them to be stored and sealed too.
    pub side_calls: std::sync::atomic::AtomicUsize,
    /// Each incident's live event stream (`GET /v1/incidents/{id}/events`).
    pub events: super::live::LiveHub,
    /// `http://<bound address>` once `serve` has bound HTTP (see `set_http_addr`).
    public_base: Arc<std::sync::OnceLock<String>>,
    /// Console sign-in sessions.
    pub sessions: crate::web::sessions::Sessions,
    /// Ladders waiting for room: per webhook delivery, per dialplan.
    pub ladder_gate: Gate,
    /// Calls waiting for room: per vendor line, per dialplan's RTP share.
    pub call_gate: Gate,
    /// Groups whose leader's ladder runs or waits.
    pub(super) groups: Mutex<Groups>,
    /// Numbers webhook deliveries (the per-delivery cap's key).
    deliveries: std::sync::atomic::AtomicU64,
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
    pub fn sessions(&self) -> &crate::web::sessions::Sessions {
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

    fn ladders(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<LadderCmd>>> {
        self.inner.ladders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one incident: durable in the store before this returns.
    pub async fn ingest(
        &self,
        incident: Incident,
        raw_size: usize,
    ) -> Result<Accepted, ServiceError> {
        let mut all = self.ingest_delivery(vec![incident], raw_size).await?;
        Ok(all.remove(0))
    }

    /// Takes every incident of one webhook delivery: each stored before this returns; those
    /// that share a vendor line and asset with a running or queued ladder join it (one call);
    /// at most `[ladder] per_delivery` of the delivery's ladders run at once, the rest wait.
    /// Ladders start once the whole delivery is stored.
    pub async fn ingest_delivery(
        &self,
        incidents: Vec<Incident>,
        raw_size: usize,
    ) -> Result<Vec<Accepted>, ServiceError> {
        let delivery = self
            .inner
            .deliveries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut starts = Vec::new();
        let mut out = Vec::new();
        let mut failed = None;
        for i in incidents {
            match self.ingest_one(i, raw_size, delivery, &mut starts).await {
                Ok(a) => out.push(a),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // Even when a later incident failed: the stored ones get their ladders.
        for s in starts {
            self.spawn_ladder(s, false);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    async fn ingest_one(
        &self,
        incident: Incident,
        raw_size: usize,
        delivery: u64,
        starts: &mut Vec<PendingStart>,
    ) -> Result<Accepted, ServiceError> {
        match incident.status {
            Status::Firing => self.firing(incident, raw_size, delivery, starts).await,
            Status::Resolved => {
                let id = self
                    .inner
                    .store
                    .resolve(&incident.fingerprint, "resolved at the source")
                    .await?;
                let action = match &id {
                    Some(id) => {
                        self.resolved(id, "resolved at the source");
                        self.stop_for(id, "incident resolved at the source").await
                    }
                    None => "no firing incident with this fingerprint".to_string(),
                };
                Ok(Accepted {
                    id: id.map(|i| i.to_string()).unwrap_or_default(),
                    status: Status::Resolved,
                    dialplan: None,
                    created: false,
                    action,
                })
            }
            Status::Acknowledged => {
                // Still failing, but a person has it at the source: stop escalating.
                let up = self.inner.store.upsert_firing(&incident, raw_size).await?;
                if up.created {
                    self.inner
                        .store
                        .set_ladder_state(
                            &up.id,
                            LadderState::Stopped,
                            Some("acknowledged at the source"),
                        )
                        .await?;
                } else {
                    self.stop_for(&up.id, "acknowledged at the source").await;
                }
                Ok(Accepted {
                    id: up.id.to_string(),
                    status: Status::Acknowledged,
                    dialplan: None,
                    created: up.created,
                    action: "acknowledged: no further calls".into(),
                })
            }
        }
    }

    async fn firing(
        &self,
        incident: Incident,
        raw_size: usize,
        delivery: u64,
        starts: &mut Vec<PendingStart>,
    ) -> Result<Accepted, ServiceError> {
        let up = self.inner.store.upsert_firing(&incident, raw_size).await?;
        let plans = self.inner.plans();
        let routed = plans.route(&incident);
        let plan = routed.map(|p| p.id.as_str().to_string());
        if !up.created {
            return Ok(Accepted {
                id: up.id.to_string(),
                status: Status::Firing,
                dialplan: plan,
                created: false,
                action: "joined the existing incident (same fingerprint while firing)".into(),
            });
        }
        self.inner
            .store
            .set_routing(&up.id, plan.as_deref())
            .await?;
        self.inner
            .metrics
            .incident(&incident.source, plan.as_deref().unwrap_or("unrouted"));
        // Same vendor line and asset as a running or queued ladder: join its call.
        let key = routed.and_then(|p| self.group_key(&incident, p));
        if let Some(key) = &key {
            let leader = self.groups().leader(key);
            if let Some(leader) = leader {
                let action = self.join(&up.id, &leader, key, incident).await?;
                return Ok(Accepted {
                    id: up.id.to_string(),
                    status: Status::Firing,
                    dialplan: plan,
                    created: true,
                    action,
                });
            }
        }
        let slot = routed.map(|p| self.ladder_slot(p, &incident, Some(delivery)));
        let action = match (&plan, &slot) {
            _ if self.is_stopping() => {
                "queued: hotline is restarting; the ladder starts when it is back".into()
            }
            (Some(p), Some(s)) if s.queued.is_some() => {
                let q = s.queued.as_ref().expect("guarded");
                format!(
                    "queued: {} (position {}); the {p} ladder starts when one ends",
                    super::ladder_wait::words(&q.full),
                    q.position
                )
            }
            (Some(p), _) => format!("calling the {p} ladder"),
            (None, _) => "unrouted: fallback ticket".into(),
        };
        if let Some(key) = &key {
            self.inner.store.join_group(&up.id, &up.id, key).await?;
            self.groups()
                .open(key, (up.id.clone(), incident.clone()), Vec::new());
        }
        starts.push(PendingStart {
            id: up.id.clone(),
            incident,
            plan: plan.clone(),
            slot,
        });
        Ok(Accepted {
            id: up.id.to_string(),
            status: Status::Firing,
            dialplan: plan,
            created: true,
            action,
        })
    }

    /// True once a graceful stop began: no ladder starts (incidents wait, stored, for the
    /// next start).
    pub fn is_stopping(&self) -> bool {
        self.inner
            .shutting_down
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts the ladder task of an incident (or its fallback when unrouted); `resumed`: a
    /// stop cut it short and it picks up where it was. It waits for room under the
    /// dialplan's ladder cap first.
    pub(super) fn start_ladder(
        &self,
        id: IncidentId,
        incident: Incident,
        plan: Option<String>,
        resumed: bool,
    ) {
        let plans = self.inner.plans();
        let slot = plan
            .as_deref()
            .and_then(|p| plans.get(p))
            .map(|p| self.ladder_slot(p, &incident, None));
        let start = PendingStart {
            id,
            incident,
            plan,
            slot,
        };
        self.spawn_ladder(start, resumed);
    }

    fn spawn_ladder(&self, start: PendingStart, resumed: bool) {
        if self.is_stopping() {
            return;
        }
        let PendingStart {
            id,
            incident,
            plan,
            slot,
        } = start;
        let (tx, rx) = mpsc::channel(8);
        self.ladders().insert(id.to_string(), tx);
        let svc = self.clone();
        tokio::spawn(async move {
            run_ladder(svc.clone(), id.clone(), incident, plan, rx, resumed, slot).await;
            svc.ladders().remove(id.as_str());
            // A group whose ladder ended without ladder_finished (unrouted, stopped queued).
            svc.groups().close(&id);
        });
    }

    pub(super) async fn stop_ladder(&self, id: &IncidentId, reason: &str) {
        let tx = self.ladders().get(id.as_str()).cloned();
        if let Some(tx) = tx {
            let _ = tx.send(LadderCmd::Stop(reason.to_string())).await;
        }
    }

    /// Resolves an incident by id (API).
    pub async fn resolve(&self, id: &IncidentId, reason: &str) -> Result<(), ServiceError> {
        let view = self
            .inner
            .store
            .incident(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no incident {id}")))?;
        self.inner
            .store
            .resolve(&view.row.fingerprint, reason)
            .await?;
        self.resolved(id, reason);
        self.stop_for(id, reason).await;
        Ok(())
    }

    fn resolved(&self, id: &IncidentId, reason: &str) {
        let data = serde_json::json!({ "reason": reason, "at": chrono::Utc::now() });
        self.inner.events.publish(&id.to_string(), "resolved", data);
    }

    /// Starts a dialplan's ladder by hand (API): still only its whitelisted contacts.
    pub async fn dial(
        &self,
        plan_id: &str,
        summary: Option<String>,
    ) -> Result<Accepted, ServiceError> {
        if self.inner.plans().get(plan_id).is_none() {
            return Err(ServiceError::NotFound(format!("no dialplan \"{plan_id}\"")));
        }
        let mut incident = Incident {
            source: "manual".into(),
            fingerprint: format!("manual-{:016x}", rand::random::<u64>()),
            ..Default::default()
        };
        incident.fault.summary = summary.unwrap_or_else(|| "manual call".into());
        let up = self.inner.store.upsert_firing(&incident, 0).await?;
        self.inner.store.set_routing(&up.id, Some(plan_id)).await?;
        self.start_ladder(up.id.clone(), incident, Some(plan_id.to_string()), false);
        let action = if self.is_stopping() {
            "queued: hotline is restarting; the ladder starts when it is back".into()
        } else {
            format!("calling the {plan_id} ladder")
        };
        Ok(Accepted {
            id: up.id.to_string(),
            status: Status::Firing,
            dialplan: Some(plan_id.to_string()),
            created: true,
            action,
        })
    }

    /// First stage of a graceful stop (SIGTERM): no new ladder or step; live calls go on for
    /// up to `[ladder] drain`, then are hung up with a reason; waits until every ladder has
    /// closed its call, stored it and sealed it. The next start resumes the ladders.
    pub async fn shutdown(&self) {
        self.inner
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let drain = self.config().ladder.drain;
        let until = tokio::time::Instant::now() + drain;
        let all: Vec<_> = self.ladders().values().cloned().collect();
        if !all.is_empty() {
            tracing::warn!(
                ladders = all.len(),
                drain = ?drain,
                "draining: no new ladder steps; live calls may go on until the drain time"
            );
        }
        for tx in all {
            let _ = tx.send(LadderCmd::Drain { until }).await;
        }
        // Bounded: the drain, then the BYE's own transaction (64*T1) and sealing.
        let give_up = until + std::time::Duration::from_secs(40);
        let busy = || {
            !self.ladders().is_empty()
                || self
                    .inner
                    .side_calls
                    .load(std::sync::atomic::Ordering::Relaxed)
                    > 0
        };
        while busy() && tokio::time::Instant::now() < give_up {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// After a stop: completes the calls it cut short (WAV repaired; an answered call's
    /// orphaned dialog ended with a BYE, its outcome on the call's timeline; sealed), waits a
    /// few seconds for those BYEs so a redial does not find the line still held, then resumes
    /// every ladder a stop cut short from where it was. Returns how many it resumed.
    pub async fn resume_interrupted(&self) -> Result<usize, ServiceError> {
        let inner = &self.inner;
        let found = inner.store.interrupted_on_start().await?;
        let mut dialogs: HashMap<String, crate::store::StoredDialog> = inner
            .store
            .open_dialogs()
            .await?
            .into_iter()
            .map(|d| (d.call_id.clone(), d))
            .collect();
        let mut prepared = Vec::new();
        for call in &found.calls {
            if let Some(p) = super::recover::prepare_call(&inner.store, call).await {
                prepared.push(p);
            }
        }
        let mut tasks = Vec::new();
        let recovered: std::collections::HashSet<String> =
            found.calls.iter().map(|c| c.call_id.clone()).collect();
        for p in prepared {
            let dialog = dialogs.remove(&p.call_id);
            let svc = self.clone();
            tasks.push(tokio::spawn(async move {
                let i = &svc.inner;
                super::recover::finish_call(&i.store, &i.ep, &svc.config(), p, dialog).await;
            }));
        }
        for (_, d) in dialogs {
            let svc = self.clone();
            tasks.push(tokio::spawn(async move {
                let i = &svc.inner;
                super::recover::end_stray_dialog(&i.store, &i.ep, &svc.config(), d).await;
            }));
        }
        // Sidecars no stored call covers (a killed `hotline dial`, an older store).
        let dir = self.config().recording.dir.clone();
        let _ = tokio::task::spawn_blocking(move || {
            super::recover::recover_recordings_except(&dir, &recovered)
        })
        .await;
        // Before the ladders resume: the far end has had the BYE (bounded; a BYE still
        // unanswered goes on in the background until its Timer F).
        let deadline = tokio::time::Instant::now() + ORPHAN_WAIT;
        for t in &mut tasks {
            if tokio::time::timeout_at(deadline, t).await.is_err() {
                tracing::warn!("an orphaned call's BYE is still unanswered; resuming anyway");
                break;
            }
        }
        let mut n = 0;
        for i in found.incidents {
            let Some(view) = inner.store.incident(&i.id).await? else {
                continue;
            };
            let incident = view.row.incident.clone();
            // The ladder task marks it running again as it starts.
            tracing::warn!(incident = %i.id, "resuming a ladder a stop cut short");
            self.restore_group(&i.id, &incident).await;
            self.start_ladder(i.id.clone(), incident, i.dialplan.clone(), true);
            n += 1;
        }
        Ok(n)
    }
}

/// How long a restart waits for the BYEs of orphaned calls before resuming ladders.
const ORPHAN_WAIT: std::time::Duration = std::time::Duration::from_secs(4);
