//! REGISTER with refresh (RFC 3261 §10) for trunks that want it: answers digest challenges
//! through a [`DigestSession`] kept across refreshes (a refresh reuses the nonce with the
//! next nc; `stale=true` is retried once), refreshes before expiry, backs off on failure.

use super::decode::Decoded;
use super::digest;
use super::encode::Credentials;
use super::endpoint::{Endpoint, Inbound};
use crate::call::{AuthPolicy, Authorization, DigestSession};
use rsipstack::sip::headers::make_header;
use rsipstack::sip::{self as rsip, Headers, Uri, Version};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// What to register, where.
#[derive(Clone, Debug)]
pub struct RegisterConfig {
    /// Registrar URI, e.g. `sip:trunk.example.net`.
    pub registrar: String,
    /// Where to send the REGISTER.
    pub dest: SocketAddr,
    /// Address-of-record, e.g. `sip:hotline@trunk.example.net`.
    pub aor: String,
    /// Our Contact URI.
    pub contact: String,
    pub expires: Duration,
    pub credentials: Option<Credentials>,
    /// `[sip.auth] realm`: realms to answer; empty = only challenges from `dest`.
    pub realms: Vec<String>,
    pub user_agent: String,
}

/// Where a registration stands (for `/readyz` and `/metrics`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// The first REGISTER is under way.
    Registering,
    /// The registrar accepted it at `at`, for `expires`; refreshed before that.
    Registered { at: SystemTime, expires: Duration },
    /// The last attempt failed (`status`: the final response, if there was one); retried
    /// with backoff. `failures` counts attempts since the last success.
    Failing {
        status: Option<u16>,
        reason: String,
        failures: u32,
    },
}

/// Why one REGISTER exchange failed.
struct Failure {
    status: Option<u16>,
    reason: String,
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Self {
            status: None,
            reason,
        }
    }
}

fn build(
    cfg: &RegisterConfig,
    ep: &Endpoint,
    call_id: &str,
    cseq: u32,
    auth: &[Authorization],
    cnonce_key: &str,
) -> Result<Vec<u8>, String> {
    let uri: Uri = cfg
        .registrar
        .as_str()
        .try_into()
        .map_err(|e| format!("bad registrar uri: {e}"))?;
    let mut hs = Headers::default();
    let h = |n: &str, v: String| make_header(n, v);
    hs.push(h(
        "Via",
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{call_id}.{cseq};rport",
            ep.transport().via_name(),
            ep.local_addr()
        ),
    ));
    hs.push(h("Max-Forwards", "70".into()));
    hs.push(h("From", format!("<{}>;tag={call_id}", cfg.aor)));
    hs.push(h("To", format!("<{}>", cfg.aor)));
    hs.push(h("Call-ID", call_id.to_string()));
    hs.push(h("CSeq", format!("{cseq} REGISTER")));
    hs.push(h("Contact", format!("<{}>", cfg.contact)));
    hs.push(h("Expires", cfg.expires.as_secs().to_string()));
    hs.push(h("User-Agent", cfg.user_agent.clone()));
    if let Some(c) = &cfg.credentials {
        let digest_uri = uri.to_string();
        let who = (c.username.as_str(), c.password.as_str());
        for (name, v) in digest::answers(auth, who, "REGISTER", &digest_uri, b"", cnonce_key) {
            hs.push(h(name, v));
        }
    }
    hs.push(h("Content-Length", "0".into()));
    Ok(rsip::Request {
        method: rsip::Method::Register,
        uri,
        version: Version::V2,
        headers: hs,
        body: Vec::new(),
    }
    .to_bytes())
}

/// The state one registration keeps between refreshes.
struct Registration {
    call_id: String,
    cseq: u32,
    digest: DigestSession,
    /// Random key the cnonces are derived from.
    cnonce_key: String,
}

/// One REGISTER exchange. Returns the granted expiry.
async fn register_once(
    cfg: &RegisterConfig,
    ep: &Endpoint,
    reg: &mut Registration,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Inbound>,
) -> Result<Duration, Failure> {
    let policy = AuthPolicy {
        realms: cfg.realms.clone(),
        trunk: cfg.dest,
    };
    // Credentials for a nonce we already hold go along unasked (nc counts on).
    let mut auth = if cfg.credentials.is_some() {
        reg.digest.begin_request()
    } else {
        Vec::new()
    };
    // Bounded: the session refuses a second non-stale challenge per realm.
    for _attempt in 0..6 {
        reg.cseq += 1;
        let bytes = build(cfg, ep, &reg.call_id, reg.cseq, &auth, &reg.cnonce_key)?;
        ep.send(cfg.dest, &bytes)
            .await
            .map_err(|e| Failure::from(e.to_string()))?;
        let (resp, from) = loop {
            let next = tokio::time::timeout(Duration::from_secs(32), rx.recv())
                .await
                .map_err(|_| "no response to REGISTER".to_string())?;
            match next {
                Some(Inbound::Message {
                    msg: Decoded::Response { resp, .. },
                    from,
                    ..
                }) if resp.cseq == reg.cseq && resp.status >= 200 => break (resp, from),
                Some(_) => continue,
                None => return Err("endpoint closed".to_string().into()),
            }
        };
        match resp.status {
            200..=299 => return Ok(cfg.expires),
            401 | 407 if cfg.credentials.is_some() && !resp.challenges.is_empty() => {
                auth = reg
                    .digest
                    .on_challenge(&resp.challenges, Some(from), &policy)
                    .map_err(|e| Failure {
                        status: Some(resp.status),
                        reason: format!("REGISTER {}: {}", resp.status, e.reason()),
                    })?;
            }
            code => {
                return Err(Failure {
                    status: Some(code),
                    reason: format!("REGISTER rejected: {code} {}", resp.reason),
                });
            }
        }
    }
    Err("REGISTER credentials rejected".to_string().into())
}

/// Registers and keeps the registration fresh until the task is dropped.
pub async fn register_loop(cfg: RegisterConfig, ep: Endpoint) {
    let (state, _) = watch::channel(RegistrationState::Registering);
    let (_never, stop) = watch::channel(false);
    register_reporting(cfg, ep, state, stop).await
}

/// Resolves once `stop` turns true; never when its sender is gone without doing so.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// [`register_loop`], publishing each change of state on `state`. When `stop` turns true it
/// removes the binding (REGISTER with `Expires: 0`, RFC 3261 §10.2.2) and returns.
pub async fn register_reporting(
    cfg: RegisterConfig,
    ep: Endpoint,
    state: watch::Sender<RegistrationState>,
    mut stop: watch::Receiver<bool>,
) {
    let mut reg = Registration {
        call_id: format!("reg{:016x}", rand::random::<u64>()),
        cseq: 0,
        digest: DigestSession::default(),
        cnonce_key: format!("{:032x}", rand::random::<u128>()),
    };
    let mut rx = ep.register(&reg.call_id);
    let mut backoff = Duration::from_secs(5);
    let mut failures = 0;
    // Whether the registrar may hold a binding of ours.
    let mut bound = false;
    loop {
        let attempt = tokio::select! {
            r = register_once(&cfg, &ep, &mut reg, &mut rx) => r,
            _ = stopped(&mut stop) => break,
        };
        let wait = match attempt {
            Ok(expires) => {
                tracing::info!(registrar = %cfg.registrar, secs = expires.as_secs(), "registered");
                state.send_replace(RegistrationState::Registered {
                    at: SystemTime::now(),
                    expires,
                });
                bound = true;
                backoff = Duration::from_secs(5);
                failures = 0;
                // Refresh well before expiry.
                expires.mul_f32(0.8)
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(registrar = %cfg.registrar, error = %e.reason, failures, "registration failed");
                state.send_replace(RegistrationState::Failing {
                    status: e.status,
                    reason: e.reason,
                    failures,
                });
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(300));
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped(&mut stop) => break,
        }
    }
    if bound {
        let remove = RegisterConfig {
            expires: Duration::ZERO,
            ..cfg.clone()
        };
        let done = tokio::time::timeout(
            Duration::from_secs(3),
            register_once(&remove, &ep, &mut reg, &mut rx),
        )
        .await;
        match done {
            Ok(Ok(_)) => tracing::info!(registrar = %cfg.registrar, "unregistered"),
            Ok(Err(e)) => {
                tracing::warn!(registrar = %cfg.registrar, error = %e.reason, "cannot unregister")
            }
            Err(_) => tracing::warn!(registrar = %cfg.registrar, "no answer to the un-REGISTER"),
        }
    }
    ep.unregister(&reg.call_id);
}
