//! Vendor callbacks on the API (issue 11): the vendor's case number an operator stores (the
//! callback line matches the digits a caller keys against it), a response that came another
//! way (portal, e-mail) recorded with a note, and the response clock shown on the incident.

use super::ApiError;
use super::auth::Principal;
use crate::runtime::Service;
use crate::store::{IncidentField, IncidentId};

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

fn incident_id(id: &str) -> Result<IncidentId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("bad incident id \"{id}\"")))
}

fn writer(who: &Principal) -> Result<(), ApiError> {
    if who.can_write() {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "read-only token"))
    }
}

/// A short, printable, non-empty text of at most `max` characters.
fn clean(v: &str, max: usize, what: &str) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{what}: 1 to {max} printable characters"),
        ));
    }
    Ok(t.to_string())
}

/// Body of `POST /v1/incidents/{id}/case`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    pub case_number: String,
}

/// Stores the vendor's case number (audited, in the hash chain like other owner fields).
pub async fn case(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<CaseBody>,
) -> Result<Json<Value>, ApiError> {
    writer(&who)?;
    let case = clean(&b.case_number, 120, "case_number")?;
    let id = incident_id(&id)?;
    svc.store()
        .set_incident_field(&id, IncidentField::VendorCase, Some(&case), &who.name)
        .await?;
    Ok(Json(json!({ "id": id, "vendor_case": case })))
}

/// Body of `POST /v1/incidents/{id}/response`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    /// How the vendor responded ("portal reply, case CS-0042 opened").
    pub note: String,
}

/// Records a vendor response that came another way, now; the first response counts (a
/// second one is 409).
pub async fn response(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Json(b): Json<ResponseBody>,
) -> Result<Json<Value>, ApiError> {
    writer(&who)?;
    let note = clean(&b.note, 500, "note")?;
    let id = incident_id(&id)?;
    let store = svc.store();
    if !store
        .record_response(&id, chrono::Utc::now(), &note, &who.name)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "a response is already recorded",
        ));
    }
    // Into the hash chain: who said the vendor responded, and how.
    let payload = json!({ "note": note, "by": who.name }).to_string();
    store
        .append_chain("incident_response", id.as_str(), &payload)
        .await?;
    crate::runtime::response_clock::count_response(&svc, &id).await;
    let clock = crate::runtime::response_clock::response_clock(&svc, &id).await?;
    Ok(Json(json!({ "id": id, "response": clock })))
}
