//! SIP URI -> socket address. IP literals and A/AAAA lookups with the default port 5060
//! (5061 for `sips:`, `;transport=tls` or a TLS endpoint); NAPTR/SRV (RFC 3263) are not
//! done: configure the trunk as `host:port`.

use rsipstack::sip::{Host, Param, Scheme, Transport, Uri};
use std::net::SocketAddr;

/// Where to send a request for `uri` (a SIP URI or a `<sip:...>;lr` Route value).
pub async fn resolve(uri: &str) -> Result<SocketAddr, String> {
    resolve_host(uri, false).await.map(|(a, _)| a)
}

/// Where to send a request for `uri`, and the host it names (a TLS peer's certificate must
/// name it). `tls`: the default port is 5061 (RFC 3261 §19.1.2).
pub async fn resolve_host(uri: &str, tls: bool) -> Result<(SocketAddr, String), String> {
    let text = uri.trim();
    let text = match (text.find('<'), text.find('>')) {
        (Some(a), Some(b)) if a < b => &text[a + 1..b],
        _ => text,
    };
    let parsed: Uri = text
        .try_into()
        .map_err(|e| format!("bad uri {text}: {e}"))?;
    let secure = tls || is_secure(&parsed);
    let port = parsed
        .host_with_port
        .port
        .map(u16::from)
        .unwrap_or(if secure { 5061 } else { 5060 });
    match &parsed.host_with_port.host {
        Host::IpAddr(ip) => Ok((SocketAddr::new(*ip, port), ip.to_string())),
        Host::Domain(d) => {
            let name = d.to_string();
            let addr = tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| format!("cannot resolve {name}: {e}"))?
                .next()
                .ok_or_else(|| format!("{name} has no address"))?;
            Ok((addr, name))
        }
    }
}

/// `sips:` or `;transport=tls`.
fn is_secure(uri: &Uri) -> bool {
    uri.scheme == Some(Scheme::Sips)
        || uri
            .params
            .iter()
            .any(|p| matches!(p, Param::Transport(Transport::Tls)))
}

/// The host part of a SIP URI (for E.164 numbers dialled via a trunk domain).
pub fn host_of(uri: &str) -> Option<String> {
    let parsed: Uri = uri.try_into().ok()?;
    Some(parsed.host_with_port.host.to_string())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn resolves_literals_and_routes() {
        let a = super::resolve("sip:support@127.0.0.1:5090")
            .await
            .expect("literal");
        assert_eq!(
            a,
            "127.0.0.1:5090"
                .parse::<std::net::SocketAddr>()
                .expect("literal")
        );
        let b = super::resolve("<sip:127.0.0.1;lr>").await.expect("route");
        assert_eq!(b.port(), 5060);
        assert!(super::resolve("not a uri at all").await.is_err());
        let (c, host) = super::resolve_host("sips:support@127.0.0.1", false)
            .await
            .expect("sips");
        assert_eq!((c.port(), host.as_str()), (5061, "127.0.0.1"));
        let d = super::resolve("<sip:127.0.0.1;transport=tls;lr>")
            .await
            .expect("tls route");
        assert_eq!(d.port(), 5061);
        let (e, _) = super::resolve_host("sip:127.0.0.1", true)
            .await
            .expect("tls");
        assert_eq!(e.port(), 5061);
    }
}
