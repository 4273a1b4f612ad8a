//! OPTIONS pings to every trunk while serving (`options_interval`, default 30 s; none for a
//! trunk with `options_ping = false` or without a proxy): the pure `ladder::trunks::Health`
//! says which are due, each ping runs on its own task, its reply or failure goes back in.
//! Also the OPTIONS target of one trunk, shared with `hotline trunk-test`.

use super::service::Service;
use crate::config::{Config, Trunk};
use crate::ladder::trunks::PING_TIMEOUT;
use crate::sip::{Credentials, Endpoint, OptionsTarget};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// The longest the loop sleeps without looking (a reload may add a trunk).
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Where and as whom an OPTIONS to `trunk` goes (its proxy resolved now).
pub async fn options_target(
    cfg: &Config,
    ep: &Endpoint,
    trunk: &Trunk,
) -> Result<OptionsTarget, String> {
    let proxy = trunk
        .proxy
        .as_ref()
        .ok_or_else(|| format!("trunk {} has no proxy to ping", trunk.name))?;
    let dest = ep.resolve(proxy.as_str()).await?;
    let advertise = trunk.advertise.unwrap_or(cfg.media.advertise);
    let host = match advertise {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let from_host = trunk.number_domain().map_or(host, str::to_string);
    let from_user = trunk
        .caller_id
        .user
        .clone()
        .unwrap_or_else(|| cfg.sip.from_user.clone());
    Ok(OptionsTarget {
        uri: proxy.as_str().to_string(),
        dest,
        from: format!("sip:{from_user}@{from_host}"),
        via: SocketAddr::new(advertise, ep.local_addr().port()),
        credentials: trunk.auth.as_ref().map(|a| Credentials {
            username: a.username.clone(),
            password: a.password.expose().to_string(),
        }),
        realms: trunk
            .auth
            .as_ref()
            .map(|a| a.realm.clone())
            .unwrap_or_default(),
        user_agent: super::build_call::user_agent_of(cfg),
    })
}

/// Starts the pings of a serving hotline; they end when the service stops.
pub fn start(svc: &Service) {
    let svc = svc.clone();
    tokio::spawn(async move {
        loop {
            if svc.is_stopping() {
                return;
            }
            let now = Instant::now();
            let (due, went_down) = {
                let mut h = svc.inner.trunks.lock();
                let down = h.handle_timeout(now);
                (h.due(now), down)
            };
            for name in went_down {
                tracing::warn!(trunk = %name, "trunk down: no reply to OPTIONS");
            }
            for name in due {
                tokio::spawn(ping(svc.clone(), name));
            }
            let next = svc.inner.trunks.lock().poll_timeout();
            let wait = next
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(LOOK_AGAIN)
                .min(LOOK_AGAIN);
            tokio::time::sleep(wait).await;
        }
    });
}

/// One ping to `name`; its outcome into the health.
async fn ping(svc: Service, name: String) {
    let cfg = svc.config();
    let Some(trunk) = cfg.trunks().into_iter().find(|t| t.name == name) else {
        return;
    };
    let ep = &svc.inner.ep;
    // A little under the health's own limit, so the ping's own reason is the one kept.
    let limit = PING_TIMEOUT - Duration::from_millis(100);
    let r = match options_target(&cfg, ep, &trunk).await {
        Ok(t) => crate::sip::options_once(ep, &t, limit).await,
        Err(e) => Err(e),
    };
    let now = Instant::now();
    let mut h = svc.inner.trunks.lock();
    match r {
        Ok(reply) => {
            if h.on_reply(now, &name, reply.code) {
                tracing::info!(trunk = %name, code = reply.code, rtt_ms = reply.rtt.as_millis() as u64, "trunk up");
            }
        }
        Err(e) => {
            if h.on_failure(now, &name, &e) {
                tracing::warn!(trunk = %name, reason = %e, "trunk down");
            }
        }
    }
}
