//! The incident and call API. `web::auth_layer::layer` in front of these routes identifies the
//! token (`[[http.tokens]]`, or `[http] api_token` as an admin; without any, only a loopback
//! listener configured with `allow_unauthenticated_loopback` answers), checks its role
//! (auditors cannot POST; webhook tokens cannot read) and writes the access log.

use super::ApiError;
use crate::incident::Status;
use crate::runtime::Service;
use crate::store::{IncidentFilter, IncidentId};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower::ServiceExt;

fn incident_id(id: &str) -> Result<IncidentId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("bad incident id \"{id}\"")))
}

/// Query of `GET /v1/incidents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    source: Option<String>,
    limit: Option<u32>,
    before: Option<String>,
}

/// `GET /v1/incidents`: newest first.
pub async fn list_incidents(
    State(svc): State<Service>,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some("firing") => Some(Status::Firing),
        Some("resolved") => Some(Status::Resolved),
        Some("acknowledged") => Some(Status::Acknowledged),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bad status \"{other}\" (firing, resolved, acknowledged)"),
            ));
        }
    };
    let before = q.before.as_deref().map(incident_id).transpose()?;
    let filter = IncidentFilter {
        status,
        source: q.source,
        limit: q.limit.unwrap_or(50),
        before,
    };
    let rows = svc.store().list_incidents(filter).await?;
    Ok(Json(serde_json::json!({ "incidents": rows })))
}

/// `GET /v1/incidents/{id}`: with its calls, timelines and ladder steps; `phase` and `live`
/// name the call running now.
pub async fn incident(
    State(svc): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let view = svc
        .store()
        .incident(&incident_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no incident {id}")))?;
    // While a call runs: its phase on top (`null` between calls and after the ladder).
    let live = view.live_call().map(|c| {
        serde_json::json!({
            "call_id": c.call_id, "contact": c.contact, "phase": c.phase,
            "phase_since": c.phase_since, "stages": c.record.get("stages"),
        })
    });
    let mut v = serde_json::json!(view);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "phase".into(),
            serde_json::json!(live.as_ref().map(|l| &l["phase"])),
        );
        o.insert("live".into(), serde_json::json!(live));
        let clock = crate::runtime::response_clock::response_clock(&svc, &view.row.id).await?;
        o.insert("response".into(), clock);
    }
    Ok(Json(v))
}

/// `POST /v1/incidents/{id}/resolve`.
pub async fn resolve(
    State(svc): State<Service>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    svc.resolve(&incident_id(&id)?, "resolved through the API")
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "id": id, "status": "resolved" })),
    ))
}

/// `GET /v1/calls/{id}`.
pub async fn call(
    State(svc): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = svc
        .store()
        .call(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no call {id}")))?;
    let labels = svc.store().call_labels(&id).await?;
    let mut v = serde_json::json!(c);
    if let Some(o) = v.as_object_mut() {
        o.insert("bridge".into(), super::join::call_view(&svc, &id));
        // Operators' ground truth ("a person is here" / "still a machine"), each chained.
        o.insert("labels".into(), serde_json::json!(labels));
    }
    Ok(Json(v))
}

/// `GET /v1/calls/{id}/recording`: the WAV, with HTTP Range.
pub async fn recording(
    State(svc): State<Service>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let c = svc
        .store()
        .call(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no call {id}")))?;
    let path = c
        .record
        .get("recording")
        .and_then(|v| v.as_str())
        .map(std::path::PathBuf::from)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "the call has no recording"))?;
    let res = tower_http::services::ServeFile::new_with_mime(
        &path,
        &"audio/wav".parse().expect("static mime"),
    )
    .oneshot(req)
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(res.map(Body::new).into_response())
}

/// Body of `POST /v1/dialplans/{id}/dial`. No destination can be given: only the dialplan's
/// own contacts are called.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DialBody {
    summary: Option<String>,
}

/// `POST /v1/dialplans/{id}/dial`: a manual trigger of the dialplan's ladder.
pub async fn dial(
    State(svc): State<Service>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: DialBody = if body.is_empty() {
        DialBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    let a = svc.dial(&id, b.summary).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!(a))))
}

/// Body of `POST /v1/calls/{id}/phone`: an operator from `[[operators]]`, by id only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    operator: String,
}

/// `POST /v1/calls/{id}/phone`: call an operator's configured phone and bridge it into the
/// live call.
pub async fn phone(
    State(svc): State<Service>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: PhoneBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let phone_call = crate::runtime::bridge::phone::call_operator(&svc, &id, &b.operator).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            serde_json::json!({ "call_id": id, "operator": b.operator, "phone_call_id": phone_call }),
        ),
    ))
}
