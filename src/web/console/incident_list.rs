//! The incident list: filters, the table, CSV/JSON export.

use super::{PageError, csv, download, esc, given, parse_day, secs, sla_badge, url, when};
use crate::runtime::Service;
use crate::store::{ConsoleFilter, IncidentSummary, LadderState};
use crate::web::auth::Principal;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::fmt::Write as _;

/// Query of the incident list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    vendor: Option<String>,
    dialplan: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `met` or `missed`.
    sla: Option<String>,
    /// Ladder state.
    result: Option<String>,
    /// Search text.
    q: Option<String>,
    limit: Option<u32>,
    /// `csv` or `json`.
    format: Option<String>,
}

const RESULTS: [&str; 6] = [
    "done",
    "exhausted",
    "stopped",
    "interrupted",
    "running",
    "pending",
];

pub(super) fn vendor_of(svc: &Service, dialplan: Option<&str>) -> String {
    let plans = svc.dialplans();
    dialplan
        .and_then(|d| plans.get(d))
        .map(|p| p.vendor.clone())
        .unwrap_or_default()
}

fn filter_of(svc: &Service, q: &ListQuery) -> Result<ConsoleFilter, PageError> {
    let mut dialplans: Option<Vec<String>> = None;
    if let Some(v) = given(&q.vendor) {
        dialplans = Some(
            svc.dialplans()
                .iter()
                .filter(|p| p.vendor == v)
                .map(|p| p.id.as_str().to_string())
                .collect(),
        );
    }
    if let Some(d) = given(&q.dialplan) {
        dialplans = Some(match dialplans {
            Some(list) => list.into_iter().filter(|p| p == d).collect(),
            None => vec![d.to_string()],
        });
    }
    let sla_met = match given(&q.sla) {
        None => None,
        Some("met") => Some(true),
        Some("missed") => Some(false),
        Some(o) => return Err(PageError::bad(format!("bad sla \"{o}\" (met, missed)"))),
    };
    let result = match given(&q.result) {
        None => None,
        Some(r) if RESULTS.contains(&r) => Some(r.to_string()),
        Some(o) => {
            return Err(PageError::bad(format!(
                "bad result \"{o}\" ({})",
                RESULTS.join(", ")
            )));
        }
    };
    Ok(ConsoleFilter {
        dialplans,
        from: parse_day(q.from.as_deref(), false)?,
        to: parse_day(q.to.as_deref(), true)?,
        sla_met,
        result,
        text: given(&q.q).map(str::to_string),
        limit: q.limit.unwrap_or(200),
    })
}

fn options(values: &[String], chosen: Option<&str>) -> String {
    let mut o = String::from("<option value=''>all</option>");
    for v in values {
        let sel = if Some(v.as_str()) == chosen {
            " selected"
        } else {
            ""
        };
        let _ = write!(o, "<option{sel}>{}</option>", esc(v));
    }
    o
}

/// `GET /console/incidents`: newest first, filtered; `format=csv|json` exports.
pub async fn list(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let filter = filter_of(&svc, &q)?;
    let rows = svc.store().incident_summaries(filter).await?;
    match given(&q.format) {
        Some("json") => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let mut v = serde_json::json!(r);
                    v["vendor"] = vendor_of(&svc, r.row.dialplan.as_deref()).into();
                    v
                })
                .collect();
            let body = serde_json::to_vec_pretty(&serde_json::json!({ "incidents": items }))
                .unwrap_or_default();
            return Ok(download("application/json", "incidents.json", body));
        }
        Some("csv") => {
            return Ok(download(
                "text/csv; charset=utf-8",
                "incidents.csv",
                list_csv(&svc, &rows),
            ));
        }
        Some(o) => return Err(PageError::bad(format!("bad format \"{o}\" (csv, json)"))),
        None => {}
    }
    let mut vendors: Vec<String> = svc.dialplans().iter().map(|p| p.vendor.clone()).collect();
    vendors.sort();
    vendors.dedup();
    let mut plans: Vec<String> = svc
        .dialplans()
        .iter()
        .map(|p| p.id.as_str().to_string())
        .collect();
    plans.sort();
    let results: Vec<String> = RESULTS.iter().map(|s| s.to_string()).collect();
    let slas = vec!["met".to_string(), "missed".to_string()];
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Incidents</h1><form class='filters card' method='get'>\
         <label>Vendor<select name='vendor'>{}</select></label>\
         <label>Dialplan<select name='dialplan'>{}</select></label>\
         <label>From<input type='date' name='from' value='{}'></label>\
         <label>To<input type='date' name='to' value='{}'></label>\
         <label>SLA<select name='sla'>{}</select></label>\
         <label>Result<select name='result'>{}</select></label>\
         <label>Search<input type='search' name='q' value='{}' placeholder='notes, serial, case…'></label>\
         <button>Filter</button></form>",
        options(&vendors, given(&q.vendor)),
        options(&plans, given(&q.dialplan)),
        esc(given(&q.from).unwrap_or("")),
        esc(given(&q.to).unwrap_or("")),
        options(&slas, given(&q.sla)),
        options(&results, given(&q.result)),
        esc(given(&q.q).unwrap_or("")),
    );
    let qs = export_query(&q);
    let _ = write!(
        b,
        "<p>{} incident(s). Export: <a href='/console/incidents?{qs}format=csv'>CSV</a> · \
         <a href='/console/incidents?{qs}format=json'>JSON</a></p>",
        rows.len()
    );
    b.push_str(
        "<div class='scroll'><table><tr><th>Opened (UTC)</th><th>Incident</th>\
         <th class='hide-s'>Vendor</th><th>Result</th><th class='num'>Calls</th>\
         <th>Answered</th><th>SLA</th></tr>",
    );
    // While a ladder runs its call's phase stands where the verdict will be.
    let running = |s: LadderState| matches!(s, LadderState::Running | LadderState::Pending);
    let live: std::collections::HashMap<String, crate::store::StoredCall> =
        if rows.iter().any(|r| running(r.row.ladder_state)) {
            let calls = svc.store().live_calls().await?;
            calls
                .into_iter()
                .filter_map(|c| Some((c.incident_id.as_ref()?.to_string(), c)))
                .collect()
        } else {
            Default::default()
        };
    for r in &rows {
        let i = &r.row;
        let verdict = match live.get(i.id.as_str()) {
            _ if !running(i.ladder_state) => sla_badge(r.sla_met).to_string(),
            Some(c) => super::phase::badge(&c.phase, &c.contact, c.phase_since),
            None => "<span class='muted'>ladder running</span>".into(),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td><a href='/console/incidents/{}'>{}</a><br><span class='muted'>{} · {}</span></td>\
             <td class='hide-s'>{}</td><td>{}</td><td class='num'>{}</td><td>{}</td><td>{}</td></tr>",
            when(&i.created_at),
            url(i.id.as_str()),
            esc(if i.incident.fault.summary.is_empty() {
                i.id.as_str()
            } else {
                &i.incident.fault.summary
            }),
            esc(i.id.as_str()),
            esc(i.dialplan.as_deref().unwrap_or("unrouted")),
            esc(&vendor_of(&svc, i.dialplan.as_deref())),
            esc(i.ladder_state.as_str()),
            r.calls,
            r.answered_by
                .as_deref()
                .map_or("–".to_string(), |c| format!(
                    "{} in {}",
                    esc(c),
                    secs(r.time_to_answer_ms)
                )),
            verdict,
        );
    }
    b.push_str("</table></div>");
    if !live.is_empty() || rows.iter().any(|r| running(r.row.ladder_state)) {
        b.push_str(super::phase::TICK);
        // Phases change: look again in a few seconds while anything runs.
        b.push_str("<script>setTimeout(function(){location.reload();},5000);</script>");
    }
    Ok(Html(super::page("Incidents", Some(&who), &b)).into_response())
}

fn export_query(q: &ListQuery) -> String {
    let mut s = String::new();
    for (k, v) in [
        ("vendor", &q.vendor),
        ("dialplan", &q.dialplan),
        ("from", &q.from),
        ("to", &q.to),
        ("sla", &q.sla),
        ("result", &q.result),
        ("q", &q.q),
    ] {
        if let Some(v) = given(v) {
            let _ = write!(s, "{k}={}&amp;", url(v));
        }
    }
    s
}

fn list_csv(svc: &Service, rows: &[IncidentSummary]) -> String {
    let header = [
        "id",
        "created_at",
        "source",
        "severity",
        "status",
        "dialplan",
        "vendor",
        "summary",
        "result",
        "calls",
        "answered",
        "answered_by",
        "time_to_answer_ms",
        "sla_met",
        "vendor_case",
        "engineer_name",
        "notes",
    ];
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let i = &r.row;
            vec![
                i.id.to_string(),
                crate::store::format_ts(i.created_at),
                i.source.clone(),
                serde_json::json!(i.severity).as_str().unwrap_or("").into(),
                serde_json::json!(i.status).as_str().unwrap_or("").into(),
                opt(&i.dialplan),
                vendor_of(svc, i.dialplan.as_deref()),
                i.incident.fault.summary.clone(),
                i.ladder_state.as_str().into(),
                r.calls.to_string(),
                r.answered.to_string(),
                opt(&r.answered_by),
                r.time_to_answer_ms
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                r.sla_met.map(|m| m.to_string()).unwrap_or_default(),
                opt(&i.vendor_case),
                opt(&i.engineer_name),
                opt(&i.notes),
            ]
        })
        .collect();
    csv(&header, &data)
}
