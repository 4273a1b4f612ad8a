//! `serve` registers with the trunk when `[sip.register]` is set (RFC 3261 §10), refreshes
//! before expiry, and keeps the state for `/readyz` and `/metrics`.

use super::service::{RunningRegistration, Service};
use crate::config::Config;
use crate::sip::{Credentials, Endpoint, RegisterConfig, RegistrationState};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// What to REGISTER, from the config: our address-of-record and Contact as calls use them,
/// sent through the proxy when there is one, else to the registrar.
pub async fn register_config(
    cfg: &Config,
    ep: &Endpoint,
) -> Result<Option<RegisterConfig>, String> {
    let Some(reg) = &cfg.sip.register else {
        return Ok(None);
    };
    let dest = match &cfg.sip.proxy {
        Some(p) => ep.resolve(p.as_str()).await?,
        None => ep.resolve(reg.registrar.as_str()).await?,
    };
    let advertise = cfg.media.advertise;
    let host = match advertise {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let from_host = cfg.sip.trunk_domain().map_or(host, str::to_string);
    let tp = ep.transport().uri_param();
    let via = SocketAddr::new(advertise, ep.local_addr().port());
    Ok(Some(RegisterConfig {
        registrar: reg.registrar.as_str().to_string(),
        dest,
        aor: format!("sip:{}@{from_host}", cfg.sip.from_user),
        contact: format!("sip:{}@{via}{tp}", cfg.sip.from_user),
        expires: reg.expires,
        credentials: cfg.sip.auth.as_ref().map(|a| Credentials {
            username: a.username.clone(),
            password: a.password.expose().to_string(),
        }),
        realms: cfg
            .sip
            .auth
            .as_ref()
            .map(|a| a.realm.clone())
            .unwrap_or_default(),
        user_agent: super::build_call::user_agent_of(cfg),
    }))
}

/// Starts the registration loop of a serving hotline, if `[sip.register]` is set. A registrar
/// that does not resolve yet does not stop `serve` (webhooks and fallback tickets still work):
/// it shows as failing and is retried with backoff.
pub fn start(svc: &Service) {
    let cfg = svc.config();
    let Some(reg) = &cfg.sip.register else {
        return;
    };
    let registrar = reg.registrar.as_str().to_string();
    let (tx, rx) = watch::channel(RegistrationState::Registering);
    let (stop, mut stopped) = watch::channel(false);
    tracing::info!(%registrar, "registering with the trunk");
    let ep = svc.inner.ep.clone();
    let name = registrar.clone();
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_secs(5);
        let mut failures = 0;
        loop {
            match register_config(&cfg, &ep).await {
                Ok(Some(reg)) => {
                    return crate::sip::register_reporting(reg, ep, tx, stopped).await;
                }
                Ok(None) => return,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(registrar = %name, error = %e, "cannot reach the registrar");
                    tx.send_replace(RegistrationState::Failing {
                        status: None,
                        reason: e,
                        failures,
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(300));
                }
            }
        }
    });
    let _ = svc.inner.registration.0.set(RunningRegistration {
        registrar,
        state: rx,
        stop,
        task: Mutex::new(Some(task)),
    });
}

impl Service {
    /// Removes the trunk registration (REGISTER with `Expires: 0`) as `serve` stops; waits a
    /// few seconds at most.
    pub async fn unregister(&self) {
        let Some(r) = self.inner.registration.0.get() else {
            return;
        };
        r.stop.send_replace(true);
        let task = r.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(4), task).await;
        }
    }

    /// For `/readyz`: whether the trunk registration is up (or not configured), and a line
    /// saying so.
    pub fn registration_readiness(&self) -> (bool, Option<String>) {
        readiness(self)
    }

    /// For `/metrics`: the registration gauges (nothing when hotline does not register).
    pub fn registration_metrics(&self, out: &mut String) {
        metrics(self, out)
    }
}

fn readiness(svc: &Service) -> (bool, Option<String>) {
    let Some((registrar, state)) = svc.inner.registration.get() else {
        return (true, None);
    };
    match state {
        RegistrationState::Registering => (
            false,
            Some(format!("sip registration: registering with {registrar}")),
        ),
        RegistrationState::Registered { at, expires } => {
            let ago = SystemTime::now()
                .duration_since(at)
                .unwrap_or_default()
                .as_secs();
            (
                true,
                Some(format!(
                    "sip registration: registered with {registrar} {ago} s ago for {} s",
                    expires.as_secs()
                )),
            )
        }
        RegistrationState::Failing {
            reason, failures, ..
        } => (
            false,
            Some(format!(
                "sip registration: failing with {registrar}: {reason} ({failures} attempts in a row)"
            )),
        ),
    }
}

fn metrics(svc: &Service, out: &mut String) {
    let Some((_, state)) = svc.inner.registration.get() else {
        return;
    };
    let (up, status, failures) = match state {
        RegistrationState::Registering => (0, 0, 0),
        RegistrationState::Registered { .. } => (1, 200, 0),
        RegistrationState::Failing {
            status, failures, ..
        } => (0, status.unwrap_or(0), failures),
    };
    let _ = writeln!(
        out,
        "# HELP hotline_sip_registered 1 while the trunk registration is up, else 0."
    );
    let _ = writeln!(out, "# TYPE hotline_sip_registered gauge");
    let _ = writeln!(out, "hotline_sip_registered {up}");
    let _ = writeln!(
        out,
        "# HELP hotline_sip_registration_last_status Status code of the last final REGISTER \
         response (0: none yet, or no response)."
    );
    let _ = writeln!(out, "# TYPE hotline_sip_registration_last_status gauge");
    let _ = writeln!(out, "hotline_sip_registration_last_status {status}");
    let _ = writeln!(
        out,
        "# HELP hotline_sip_registration_failures Failed REGISTER attempts since the last success."
    );
    let _ = writeln!(out, "# TYPE hotline_sip_registration_failures gauge");
    let _ = writeln!(out, "hotline_sip_registration_failures {failures}");
}
