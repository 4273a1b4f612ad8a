//! The incident list (filters, CSV/JSON), one incident (ladder, briefing, ownership,
//! notes, calls), notes and ownership edits, and the evidence bundle.

use super::{PageError, csv, download, esc, given, parse_day, secs, sla_badge, url, when};
use crate::runtime::Service;
use crate::audit::{CallCheck, KIND_EDIT, verify_call, zip::ZipWriter};
use crate::store::{
    ConsoleFilter, IncidentField, IncidentId, IncidentSummary, IncidentView, LadderState,
};
use crate::web::auth::Principal;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
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

fn vendor_of(svc: &Service, dialplan: Option<&str>) -> String {
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

fn incident_id(id: &str) -> Result<IncidentId, PageError> {
    id.parse()
        .map_err(|_| PageError::bad(format!("bad incident id \"{id}\"")))
}

async fn load(svc: &Service, id: &str) -> Result<IncidentView, PageError> {
    svc.store()
        .incident(&incident_id(id)?)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no incident {id}")))
}

/// A verification badge.
pub fn check_badge(c: &CallCheck) -> String {
    match c {
        CallCheck::Verified { seq, .. } => {
            format!("<span class='ok' title='chain entry {seq}'>verified</span>")
        }
        CallCheck::Unsealed => "<span class='muted'>not sealed</span>".into(),
        CallCheck::Failed { problems } => format!(
            "<span class='bad' title='{}'>TAMPERED</span>",
            esc(&problems.join("; "))
        ),
    }
}

/// `GET /console/incidents/{id}`.
pub async fn page(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = load(&svc, &id).await?;
    let i = &v.row;
    let inc = &i.incident;
    let mut b = String::new();
    let title = if inc.fault.summary.is_empty() {
        i.id.to_string()
    } else {
        inc.fault.summary.clone()
    };
    let _ = write!(
        b,
        "<h1>{}</h1><p><a href='/console/incidents/{u}/evidence.zip'>Evidence bundle (zip)</a> · \
         <a href='/v1/incidents/{u}'>JSON</a></p><div class='card'><dl class='kv'>\
         <dt>Incident</dt><dd>{}</dd><dt>Status</dt><dd>{} · {}</dd><dt>Source</dt><dd>{}</dd>\
         <dt>Opened</dt><dd>{}</dd><dt>Resolved</dt><dd>{}</dd>\
         <dt>Vendor</dt><dd>{} ({})</dd><dt>Ladder</dt><dd>{}{}</dd>",
        esc(&title),
        esc(i.id.as_str()),
        serde_json::json!(i.status).as_str().unwrap_or(""),
        serde_json::json!(i.severity).as_str().unwrap_or(""),
        esc(&i.source),
        when(&i.created_at),
        i.resolved_at.as_ref().map_or("–".into(), |t| format!(
            "{} ({})",
            when(t),
            esc(i.resolution_reason.as_deref().unwrap_or(""))
        )),
        esc(&vendor_of(&svc, i.dialplan.as_deref())),
        esc(i.dialplan.as_deref().unwrap_or("unrouted")),
        esc(i.ladder_state.as_str()),
        i.ladder_reason
            .as_deref()
            .map_or(String::new(), |r| format!(": {}", esc(r))),
        u = url(i.id.as_str()),
    );
    let a = &inc.asset;
    for (k, val) in [
        ("Asset tag", &a.tag),
        ("Serial", &a.serial),
        ("Model", &a.model),
        ("Contract", &a.contract),
        ("Site", &a.site),
    ] {
        if let Some(val) = val {
            let _ = write!(b, "<dt>{k}</dt><dd>{}</dd>", esc(val));
        }
    }
    if let Some(g) = &v.group {
        b.push_str(&super::group_rows(g, &i.id));
    }
    b.push_str("</dl></div>");

    // Ownership and notes.
    let can = who.can_write();
    let dis = if can { "" } else { " disabled" };
    let _ = write!(
        b,
        "<h2>Ownership</h2><form class='card filters' method='post' action='/console/incidents/{u}/owner'>\
         <label>Vendor case<input name='vendor_case' value='{}'{dis}></label>\
         <label>Engineer<input name='engineer_name' value='{}'{dis}></label>{}</form>",
        esc(i.vendor_case.as_deref().unwrap_or("")),
        esc(i.engineer_name.as_deref().unwrap_or("")),
        if can { "<button>Save</button>" } else { "" },
        u = url(i.id.as_str()),
    );
    let _ = write!(
        b,
        "<h2>Notes</h2><form class='card' method='post' action='/console/incidents/{u}/notes'>\
         <textarea name='notes' placeholder='Cause, fix, what to do next time'{dis}>{}</textarea>{}</form>",
        esc(i.notes.as_deref().unwrap_or("")),
        if can {
            "<p><button>Save notes</button></p>"
        } else {
            "<p class='muted'>Read only for auditors.</p>"
        },
        u = url(i.id.as_str()),
    );
    let edits: Vec<_> = svc
        .store()
        .chain_of(i.id.as_str())
        .await?
        .into_iter()
        .filter(|e| e.kind == KIND_EDIT)
        .collect();
    if !edits.is_empty() {
        b.push_str("<details><summary>Edit history (chained)</summary><div class='scroll'><table><tr><th>Entry</th><th>At</th><th>Field</th><th>By</th></tr>");
        for e in edits.iter().rev() {
            let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.seq,
                esc(&e.at),
                esc(p["field"].as_str().unwrap_or("")),
                esc(p["by"].as_str().unwrap_or(""))
            );
        }
        b.push_str("</table></div></details>");
    }

    // The ladder as it happened.
    b.push_str("<h2>Ladder</h2><div class='scroll'><table><tr><th>#</th><th>Contact</th><th>Started</th>\
                <th class='num'>+ since opened</th><th class='num'>Took</th><th>Outcome</th><th>Call</th></tr>");
    for s in &v.ladder {
        let since = (s.started_at - i.created_at).num_milliseconds().max(0) as u64;
        let took = s
            .ended_at
            .map(|e| (e - s.started_at).num_milliseconds().max(0) as u64);
        let outcome = s
            .outcome
            .map(|o| serde_json::json!(o).as_str().unwrap_or("").to_string())
            .unwrap_or_else(|| {
                if s.ended_at.is_some() {
                    "not called".into()
                } else {
                    "running".into()
                }
            });
        let call = match &s.call_id {
            Some(c) => format!("<a href='/console/calls/{}'>open</a>", url(c)),
            None => "–".into(),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{} <span class='muted'>try {}</span></td><td>{}</td><td class='num'>{}</td>\
             <td class='num'>{}</td><td>{}<br><span class='muted'>{}</span></td><td>{}</td></tr>",
            s.seq,
            esc(&s.contact),
            s.attempt,
            when(&s.started_at),
            secs(Some(since)),
            secs(took),
            esc(&outcome),
            esc(&super::step_reason(s)),
            call
        );
    }
    if v.ladder.is_empty() {
        b.push_str("<tr><td colspan='7' class='muted'>No steps.</td></tr>");
    }
    b.push_str("</table></div>");

    b.push_str("<h2>Briefing spoken</h2>");
    match &i.briefing_text {
        Some(t) => {
            let _ = write!(b, "<pre class='card'>{}</pre>", esc(t));
        }
        None => b.push_str("<p class='muted'>Not stored for this incident.</p>"),
    }

    b.push_str(
        "<h2>Calls</h2><div class='scroll'><table><tr><th>Call</th><th>Contact</th><th>Result</th>\
                <th class='num'>To answer</th><th>SLA</th><th>Integrity</th></tr>",
    );
    for c in &v.calls {
        let check = verify_call(svc.store(), &c.call_id).await?;
        let _ = write!(
            b,
            "<tr><td><a href='/console/calls/{}'>{}</a></td><td>{}</td><td>{}</td><td class='num'>{}</td><td>{}</td><td>{}</td></tr>",
            url(&c.call_id),
            esc(&c.call_id),
            esc(&c.contact),
            c.result
                .map(|o| serde_json::json!(o).as_str().unwrap_or("").to_string())
                .unwrap_or_else(|| "live".into()),
            secs(c.time_to_answer_ms),
            if c.is_live() {
                super::phase::badge(&c.phase, &c.contact, c.phase_since)
            } else {
                sla_badge(c.sla_met).to_string()
            },
            check_badge(&check)
        );
    }
    if v.calls.is_empty() {
        b.push_str("<tr><td colspan='6' class='muted'>No calls.</td></tr>");
    }
    b.push_str("</table></div>");
    if !v.tickets.is_empty() {
        b.push_str("<h2>Fallback tickets</h2><div class='scroll'><table><tr><th>At</th><th>URL</th><th>Status</th></tr>");
        for t in &v.tickets {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(&t.at),
                esc(&t.url),
                t.status_code.map_or("no answer".into(), |c| c.to_string())
            );
        }
        b.push_str("</table></div>");
    }
    let _ = write!(
        b,
        "<h2>Deliveries</h2><p class='muted'>{} webhook deliveries; first {}.</p>",
        v.deliveries.len(),
        v.deliveries
            .first()
            .map_or("–".into(), |d| when(&d.received_at))
    );
    if let Some(c) = v.live_call() {
        let now = format!(
            "<p id='now'>Now: {}</p>",
            super::phase::badge(&c.phase, &c.contact, c.phase_since)
        );
        let at = b.find("</h1>").map_or(0, |p| p + "</h1>".len());
        b.insert_str(at, &now);
    }
    if matches!(i.ladder_state, LadderState::Running | LadderState::Pending) {
        let last = svc.live().newest(i.id.as_str());
        b.push_str(super::phase::TICK);
        b.push_str(&super::phase::reload_on_events(i.id.as_str(), last));
    }
    Ok(Html(super::page(&title, Some(&who), &b)).into_response())
}

/// Notes form.
#[derive(Deserialize)]
pub struct NotesForm {
    notes: String,
}

/// `POST /console/incidents/{id}/notes` (operators and admins; chained).
pub async fn save_notes(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<NotesForm>,
) -> Result<Response, PageError> {
    let v = load(&svc, &id).await?;
    let text = f.notes.replace("\r\n", "\n");
    let new = Some(text.trim_end()).filter(|t| !t.is_empty());
    if new != v.row.notes.as_deref() {
        svc.store()
            .set_incident_field(&v.row.id, IncidentField::Notes, new, &who.name)
            .await?;
    }
    Ok(Redirect::to(&format!("/console/incidents/{}", url(&id))).into_response())
}

/// Ownership form.
#[derive(Deserialize)]
pub struct OwnerForm {
    vendor_case: Option<String>,
    engineer_name: Option<String>,
}

/// `POST /console/incidents/{id}/owner` (operators and admins; chained).
pub async fn save_owner(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<OwnerForm>,
) -> Result<Response, PageError> {
    let v = load(&svc, &id).await?;
    let mut changed = false;
    for (field, new, old) in [
        (
            IncidentField::VendorCase,
            &f.vendor_case,
            &v.row.vendor_case,
        ),
        (
            IncidentField::EngineerName,
            &f.engineer_name,
            &v.row.engineer_name,
        ),
    ] {
        let new = given(new);
        if new.map(str::len).unwrap_or(0) > 200 {
            return Err(PageError::bad("at most 200 characters"));
        }
        if new != old.as_deref() {
            svc.store()
                .set_incident_field(&v.row.id, field, new, &who.name)
                .await?;
            changed = true;
        }
    }
    if changed {
        let data = serde_json::json!({
            "vendor_case": given(&f.vendor_case),
            "engineer": given(&f.engineer_name),
            "by": who.name,
        });
        svc.live().publish(v.row.id.as_str(), "ownership", data);
    }
    Ok(Redirect::to(&format!("/console/incidents/{}", url(&id))).into_response())
}

const BUNDLE_README: &str = "hotline evidence bundle\n\
=======================\n\n\
incident.json            the incident as stored: deliveries, ladder steps, calls, tickets\n\
calls/<id>.wav           the two-channel recording (left = hotline, right = vendor)\n\
calls/<id>.json          the call record (timeline) written beside the recording\n\
calls/<id>.record.json   the call record as stored in the database\n\
proof/chain.json         the integrity chain from the first entry about this incident to\n\
                         the head when the bundle was made\n\
proof/verification.json  the verification of each call and of the chain segment\n\
SHA256SUMS               sha256sum -c SHA256SUMS checks every file above\n\n\
Each chain entry commits to the one before it:\n\
  hash = SHA-256(prev_hash \"\\n\" seq \"\\n\" at \"\\n\" kind \"\\n\" subject \"\\n\" payload)\n\
A call entry's payload holds the SHA-256 of its WAV, of its timeline JSON and of the stored\n\
record. Compare the last entry's hash with the head written down or published at the time\n\
(hotline verify prints it) to show the chain was not rewritten.\n";

/// `GET /console/incidents/{id}/evidence.zip`.
pub async fn evidence(
    State(svc): State<Service>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let v = load(&svc, &id).await?;
    let now = chrono::Utc::now();
    let chain = svc.store().chain().await?;
    let mut subjects: Vec<String> = v.calls.iter().map(|c| c.call_id.clone()).collect();
    subjects.push(v.row.id.to_string());
    let first = chain
        .iter()
        .position(|e| subjects.contains(&e.subject))
        .unwrap_or(chain.len());
    let segment = &chain[first..];
    let mut broken = Vec::new();
    for w in segment.windows(2) {
        if w[1].prev_hash != w[0].hash || w[1].seq != w[0].seq + 1 {
            broken.push(w[1].seq);
        }
    }
    for e in segment {
        if e.expected_hash() != e.hash {
            broken.push(e.seq);
        }
    }
    let mut checks = serde_json::Map::new();
    for c in &v.calls {
        checks.insert(
            c.call_id.clone(),
            serde_json::json!(verify_call(svc.store(), &c.call_id).await?),
        );
    }
    let verification = serde_json::json!({
        "generated_at": crate::store::format_ts(now),
        "head": chain.last().map(|e| e.hash.clone()),
        "segment_from": segment.first().map(|e| e.seq),
        "segment_ok": broken.is_empty(),
        "segment_problems": broken,
        "calls": checks,
    });
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("README.txt".into(), BUNDLE_README.as_bytes().to_vec()),
        (
            "incident.json".into(),
            serde_json::to_vec_pretty(&v).unwrap_or_default(),
        ),
    ];
    for c in &v.calls {
        let wav = std::path::PathBuf::from(&c.recording_path);
        let side = wav.with_extension("json");
        for (path, name) in [
            (&wav, format!("calls/{}.wav", c.call_id)),
            (&side, format!("calls/{}.json", c.call_id)),
        ] {
            if let Ok(bytes) = tokio::fs::read(path).await {
                files.push((name, bytes));
            }
        }
        if let Some((text, _)) = svc.store().record_text(&c.call_id).await? {
            files.push((
                format!("calls/{}.record.json", c.call_id),
                text.into_bytes(),
            ));
        }
    }
    files.push((
        "proof/chain.json".into(),
        serde_json::to_vec_pretty(&segment).unwrap_or_default(),
    ));
    files.push((
        "proof/verification.json".into(),
        serde_json::to_vec_pretty(&verification).unwrap_or_default(),
    ));
    let sums: String = files
        .iter()
        .map(|(n, d)| format!("{}  {n}\n", crate::audit::sha256_hex(d)))
        .collect();
    files.push(("SHA256SUMS".into(), sums.into_bytes()));
    let name = format!("evidence-{}.zip", v.row.id);
    let zipped = tokio::task::spawn_blocking(move || {
        let mut z = ZipWriter::new();
        for (n, d) in &files {
            z.add(n, d, now)?;
        }
        z.finish()
    })
    .await
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(download("application/zip", &name, zipped))
}
