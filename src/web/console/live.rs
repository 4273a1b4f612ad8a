//! Joining a live call from the console: a writer (admin, operator) presses Join or Listen
//! on the call page and is redirected to a fresh single-use link minted for them alone.
//! Auditors see no button and the auth layer refuses their POSTs; the link's token is
//! never shown on a page, in the API's call view, in the notify message or in the log.

use super::{PageError, esc, url};
use crate::runtime::Service;
use crate::web::auth::Principal;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The Join / Listen buttons of a live call, for people who may write.
pub fn buttons(svc: &Service, who: &Principal, call_id: &str) -> String {
    if svc.bridge().call(call_id).is_none() {
        return String::new();
    }
    if !who.can_write() {
        return "<p class='muted' id='live'>The call is live. Joining needs an operator or \
                admin token.</p>"
            .into();
    }
    let action = format!("/console/calls/{}/join", url(call_id));
    format!(
        "<div class='card' id='live'><b>The call is live.</b> \
         <form method='post' action='{a}' style='display:inline'>\
         <input type='hidden' name='mode' value='talk'><button>Join and talk</button></form> \
         <form method='post' action='{a}' style='display:inline'>\
         <input type='hidden' name='mode' value='listen'><button>Listen only</button></form>\
         <span class='muted'> {n} operator(s) on the call</span></div>",
        a = esc(&action),
        n = svc.bridge().legs_of(call_id),
    )
}

/// The form of the Join / Listen buttons.
#[derive(Deserialize)]
pub struct JoinForm {
    mode: String,
}

/// `POST /console/calls/{id}/join`: mints a link for the writer who asked and sends them
/// to it (303). The auth layer has refused auditors before this runs.
pub async fn join(
    State(svc): State<Service>,
    axum::Extension(who): axum::Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<JoinForm>,
) -> Result<Response, PageError> {
    if !who.can_write() {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "joining needs a writer",
        ));
    }
    let listen_only = match f.mode.as_str() {
        "talk" => false,
        "listen" => true,
        _ => return Err(PageError::bad("mode must be talk or listen")),
    };
    let token = svc
        .bridge()
        .mint(&id, listen_only)
        .ok_or_else(|| PageError::new(StatusCode::GONE, format!("call {id} is not live")))?;
    tracing::info!(call = %id, by = %who.name, listen_only, "join link minted from the console");
    Ok(Redirect::to(&format!("/join/{token}")).into_response())
}
