//! `GET /v1/incidents/{id}/events`: the incident's live events as Server-Sent Events
//! (`runtime::live::LiveHub`): ladder steps, call phases, joins, ownership, the ladder's end and
//! resolution. Each event's `id` numbers it within the incident; a client reconnecting with
//! `Last-Event-ID` gets what it missed from the kept backlog, or a `reset` event (re-read
//! `GET /v1/incidents/{id}`) when that id is no longer known. Behind `auth_layer::layer`: readers
//! (auditors, operators, admins) only; webhook tokens are refused.

use super::ApiError;
use crate::runtime::Service;
use crate::runtime::live::LiveEvent;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

fn sse(e: &LiveEvent) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.event)
        .data(e.data.to_string())
}

/// The stream handler.
pub async fn stream(
    State(svc): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let parsed: crate::store::IncidentId = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, format!("bad incident id \"{id}\"")))?;
    if svc.store().incident(&parsed).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no incident {id}"),
        ));
    }
    let last = match headers.get("last-event-id").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.trim().parse::<u64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "Last-Event-ID is not a number")
        })?),
        Some(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "Last-Event-ID is not a number",
            ));
        }
    };
    let sub = svc.live().subscribe(&parsed.to_string(), last);
    let reset = sub.reset.then(|| {
        // No id: the client's Last-Event-ID stays what it was until a numbered event.
        Event::default()
            .event("reset")
            .data(r#"{"reason":"events missed: re-read the incident"}"#)
    });
    let head = stream::iter(
        reset
            .into_iter()
            .chain(sub.replay.iter().map(sse))
            .map(Ok)
            .collect::<Vec<_>>(),
    );
    // A stream too slow for the backlog ends; the client resumes from its last id.
    let live = stream::unfold(sub.rx, |mut rx| async move {
        match rx.recv().await {
            Ok(e) => Some((Ok(sse(&e)), rx)),
            Err(RecvError::Lagged(_) | RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(head.chain(live)).keep_alive(KeepAlive::default()))
}
