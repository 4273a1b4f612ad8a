//! Self-watch: whether hotline can do its job right now (`/readyz`), and a heartbeat to a
//! dead-man's switch (`[http] heartbeat_url`, e.g. a Healthchecks or Alertmanager watchdog
//! endpoint) sent only while ready, so monitoring alerts when hotline dies, hangs or
//! cannot record.

use super::service::Service;
use std::time::Duration;

/// Below this much free space a call's recording could be cut short: not ready.
const MIN_FREE_MIB: u64 = 512;

/// One look at every check: `ok`, and one line per check.
pub struct Readiness {
    pub ok: bool,
    pub lines: Vec<String>,
    /// Every trunk's health (`/readyz` as JSON has it per trunk).
    pub trunks: Vec<super::trunk_health::TrunkState>,
}

impl Service {
    /// The store answers, the recordings folder takes a file and has room, (with
    /// `[sip.register]`) the trunk registration is up, and at least one trunk is not down.
    pub async fn readiness(&self) -> Readiness {
        // A database that hangs is as unavailable as one that refuses.
        let ping = tokio::time::timeout(Duration::from_secs(5), self.store().ping()).await;
        let store_line = match &ping {
            Ok(Ok(())) => format!("store: ok ({:?})", self.store().backend()).to_lowercase(),
            Ok(Err(e)) => format!("store: unavailable ({e})"),
            Err(_) => "store: unavailable (no answer in 5 s)".to_string(),
        };
        let store = matches!(ping, Ok(Ok(())));
        let (registered, registration) = self.registration_readiness();
        let dir = self.config().recording.dir.clone();
        let recordings = tokio::task::spawn_blocking(move || recordings_ready(&dir))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        let trunks = self.inner.trunks.states(&self.config());
        let trunks_ok = super::trunk_health::trunks_ready(&trunks);
        let ok = store && registered && recordings.is_ok() && trunks_ok;
        let mut lines = vec![store_line];
        if self.store().backend() == crate::store::Backend::Postgres {
            lines.push(format!(
                "leases: {} held by replica {}",
                self.store().leases_held(),
                self.store().replica()
            ));
        }
        lines.push(match &recordings {
            Ok(free) => format!("recordings: writable, {free} MiB free"),
            Err(e) => format!("recordings: {e}"),
        });
        lines.extend(registration);
        lines.extend(trunks.iter().map(|t| t.line()));
        if !trunks_ok {
            lines.push("trunks: every trunk is down".to_string());
        }
        Readiness { ok, lines, trunks }
    }
}

/// The recordings folder takes a file, and its disk has room: the free MiB, or why not.
fn recordings_ready(dir: &std::path::Path) -> Result<u64, String> {
    let probe = dir.join(".readyz-probe");
    std::fs::write(&probe, b"ok").map_err(|e| format!("not writable ({}: {e})", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    let st = nix::sys::statvfs::statvfs(dir).map_err(|e| format!("statvfs: {e}"))?;
    let free = st.blocks_available() as u64 * st.fragment_size() as u64 / (1024 * 1024);
    if free < MIN_FREE_MIB {
        return Err(format!("only {free} MiB free (need {MIN_FREE_MIB})"));
    }
    Ok(free)
}

/// Starts the heartbeat of a serving hotline, if `[http] heartbeat_url` is set.
pub fn start_heartbeat(svc: &Service) {
    if svc.config().http.heartbeat_url.is_none() {
        return;
    }
    let svc = svc.clone();
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        loop {
            let cfg = svc.config();
            let Some(url) = cfg.http.heartbeat_url.clone() else {
                return;
            };
            if svc.is_stopping() {
                return;
            }
            let r = svc.readiness().await;
            if r.ok {
                match client.get(&url).send().await {
                    Ok(resp) if resp.status().is_success() => {}
                    Ok(resp) => {
                        tracing::warn!(status = resp.status().as_u16(), "heartbeat refused")
                    }
                    Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
                }
            } else {
                tracing::warn!(checks = %r.lines.join("; "), "not ready: no heartbeat sent");
            }
            tokio::time::sleep(cfg.http.heartbeat_every).await;
        }
    });
}
