//! `hotline trunk-test NAME`: one OPTIONS through the named trunk, over its own transport
//! (TLS with its trust settings), answering a 401/407 with its credentials, and what worked:
//! the resolved target, the transport, the TLS handshake, the response and its round trip.
//! Its own SIP port (port 0 on `[sip] bind`'s address): it runs beside `hotline serve`.

use crate::config::{self, Config, Trunk};
use crate::runtime::trunk_ping::options_target;
use crate::sip::{Endpoint, TlsClient, TlsSettings, Transport};
use std::fmt::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What `hotline trunk-test` is asked.
pub struct TrunkTestArgs {
    pub config: PathBuf,
    pub name: String,
    /// Where our SIP side binds (default: `[sip] bind`'s address, any port).
    pub sip: Option<SocketAddr>,
    /// How long to wait for the final response.
    pub timeout: Duration,
}

/// The report: the text to print and whether the trunk passed.
pub struct TrunkTestReport {
    pub text: String,
    pub ok: bool,
}

fn transport_of(t: config::Transport) -> Transport {
    match t {
        config::Transport::Udp => Transport::Udp,
        config::Transport::Tcp => Transport::Tcp,
        config::Transport::Tls => Transport::Tls,
    }
}

/// The trunk's endpoint: its transport, its TLS trust (`[trunks.tls]`, else `[sip.tls]`).
async fn bind(cfg: &Config, trunk: &Trunk, at: SocketAddr) -> Result<Endpoint, String> {
    let ua = crate::runtime::user_agent_of(cfg);
    let transport = transport_of(trunk.transport);
    let bound = if transport == Transport::Tls {
        let tls = trunk.tls.as_ref().or(cfg.sip.tls.as_ref());
        let settings = TlsSettings {
            ca_file: tls.and_then(|t| t.ca_file.clone()),
            server_name: tls.and_then(|t| t.server_name.clone()),
        };
        let client = TlsClient::new(&settings).map_err(|e| format!("tls: {e}"))?;
        Endpoint::bind_tls(at, &ua, client).await
    } else {
        Endpoint::bind(at, transport, &ua).await
    };
    bound.map_err(|e| format!("cannot bind sip {at}: {e}"))
}

/// Runs the test; Err only when it could not even start (config, unknown trunk, bind).
pub async fn trunk_test(args: TrunkTestArgs) -> Result<TrunkTestReport, String> {
    let cfg = config::load(&args.config).map_err(|e| e.to_string())?;
    let trunks = cfg.trunks();
    let Some(trunk) = trunks.iter().find(|t| t.name == args.name) else {
        let names: Vec<&str> = trunks.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "no trunk \"{}\" in {} (trunks: {})",
            args.name,
            args.config.display(),
            names.join(", ")
        ));
    };
    let at = args
        .sip
        .unwrap_or_else(|| SocketAddr::new(cfg.sip.bind.ip(), 0));
    let ep = bind(&cfg, trunk, at).await?;
    let mut o = String::new();
    let proxy = trunk.proxy.as_ref().map_or("(none)", |p| p.as_str());
    let _ = writeln!(o, "trunk {}: {proxy}", trunk.name);
    let _ = writeln!(
        o,
        "  transport: {}",
        ep.transport().via_name().to_lowercase()
    );
    let target = match options_target(&cfg, &ep, trunk).await {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(o, "  resolved: FAILED ({e})");
            let _ = writeln!(o, "FAILED");
            return Ok(TrunkTestReport { text: o, ok: false });
        }
    };
    let _ = writeln!(o, "  resolved: {}", target.dest);
    let _ = writeln!(o, "  from: {} via {}", target.from, ep.local_addr());
    let tls = ep.transport() == Transport::Tls;
    let r = crate::sip::options_once(&ep, &target, args.timeout).await;
    let ok = match r {
        Ok(reply) => {
            if tls {
                let _ = writeln!(o, "  tls: handshake ok, certificate verified");
            }
            let auth = if reply.authenticated {
                " (challenged; answered with the trunk's credentials)"
            } else {
                ""
            };
            let ms = reply.rtt.as_secs_f64() * 1000.0;
            let _ = writeln!(
                o,
                "  response: {} {} from {} in {ms:.1} ms{auth}",
                reply.code, reply.reason, reply.from
            );
            // 405/501: reachable, it just does not take OPTIONS (calls may still work).
            let ok = (200..300).contains(&reply.code) || matches!(reply.code, 405 | 501);
            if !ok {
                let why = match reply.code {
                    401 | 407 => "credentials rejected",
                    403 => "refused",
                    503 => "trunk unavailable",
                    _ => "refused",
                };
                let _ = writeln!(o, "  verdict: {why}");
            }
            ok
        }
        Err(e) => {
            if tls && (e.contains("tls") || e.contains("certificate") || e.contains("handshake")) {
                let _ = writeln!(o, "  tls: FAILED ({e})");
            } else {
                let _ = writeln!(o, "  response: none ({e})");
            }
            false
        }
    };
    let _ = writeln!(o, "{}", if ok { "ok" } else { "FAILED" });
    Ok(TrunkTestReport { text: o, ok })
}
