//! Every trunk's health while serving: the pure `ladder::trunks::Health` behind a lock,
//! fed by the calls (a trunk fault marks the trunk down) and by the OPTIONS pings
//! (`trunk_ping.rs`); read by failover (down trunks last), `/readyz` and `/metrics`.

use crate::config::Config;
use crate::ladder::trunks::Health;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The trunks' health, shared by the ladders, the ping task and the HTTP routes.
#[derive(Debug, Default)]
pub struct Trunks {
    health: Mutex<Health>,
}

/// (name, OPTIONS interval) of every trunk with a proxy; None for one that is not pinged
/// (`options_ping = false`). The implicit `[sip]` trunk without a proxy (direct SIP URIs:
/// each call goes to its vendor's own host) has no health: an unreachable vendor is not a
/// dead trunk, and must not make `/readyz` fail.
pub(super) fn intervals(cfg: &Config) -> Vec<(String, Option<Duration>)> {
    cfg.trunks()
        .into_iter()
        .filter(|t| t.proxy.is_some())
        .map(|t| (t.name, t.options_ping.then_some(t.options_interval)))
        .collect()
}

impl Trunks {
    /// Health for the trunks of `cfg`, nothing known yet.
    pub fn new(cfg: &Config) -> Self {
        Self {
            health: Mutex::new(Health::new(Instant::now(), &intervals(cfg))),
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A reload: trunks added or gone.
    pub fn sync(&self, cfg: &Config) {
        self.lock().sync(Instant::now(), &intervals(cfg));
    }

    /// The order a contact with trunk `preference` is tried in (down trunks last).
    pub fn order(&self, preference: &[String], all: &[String]) -> Vec<String> {
        crate::ladder::trunks::failover_order(preference, all, &self.lock())
    }

    /// A call on `trunk` ended by the trunk's fault: down until a ping is answered. Returns
    /// true when it was not known down before.
    pub fn fault(&self, trunk: &str, reason: &str) -> bool {
        self.lock().on_failure(Instant::now(), trunk, reason)
    }

    /// A call on `trunk` got the far end's answer: the trunk is up.
    pub fn reached(&self, trunk: &str) -> bool {
        self.lock().on_call_reply(trunk)
    }
}

/// One trunk as `/readyz` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrunkState {
    pub name: String,
    /// None: nothing known yet (no ping answered or failed, no call through it).
    pub up: Option<bool>,
    /// OPTIONS pings are sent to it.
    pub pinged: bool,
    /// The last ping's round trip, milliseconds.
    pub rtt_ms: Option<f64>,
    /// The last ping's status code.
    pub last_code: Option<u16>,
    /// Why it is down.
    pub reason: Option<String>,
}

impl TrunkState {
    /// Its `/readyz` line.
    pub fn line(&self) -> String {
        let ping = match (self.last_code, self.rtt_ms) {
            (Some(c), Some(ms)) => format!(", OPTIONS {c} in {ms:.1} ms"),
            _ if !self.pinged => ", not pinged".to_string(),
            _ => String::new(),
        };
        match (self.up, &self.reason) {
            (Some(false), Some(r)) => format!("trunk {}: down ({r}){ping}", self.name),
            (Some(false), None) => format!("trunk {}: down{ping}", self.name),
            (Some(true), _) => format!("trunk {}: up{ping}", self.name),
            (None, _) => format!("trunk {}: unknown{ping}", self.name),
        }
    }
}

impl Trunks {
    /// Every trunk of `cfg` as `/readyz` shows it, in file order.
    pub fn states(&self, cfg: &Config) -> Vec<TrunkState> {
        let h = self.lock();
        intervals(cfg)
            .into_iter()
            .map(|(name, every)| {
                let t = h.get(&name).cloned().unwrap_or_default();
                TrunkState {
                    up: t.up,
                    pinged: every.is_some(),
                    rtt_ms: t.rtt.map(|d| d.as_secs_f64() * 1000.0),
                    last_code: t.last_reply.map(|(_, c)| c),
                    reason: t.reason,
                    name,
                }
            })
            .collect()
    }

    /// `hotline_trunk_up` and `hotline_trunk_ping_seconds` for `/metrics`.
    pub fn render(&self, cfg: &Config, out: &mut String) {
        use std::fmt::Write;
        let states = self.states(cfg);
        let _ = writeln!(
            out,
            "# HELP hotline_trunk_up 1 while the trunk answers (OPTIONS or calls), 0 while it is \
             down; absent while nothing is known."
        );
        let _ = writeln!(out, "# TYPE hotline_trunk_up gauge");
        for s in &states {
            if let Some(up) = s.up {
                let _ = writeln!(
                    out,
                    "hotline_trunk_up{{trunk=\"{}\"}} {}",
                    s.name,
                    u8::from(up)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hotline_trunk_ping_seconds Round trip of the last answered OPTIONS ping."
        );
        let _ = writeln!(out, "# TYPE hotline_trunk_ping_seconds gauge");
        for s in &states {
            if let Some(ms) = s.rtt_ms {
                let _ = writeln!(
                    out,
                    "hotline_trunk_ping_seconds{{trunk=\"{}\"}} {}",
                    s.name,
                    ms / 1000.0
                );
            }
        }
    }
}

/// Ready as far as the trunks go: while at least one is not known down (or there is none).
pub fn trunks_ready(states: &[TrunkState]) -> bool {
    states.is_empty() || states.iter().any(|s| s.up != Some(false))
}

impl super::service::Service {
    /// The trunks' lines of `/metrics`.
    pub fn trunk_metrics(&self, out: &mut String) {
        self.inner.trunks.render(&self.config(), out);
    }
}
