//! The auditor console: server-rendered HTML (no build chain), a little plain JS on the call
//! page for the player. Pages: incidents (list, one), calls, vendor scorecard, access log,
//! chain verification; CSV and JSON exports of the lists; the evidence bundle per incident.
//! Every route sits behind `web::auth_layer::layer`, except the login form.

mod access;
mod band;
mod calls;
mod group;
mod incident_list;
mod incidents;
mod live;
mod phase;
mod vendors;

use super::auth::{COOKIE, Principal, identify};
use crate::config::Role;
use crate::runtime::Service;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use sha2::Digest as _;
use std::fmt::Write as _;

pub use group::{group_rows, step_reason};

/// The console pages (behind the auth layer).
pub fn routes() -> Router<Service> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/incidents") }),
        )
        .route("/console/incidents", get(incident_list::list))
        .route("/console/incidents/{id}", get(incidents::page))
        .route("/console/incidents/{id}/notes", post(incidents::save_notes))
        .route("/console/incidents/{id}/owner", post(incidents::save_owner))
        .route(
            "/console/incidents/{id}/evidence.zip",
            get(incidents::evidence),
        )
        .route("/console/calls/{id}", get(calls::page))
        .route("/console/calls/{id}/join", post(live::join))
        .route("/console/calls/{id}/peaks.json", get(calls::peaks_json))
        .route("/console/vendors", get(vendors::scorecard))
        .route("/console/access", get(access::log))
        .route("/console/verify", get(access::verify))
}

/// The login form and logout (outside the auth layer).
pub fn public_routes() -> Router<Service> {
    Router::new()
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", post(logout))
}

/// An error page with a status.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    reason: String,
}

impl PageError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, what)
    }

    pub fn bad(what: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, what)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.status, Html(error_page(self.status, &self.reason))).into_response()
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
    }
}

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Percent-encodes a path segment or query value.
pub fn url(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// A time as the console shows it: UTC, to the millisecond.
pub fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
        .replace('T', " ")
}

/// Milliseconds as seconds with two decimals.
pub fn secs(ms: Option<u64>) -> String {
    ms.map_or("–".into(), |v| format!("{:.2} s", v as f64 / 1000.0))
}

/// A pill for an SLA verdict.
pub fn sla_badge(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "<span class='ok'>SLA met</span>",
        Some(false) => "<span class='bad'>SLA missed</span>",
        None => "<span class='muted'>no verdict</span>",
    }
}

/// A date filter: `YYYY-MM-DD` (start of that day UTC; `end` takes the next day) or
/// RFC 3339. Empty means none.
pub fn parse_day(s: Option<&str>, end: bool) -> Result<Option<DateTime<Utc>>, PageError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| PageError::bad(format!("bad date \"{s}\" (YYYY-MM-DD)")))
}

/// An empty form field as `None`.
pub fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// One CSV field, quoted when it needs to be (RFC 4180). A field a spreadsheet would run
/// as a formula (`=`, `+`, `-`, `@`, tab, CR first: OWASP "CSV injection") gets a leading
/// `'` so it is shown as text; vendor reason phrases and alert text come from outside.
pub fn csv_field(s: &str) -> String {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Rows as CSV text.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut o = header.join(",");
    o.push_str("\r\n");
    for r in rows {
        let line: Vec<String> = r.iter().map(|f| csv_field(f)).collect();
        o.push_str(&line.join(","));
        o.push_str("\r\n");
    }
    o
}

/// A download response.
pub fn download(
    content_type: &'static str,
    name: &str,
    body: impl Into<axum::body::Body>,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

const STYLE: &str = r#"
:root{--fg:#1b1f24;--muted:#667;--line:#d8dce2;--ok:#1a7f37;--bad:#c62828;--warn:#9a6700;--acc:#0b5cad}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);margin:0;background:#f6f7f9}
header{background:#1b1f24;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto;font-size:.85rem;opacity:.8}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:var(--acc)}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin:.6rem 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#eef1f4;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#fff;background:var(--ok);border-radius:4px;padding:0 .35rem;white-space:nowrap}
.bad{color:#fff;background:var(--bad);border-radius:4px;padding:0 .35rem;white-space:nowrap}
.muted{color:var(--muted)}
.live{color:#fff;background:#1565c0;border-radius:4px;padding:0 .35rem;white-space:nowrap}
.warn{color:#fff;background:var(--warn);border-radius:4px;padding:0 .35rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
input,select,textarea,button{font:inherit;padding:.3rem .45rem;border:1px solid #b9c0c8;border-radius:5px}
button{background:var(--acc);color:#fff;border-color:var(--acc);cursor:pointer}
button.link{background:none;color:var(--acc);border:none;padding:0;text-decoration:underline}
textarea{width:100%;min-height:8rem}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f6;padding:.6rem;border-radius:6px;margin:0}
.verdict{font-size:1.15rem;padding:.6rem 1rem;border-radius:8px;color:#fff}
.verdict.met{background:var(--ok)}.verdict.missed{background:var(--bad)}.verdict.none{background:#667}
.wave{position:relative;width:100%;height:150px;background:#0f1720;border-radius:6px;cursor:pointer;user-select:none}
.wave svg{position:absolute;inset:0;width:100%;height:100%}
.wave .mark{position:absolute;top:0;bottom:0;width:2px;margin-left:-1px;background:#ffd54f;border:none;padding:0;border-radius:0;cursor:pointer;opacity:.85}
.wave .mark span{position:absolute;top:16px;left:4px;font-size:10px;line-height:11px;color:#ffd54f;white-space:nowrap;pointer-events:none}
.wave .mark.hid:hover span,.wave .mark.hid:focus span{display:block!important;background:#0f1720;padding:0 2px;z-index:3}
.stages{position:relative;height:50px;margin:.4rem 0 .6rem}
.stages .axis{position:absolute;left:0;right:0;top:14px;height:2px;background:#b9c0c8}
.stages .dot{position:absolute;top:9px;width:12px;height:12px;margin-left:-6px;border-radius:50%;background:#0b5cad}
.stages .sla{position:absolute;top:0;height:30px;border-left:2px dashed #c62828}
.stages .st{position:absolute;top:30px;font-size:12px;line-height:14px;white-space:nowrap;transform:translateX(-50%)}
.stages .sla-l{color:#c62828}
.wave .head{position:absolute;top:0;bottom:0;width:2px;background:#fff;left:0;pointer-events:none}
.wave .lab{position:absolute;left:6px;font-size:11px;color:#9ab;pointer-events:none}
.band{position:relative;width:100%;height:20px;margin-top:4px}
.band svg{position:absolute;inset:0;width:100%;height:100%;border-radius:3px}
.band .human{position:absolute;top:-2px;bottom:-2px;border-left:2px solid #fff;padding-left:4px;font-size:11px;line-height:24px;color:#fff;white-space:nowrap;pointer-events:none}
.band .human.disputed{border-left-style:dashed;color:#ffcc80}
.legend{font-size:12px;margin:.3rem 0}
.legend .sw{display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:-1px;margin:0 .25em 0 .6em}
audio{width:100%;margin:.5rem 0}
@media (max-width:640px){body{font-size:14px}main{padding:.5rem}th,td{padding:.3rem}.hide-s{display:none}}
"#;

/// A whole page.
pub fn page(title: &str, who: Option<&Principal>, body: &str) -> String {
    let who = who.map_or(String::new(), |p| {
        format!(
            "<span class='who'>{} ({}) <form method='post' action='/console/logout' style='display:inline'><button class='link' style='color:#fff'>sign out</button></form></span>",
            esc(&p.name),
            p.role.as_str()
        )
    });
    format!(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>\
         <meta name='viewport' content='width=device-width,initial-scale=1'>\
         <title>{t} · hotline</title><style>{STYLE}</style></head><body>\
         <header><a href='/console/incidents'><b>hotline</b></a>\
         <a href='/console/incidents'>Incidents</a><a href='/console/vendors'>Vendors</a>\
         <a href='/console/verify'>Integrity</a><a href='/console/access'>Access log</a>{who}</header>\
         <main>{body}</main></body></html>",
        t = esc(title)
    )
}

/// The page for an error status.
pub fn error_page(status: StatusCode, reason: &str) -> String {
    page(
        status.canonical_reason().unwrap_or("error"),
        None,
        &format!(
            "<h1>{} {}</h1><p>{}</p><p><a href='/console/login'>Sign in with another token</a></p>",
            status.as_u16(),
            esc(status.canonical_reason().unwrap_or("")),
            esc(reason)
        ),
    )
}

/// The sign-in form.
pub fn login_page(message: Option<&str>) -> String {
    let msg = message.map_or(String::new(), |m| {
        format!("<p class='muted'>{}</p>", esc(m))
    });
    page(
        "Sign in",
        None,
        &format!(
            "<h1>Sign in</h1>{msg}<form class='card' method='post' action='/console/login'>\
             <label>API token<br><input type='password' name='token' autocomplete='current-password' \
             style='width:100%' required></label><p><button>Sign in</button></p>\
             <p class='muted'>Tokens are set in hotline.toml <code>[[http.tokens]]</code> with a \
             role: admin, operator or auditor.</p></form>"
        ),
    )
}

async fn login_form() -> Html<String> {
    Html(login_page(None))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `Secure` on the session cookie when the browser reached us over HTTPS: `[http]
/// secure_cookie`, or a TLS-terminating proxy saying so in `X-Forwarded-Proto`.
fn cookie_attrs(svc: &Service, headers: &HeaderMap) -> &'static str {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if svc.config().http.secure_cookie || forwarded_https {
        "HttpOnly; Secure; SameSite=Strict; Path=/"
    } else {
        "HttpOnly; SameSite=Strict; Path=/"
    }
}

async fn login(
    State(svc): State<Service>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let token = f.token.trim();
    let who = identify(&svc.config().http, Some(token));
    let entry = |name: &str, role: &str, status: u16| crate::store::AccessEntry {
        at: Utc::now(),
        token_name: name.into(),
        role: role.into(),
        method: "POST".into(),
        path: "/console/login".into(),
        status,
    };
    let (res, log) = match who {
        Some(p) if p.role != Role::Webhook && token.bytes().all(|b| b.is_ascii_graphic()) => {
            let hash: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
            let id = svc.sessions().open(hash, std::time::Instant::now());
            let cookie = format!("{COOKIE}={id}; {}", cookie_attrs(&svc, &headers));
            (
                (
                    StatusCode::SEE_OTHER,
                    [
                        (header::SET_COOKIE, cookie),
                        (header::LOCATION, "/console/incidents".to_string()),
                    ],
                )
                    .into_response(),
                entry(&p.name, p.role.as_str(), 303),
            )
        }
        Some(p) => (
            (
                StatusCode::FORBIDDEN,
                Html(login_page(Some("webhook tokens cannot read the console"))),
            )
                .into_response(),
            entry(&p.name, p.role.as_str(), 403),
        ),
        None => (
            (
                StatusCode::UNAUTHORIZED,
                Html(login_page(Some("unknown token"))),
            )
                .into_response(),
            entry("-", "none", 401),
        ),
    };
    if let Err(e) = svc.store().log_access(log).await {
        tracing::error!(error = %e, "cannot write the access log");
    }
    res
}

/// Ends the session on the server (a copied cookie stops working too), then clears it.
async fn logout(State(svc): State<Service>, headers: HeaderMap) -> Response {
    if let Some(id) = super::auth::session_of(&headers) {
        svc.sessions().close(&id);
    }
    (
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; {}; Max-Age=0", cookie_attrs(&svc, &headers)),
            ),
            (header::LOCATION, "/console/login".to_string()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod csv_tests {
    use super::csv_field;

    #[test]
    fn formulas_are_shown_as_text() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1 555"), "'+1 555");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-2+3"), "'-2+3");
        assert_eq!(csv_field("486 Busy Here"), "486 Busy Here");
    }
}
