//! `/metrics`, `/healthz`, `/readyz`.

use crate::app::Service;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// Prometheus text.
pub async fn metrics(State(svc): State<Service>) -> impl IntoResponse {
    let mut text = svc.metrics().render();
    svc.registration_metrics(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers and, with `[sip.register]`, the trunk registration is up.
/// The body says `ready` or `not ready`, then one line per check.
pub async fn readyz(State(svc): State<Service>) -> (StatusCode, String) {
    let store = svc.store().schema_version().await.is_ok();
    let (registered, registration) = svc.registration_readiness();
    let dir = svc.config().recording.dir.clone();
    let recordings = tokio::task::spawn_blocking(move || recordings_ready(&dir))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let ok = store && registered && recordings.is_ok();
    let mut body = String::from(if ok { "ready\n" } else { "not ready\n" });
    body.push_str(if store {
        "store: ok\n"
    } else {
        "store: unavailable\n"
    });
    match &recordings {
        Ok(free) => body.push_str(&format!("recordings: writable, {free} MiB free\n")),
        Err(e) => body.push_str(&format!("recordings: {e}\n")),
    }
    if let Some(line) = registration {
        body.push_str(&line);
        body.push('\n');
    }
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

/// Below this much free space a call's recording could be cut short: not ready.
const MIN_FREE_MIB: u64 = 512;

/// The recordings folder takes a file, and its disk has room: the free MiB, or why not.
fn recordings_ready(dir: &std::path::Path) -> Result<u64, String> {
    let probe = dir.join(".readyz-probe");
    std::fs::write(&probe, b"ok").map_err(|e| format!("not writable ({}: {e})", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    let st = nix::sys::statvfs::statvfs(dir).map_err(|e| format!("statvfs: {e}"))?;
    let free = st.blocks_available() as u64 * st.fragment_size() as u64 / (1024 * 1024);
    if free < MIN_FREE_MIB {
        return Err(format!("only {free} MiB free (need {MIN_FREE_MIB})"));
    }
    Ok(free)
}
