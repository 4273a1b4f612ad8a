//! One incident (ladder, briefing, ownership, notes, calls), notes and ownership edits, and
//! the evidence bundle. The list is `incident_list.rs`.

use super::incident_list::vendor_of;
use super::{PageError, download, esc, given, secs, sla_badge, url, when};
use crate::audit::{CallCheck, KIND_EDIT, verify_call, zip::ZipWriter};
use crate::runtime::Service;
use crate::store::{IncidentField, IncidentId, IncidentView, LadderState};
use crate::web::auth::Principal;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::fmt::Write as _;

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
