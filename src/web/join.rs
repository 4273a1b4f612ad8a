//! The operator bridge over HTTP. A join link is its own credential (random, single use,
//! expiring): `GET /join/{token}` serves the page, `POST /join/{token}/offer` uses the token
//! and answers the browser's WebRTC offer; the leg then acts with its own secret under
//! `/leg/{secret}/…` (state, mute, dtmf, takeover, replay, hangup, owner, truth, leave,
//! handover). The page's data comes as one event stream (`web::operator_stream`):
//! `GET /join/{token}/events` before joining, `GET /leg/{secret}/events` after. People with a
//! token that may write (admins, operators; not auditors) mint links with
//! `POST /v1/calls/{id}/join`.

use super::ApiError;
use crate::runtime::Service;
use crate::runtime::bridge::{BridgeCmd, JoinError, LegSession, webrtc};
use crate::store::{IncidentField, IncidentId};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

const PAGE: &str = include_str!("join_page.html");

/// Most ICE candidates a browser's offer may list (a browser offers a handful).
const MAX_ICE_CANDIDATES: usize = 16;

fn refusal(e: JoinError) -> ApiError {
    let status = match e {
        JoinError::Unknown => StatusCode::NOT_FOUND,
        JoinError::Used => StatusCode::CONFLICT,
        JoinError::Expired | JoinError::CallEnded => StatusCode::GONE,
    };
    ApiError::new(status, e.to_string())
}

/// `GET /join/{token}`: the page (checking, not using, the token: link previews are safe).
/// A refused link gets a page saying why and what to do (an ended call: its outcome and
/// its console page).
pub async fn page(State(svc): State<Service>, Path(token): Path<String>) -> Response {
    let e = match svc.bridge().check(&token) {
        Ok(_) => return Html(PAGE).into_response(),
        Err(e) => e,
    };
    let ended = match (&e, svc.bridge().token_call(&token)) {
        (JoinError::CallEnded, Some(id)) => svc.store().call(&id).await.ok().flatten(),
        _ => None,
    };
    let r = refusal(e.clone());
    (r.status, Html(refused_page(&e, ended.as_ref()))).into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The explanation of a refused link, phone-sized.
fn refused_page(e: &JoinError, ended: Option<&crate::store::StoredCall>) -> String {
    let advice = match e {
        JoinError::Unknown => "Check that the whole link was copied. Links are made on the \
            call's console page (Join and talk) or by a colleague on the call (Hand over)."
            .to_string(),
        JoinError::Used => "Each link works once. Ask whoever sent it for a fresh one \
            (Hand over on their page), or make one on the call's console page."
            .to_string(),
        JoinError::Expired => "Links expire. Make a fresh one on the call's console page, \
            or ask a colleague on the call to hand over."
            .to_string(),
        JoinError::CallEnded => match ended {
            Some(c) => format!(
                "Outcome: <b id='outcome'>{}</b>{}{}. <a href='/console/calls/{}'>The call's \
                 console page</a> has the recording and the timeline.",
                esc(&c
                    .result
                    .and_then(|r| serde_json::to_value(r).ok())
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "unknown".into())),
                c.reason
                    .as_deref()
                    .map(|r| format!(" ({})", esc(r)))
                    .unwrap_or_default(),
                c.ended_at
                    .map(|t| format!(", ended {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
                    .unwrap_or_default(),
                esc(&c.call_id),
            ),
            None => "The call is over.".to_string(),
        },
    };
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content='width=device-width, initial-scale=1'>\
         <title>hotline: link refused</title>\
         <style>body{{font:16px/1.45 system-ui,sans-serif;max-width:40rem;margin:1.5rem auto;\
         padding:0 1rem}}h1{{font-size:1.3rem}}</style>\
         <h1 id='refused'>{}</h1><p id='advice'>{advice}</p></html>",
        esc(&capital(&e.to_string()))
    )
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `GET /join/{token}/events`: the page's stream before joining (the token checked, not used).
pub async fn token_events(
    State(svc): State<Service>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let listen_only = svc.bridge().check(&token).map_err(refusal)?;
    let call = svc
        .bridge()
        .token_call(&token)
        .and_then(|id| svc.bridge().call(&id))
        .ok_or_else(|| refusal(JoinError::CallEnded))?;
    Ok(super::operator_stream::stream(svc, call, listen_only).into_response())
}

/// `GET /leg/{secret}/events`: the page's stream once on the call.
pub async fn leg_events(
    State(svc): State<Service>,
    Path(secret): Path<String>,
) -> Result<Response, ApiError> {
    let s = leg(&svc, &secret)?;
    Ok(super::operator_stream::stream(svc, s.call, s.listen_only).into_response())
}

/// Body of `POST /join/{token}/phone`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    operator: String,
}

/// `POST /join/{token}/phone`: "call me" instead of the browser (the microphone refused,
/// WebRTC blocked): uses the token and rings an `[[operators]]` phone into the call.
pub async fn phone(
    State(svc): State<Service>,
    Path(token): Path<String>,
    Json(b): Json<PhoneBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if svc.bridge().check(&token).map_err(refusal)? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a listen-only link cannot ring a phone into the call",
        ));
    }
    if !svc.config().operators.iter().any(|o| o.id == b.operator) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no operator \"{}\" in [[operators]]", b.operator),
        ));
    }
    let (secret, session) = svc.bridge().redeem(&token).map_err(refusal)?;
    // The phone leg gets its own leg id; the link is spent either way.
    svc.bridge().drop_leg(&secret);
    let id = session.call.call_id.clone();
    let phone_call = crate::runtime::bridge::phone::call_operator(&svc, &id, &b.operator).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "operator": b.operator, "phone_call_id": phone_call })),
    ))
}

/// `POST /leg/{secret}/handover`: a fresh single-use link for a colleague (listen-only from
/// a listen-only leg). The token goes only to this leg's page.
pub async fn handover(
    State(svc): State<Service>,
    Path(secret): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let s = leg(&svc, &secret)?;
    let token = svc
        .bridge()
        .mint(&s.call.call_id, s.listen_only)
        .ok_or_else(|| ApiError::new(StatusCode::GONE, "the call has ended"))?;
    let path = format!("/join/{token}");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "path": path,
            // `[bridge] public_url` when set; else the page uses the address it was opened at.
            "url": svc.config().bridge.public_url.as_ref()
                .map(|_| format!("{}{path}", svc.public_base())),
            "listen_only": s.listen_only,
        })),
    ))
}

/// Body of `POST /join/{token}/offer`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    sdp: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /join/{token}/offer`: uses the token; answers with SDP and the leg's secret.
pub async fn offer(
    State(svc): State<Service>,
    Path(token): Path<String>,
    Json(b): Json<OfferBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Each candidate is probed: a page may not make hotline probe without end (finding, low).
    let candidates = b
        .sdp
        .lines()
        .filter(|l| l.starts_with("a=candidate"))
        .count();
    if candidates > MAX_ICE_CANDIDATES {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{candidates} ICE candidates offered; at most {MAX_ICE_CANDIDATES}"),
        ));
    }
    let (secret, session) = svc.bridge().redeem(&token).map_err(refusal)?;
    let name = b
        .name
        .map(|n| n.chars().filter(|c| !c.is_control()).take(60).collect())
        .filter(|n: &String| !n.trim().is_empty())
        .unwrap_or_else(|| session.leg.to_string());
    let listen_only = session.listen_only;
    let call_id = session.call.call_id.clone();
    let leg_name = session.leg.to_string();
    let answer = webrtc::join(
        svc.bridge().clone(),
        secret.clone(),
        session,
        name,
        b.sdp,
        svc.webrtc_ip(),
    )
    .await
    .map_err(|e| {
        svc.bridge().drop_leg(&secret);
        let status = match e {
            webrtc::LegError::CallEnded => StatusCode::GONE,
            webrtc::LegError::NoPcmu => StatusCode::BAD_REQUEST,
            webrtc::LegError::Webrtc(_) => StatusCode::BAD_GATEWAY,
        };
        ApiError::new(status, e.to_string())
    })?;
    Ok(Json(serde_json::json!({
        "sdp": answer,
        "leg": secret,
        "listen_only": listen_only,
        "call_id": call_id,
        "leg_name": leg_name,
    })))
}

fn leg(svc: &Service, secret: &str) -> Result<LegSession, ApiError> {
    svc.bridge()
        .leg(secret)
        .ok_or_else(|| ApiError::new(StatusCode::GONE, "not on the call (left, or it ended)"))
}

/// `GET /leg/{secret}/state`: the live timeline (the page polls it).
pub async fn state(
    State(svc): State<Service>,
    Path(secret): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let s = leg(&svc, &secret)?;
    let timeline = s.call.timeline.borrow().clone();
    Ok(Json(serde_json::json!({
        "call_id": s.call.call_id,
        "incident": s.call.incident,
        "leg": s.leg.to_string(),
        "listen_only": s.listen_only,
        "operators": svc.bridge().legs_of(&s.call.call_id),
        "timeline": *timeline,
    })))
}

/// Body of `POST /leg/{secret}/{action}`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    muted: Option<bool>,
    digits: Option<String>,
    vendor_case: Option<String>,
    engineer: Option<String>,
    /// `truth`: "person" or "machine".
    label: Option<String>,
}

/// `POST /leg/{secret}/{action}`: mute, dtmf, takeover, replay, hangup, owner, truth, leave.
pub async fn action(
    State(svc): State<Service>,
    Path((secret, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let s = leg(&svc, &secret)?;
    // sendBeacon posts text/plain; an empty body is fine for most actions.
    let b: ActionBody = if body.is_empty() {
        ActionBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    let talker = |what: &str| {
        if s.listen_only {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("listen-only: cannot {what}"),
            ))
        } else {
            Ok(())
        }
    };
    let cmd = match action.as_str() {
        "leave" => {
            s.leave.notify_one();
            return Ok(StatusCode::NO_CONTENT);
        }
        "mute" => {
            talker("unmute")?;
            BridgeCmd::Mute {
                leg: s.leg,
                muted: b.muted.unwrap_or(true),
            }
        }
        "dtmf" => {
            talker("send DTMF")?;
            let digits: String = b.digits.unwrap_or_default();
            if digits.is_empty()
                || digits.len() > 32
                || !digits.chars().all(|c| "0123456789*#ABCD".contains(c))
            {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "digits: 1 to 32 of 0-9 * # A-D",
                ));
            }
            BridgeCmd::Dtmf { leg: s.leg, digits }
        }
        "takeover" => {
            talker("take over")?;
            BridgeCmd::TakeOver { leg: s.leg }
        }
        "replay" => {
            talker("replay the briefing")?;
            BridgeCmd::ReplayBriefing { leg: s.leg }
        }
        "hangup" => {
            talker("hang up")?;
            BridgeCmd::Hangup { leg: s.leg }
        }
        "owner" => {
            talker("set ownership")?;
            let clean = |v: Option<String>| {
                v.map(|t| t.trim().chars().take(120).collect::<String>())
                    .filter(|t| !t.is_empty())
            };
            let (case, engineer) = (clean(b.vendor_case), clean(b.engineer));
            if case.is_none() && engineer.is_none() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "give vendor_case and/or engineer",
                ));
            }
            let incident: IncidentId = s
                .call
                .incident
                .as_deref()
                .and_then(|i| i.parse().ok())
                .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "the call has no incident"))?;
            let by = format!("bridge {}", s.leg);
            for (field, v) in [
                (IncidentField::VendorCase, &case),
                (IncidentField::EngineerName, &engineer),
            ] {
                if let Some(v) = v {
                    svc.store()
                        .set_incident_field(&incident, field, Some(v), &by)
                        .await?;
                }
            }
            BridgeCmd::Ownership {
                leg: s.leg,
                vendor_case: case,
                engineer,
            }
        }
        "truth" => {
            talker("label the call")?;
            let label = b
                .label
                .as_deref()
                .and_then(crate::call::Label::parse)
                .ok_or_else(|| {
                    ApiError::new(StatusCode::BAD_REQUEST, "label: \"person\" or \"machine\"")
                })?;
            let by = leg_name(&s);
            // Stored and chained first: the label is evidence even if the call ends now.
            svc.store()
                .label_call(&s.call.call_id, label.as_str(), &by)
                .await?;
            BridgeCmd::Label { label, by }
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no action \"{other}\""),
            ));
        }
    };
    s.call
        .cmds
        .send(cmd)
        .await
        .map_err(|_| ApiError::new(StatusCode::GONE, "the call has ended"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who a leg is, as labels and the timeline name it: "bridge L1 (Ada)" (the name the
/// operator typed on joining, from the call's timeline).
fn leg_name(s: &LegSession) -> String {
    let leg = s.leg.to_string();
    let name = s.call.timeline.borrow().iter().find_map(|e| match &e.kind {
        crate::call::EventKind::OperatorJoined { leg: l, name, .. } if *l == leg => {
            Some(name.clone())
        }
        _ => None,
    });
    match name {
        Some(n) if n != leg => format!("bridge {leg} ({n})"),
        _ => format!("bridge {leg}"),
    }
}

/// Body of `POST /v1/calls/{id}/join`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MintBody {
    #[serde(default)]
    listen_only: bool,
}

/// `POST /v1/calls/{id}/join`: a fresh link for a live call (admins and operators).
pub async fn mint(
    State(svc): State<Service>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: MintBody = if body.is_empty() {
        MintBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    let token = svc
        .bridge()
        .mint(&id, b.listen_only)
        .ok_or_else(|| ApiError::new(StatusCode::GONE, format!("call {id} is not live")))?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "token": token,
            "path": format!("/join/{token}"),
            "listen_only": b.listen_only,
        })),
    ))
}

/// The bridge part of `GET /v1/calls/{id}`: null when the call is not live.
pub fn call_view(svc: &Service, call_id: &str) -> serde_json::Value {
    if svc.bridge().call(call_id).is_none() {
        return serde_json::Value::Null;
    }
    // Never the tokens: a link is a write capability and this view is readable by auditors.
    serde_json::json!({
        "live": true,
        "open_links": svc.bridge().open_links(call_id),
        "operators": svc.bridge().legs_of(call_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_link_says_why_and_what_to_do() {
        let expired = refused_page(&JoinError::Expired, None);
        assert!(expired.contains("<h1 id='refused'>This join link has expired</h1>"));
        assert!(expired.contains("Make a fresh one on the call's console page"));
        let used = refused_page(&JoinError::Used, None);
        assert!(used.contains("Each link works once"));
        let ended = refused_page(&JoinError::CallEnded, None);
        assert!(ended.contains("The call has ended") && ended.contains("The call is over."));
        assert!(
            !refused_page(&JoinError::Unknown, None).contains("<script"),
            "a refusal page runs nothing"
        );
    }
}
