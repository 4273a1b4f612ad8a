//! Browser-facing guards for every response and every state-changing request:
//! - cross-site requests that would change something are refused (`Origin` must name this
//!   host, else `Sec-Fetch-Site` must not say cross-site): SameSite cookies alone left the
//!   open-loopback demo config dialling on a cross-site POST (security review, low);
//! - security headers: no framing (clickjacking the join page's hang-up button), no MIME
//!   sniffing, no `Referer` to other sites (join and console URLs carry capabilities and
//!   ids; `same-origin`, as `no-referrer` makes browsers send `Origin: null`), and a
//!   content security policy that keeps scripts and connections to this origin.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy for every page: scripts, styles and connections from this origin only (the
/// pages keep small inline scripts and styles).
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' blob:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The middleware: refuses cross-site writes, then adds the headers.
pub async fn layer(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Some(why) = cross_site(req.headers())
    {
        return with_headers((StatusCode::FORBIDDEN, why).into_response());
    }
    with_headers(next.run(req).await)
}

fn with_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    res
}

/// Why a state-changing request is cross-site, if it is. Requests without `Origin` or
/// `Sec-Fetch-Site` (curl, Alertmanager, Zabbix) are not browsers and pass.
pub fn cross_site(h: &HeaderMap) -> Option<&'static str> {
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or("");
        return (origin == "null" || Some(authority) != host)
            .then_some("cross-site request refused (Origin is not this host)");
    }
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    (site == Some("cross-site")).then_some("cross-site request refused")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_and_non_browsers_pass_cross_site_is_refused() {
        let host = ("host", "127.0.0.1:8080");
        assert!(cross_site(&headers(&[host, ("origin", "http://127.0.0.1:8080")])).is_none());
        assert!(cross_site(&headers(&[host])).is_none(), "curl, webhooks");
        assert!(cross_site(&headers(&[host, ("origin", "https://evil.example")])).is_some());
        assert!(cross_site(&headers(&[host, ("origin", "null")])).is_some());
        assert!(cross_site(&headers(&[host, ("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&headers(&[host, ("sec-fetch-site", "same-origin")])).is_none());
    }
}
