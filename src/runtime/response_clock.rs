//! The response clock of one incident (issue 11), as the API, the console and `/metrics` show
//! it: from the first answered outbound call, `response_within` of its dialplan (default
//! 15 min), stopped by the first answered callback tied to it or a response an operator
//! recorded; the verdict is `ladder::response_verdict`'s.

use super::service::Service;
use crate::ladder::{ResponseVerdict, response_verdict};
use crate::store::{IncidentId, StoreError};
use serde_json::{Value, json};

/// The clock as JSON: `verdict` is `null` until the clock has started (no answered call).
pub async fn response_clock(svc: &Service, id: &IncidentId) -> Result<Value, StoreError> {
    let f = svc.store().response_facts(id).await?;
    let within = f
        .dialplan
        .as_deref()
        .and_then(|p| svc.dialplans().get(p).map(|p| p.response_within))
        .unwrap_or_else(crate::dialplan::default_response_within);
    let verdict = response_verdict(f.first_answered, f.responded_at, within, chrono::Utc::now());
    let (after_s, deadline) = match verdict {
        Some(ResponseVerdict::Met { after }) => (Some(after.as_secs_f64()), None),
        Some(ResponseVerdict::Missed { after }) => (after.map(|a| a.as_secs_f64()), None),
        Some(ResponseVerdict::Waiting { deadline }) => (None, Some(deadline)),
        None => (None, None),
    };
    Ok(json!({
        "within_s": within.as_secs(),
        "started_at": f.first_answered,
        "responded_at": f.responded_at,
        "note": f.note,
        "by": f.by,
        "verdict": verdict.map(ResponseVerdict::as_str),
        "after_s": after_s,
        "deadline": deadline,
    }))
}

/// Counts a response just recorded in `/metrics` (met or missed, by dialplan).
pub async fn count_response(svc: &Service, id: &IncidentId) {
    let Ok(f) = svc.store().response_facts(id).await else {
        return;
    };
    let plan = f.dialplan.clone().unwrap_or_default();
    let within = svc
        .dialplans()
        .get(&plan)
        .map(|p| p.response_within)
        .unwrap_or_else(crate::dialplan::default_response_within);
    if let Some(v) = response_verdict(f.first_answered, f.responded_at, within, chrono::Utc::now())
    {
        svc.inner.metrics.callbacks.verdict(&plan, v.as_str());
    }
}
