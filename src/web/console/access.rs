//! The access log (who read or changed what, when) and the whole-chain verification.

use super::{PageError, csv, download, esc, given, page, when};
use crate::runtime::Service;
use crate::web::auth::Principal;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::fmt::Write as _;

/// Query of the access log.
#[derive(Deserialize, Default)]
pub struct LogQuery {
    limit: Option<u32>,
    format: Option<String>,
}

/// `GET /console/access`: newest first.
pub async fn log(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Query(q): Query<LogQuery>,
) -> Result<Response, PageError> {
    let rows = svc.store().access_log(q.limit.unwrap_or(500)).await?;
    match given(&q.format) {
        Some("json") => {
            let body = serde_json::to_vec_pretty(&serde_json::json!({ "access": rows }))
                .unwrap_or_default();
            return Ok(download("application/json", "access.json", body));
        }
        Some("csv") => {
            let data: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        crate::store::format_ts(r.at),
                        r.token_name.clone(),
                        r.role.clone(),
                        r.method.clone(),
                        r.path.clone(),
                        r.status.to_string(),
                    ]
                })
                .collect();
            let body = csv(&["at", "token", "role", "method", "path", "status"], &data);
            return Ok(download("text/csv; charset=utf-8", "access.csv", body));
        }
        Some(o) => return Err(PageError::bad(format!("bad format \"{o}\" (csv, json)"))),
        None => {}
    }
    let mut b = String::from(
        "<h1>Access log</h1><p>Every console and API request, newest first. Export: \
         <a href='/console/access?format=csv'>CSV</a> · <a href='/console/access?format=json'>JSON</a></p>\
         <div class='scroll'><table><tr><th>At (UTC)</th><th>Token</th><th>Role</th><th>Request</th><th class='num'>Status</th></tr>",
    );
    for r in &rows {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td class='num'>{}</td></tr>",
            when(&r.at),
            esc(&r.token_name),
            esc(&r.role),
            esc(&r.method),
            esc(&r.path),
            r.status
        );
    }
    b.push_str("</table></div>");
    Ok(Html(page("Access log", Some(&who), &b)).into_response())
}

/// `GET /console/verify`: recomputes the chain and every sealed file now.
pub async fn verify(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Response, PageError> {
    let r = crate::audit::verify(svc.store(), &svc.config().recording.dir).await?;
    let mut b = String::from("<h1>Integrity</h1>");
    let _ = write!(
        b,
        "<div class='verdict {}' id='verdict'>{}</div><div class='card'><dl class='kv'>\
         <dt>Chain entries</dt><dd>{}</dd><dt>Calls checked</dt><dd>{} of {} in the store ({} live \
         or awaiting recovery)</dd><dt>Files hashed</dt><dd>{}</dd>\
         <dt>Head</dt><dd><code style='word-break:break-all'>{}</code></dd></dl>\
         <p class='muted'>Write the head down or publish it: a later head that does not extend it \
         shows the chain was rewritten. The same check: <code>hotline verify --config hotline.toml</code>.</p></div>",
        if r.ok() { "met" } else { "missed" },
        if r.ok() {
            "Verified: nothing was changed, added or removed".to_string()
        } else {
            format!("{} problem(s) found", r.problems.len())
        },
        r.entries,
        r.calls,
        r.stored_calls,
        r.unsealed_live.len(),
        r.files,
        esc(r.head.as_deref().unwrap_or("(empty chain)"))
    );
    if !r.ok() {
        b.push_str("<ul class='card'>");
        for p in &r.problems {
            let _ = write!(b, "<li>{}</li>", esc(&p.to_string()));
        }
        b.push_str("</ul>");
    }
    Ok(Html(page("Integrity", Some(&who), &b)).into_response())
}
