//! The P0 ticket is the last resort, so it is never abandoned: an incident whose ladder is
//! exhausted and whose ticket no attempt got accepted is retried with backoff for as long as
//! it fires. The queue is the store itself (incidents + ticket attempts), so it survives
//! restarts; each failed round is logged at ERROR and told to the notify webhook.

use super::service::Service;
use crate::store::PendingTicket;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Longest wait between two rounds.
const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// POSTs in one round (`Outbound::ticket`).
const ROUND: u32 = 4;

/// When the next round for `p` is due: `base` after the first round, doubling per round.
pub fn next_round(p: &PendingTicket, base: Duration) -> DateTime<Utc> {
    let rounds = p.attempts.div_ceil(ROUND).max(1);
    let wait = base
        .checked_mul(1u32 << (rounds - 1).min(16))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    p.last_at + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX)
}

/// Starts the retry loop of a serving hotline.
pub fn start(svc: &Service) {
    let svc = svc.clone();
    tokio::spawn(async move { run(svc).await });
}

async fn run(svc: Service) {
    loop {
        let base = svc.config().ladder.ticket_retry;
        tokio::time::sleep(base.min(Duration::from_secs(15))).await;
        if svc.is_stopping() {
            return;
        }
        let pending = match svc.store().pending_tickets().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read pending tickets");
                continue;
            }
        };
        for p in pending {
            if Utc::now() >= next_round(&p, base) {
                retry(&svc, &p).await;
            }
        }
    }
}

async fn retry(svc: &Service, p: &PendingTicket) {
    let cfg = svc.config();
    let inner = &svc.inner;
    let Some(url) = cfg.ladder.fallback_url.clone() else {
        return;
    };
    let Ok(Some(view)) = inner.store.incident(&p.id).await else {
        return;
    };
    let body = serde_json::json!({
        "priority": "P0",
        "incident_id": p.id.to_string(),
        "reason": "every contact tried; earlier ticket attempts were not accepted",
        "incident": view.row,
        "attempts": view.ladder,
        "calls": view.calls,
        "ticket_attempts_before": p.attempts,
    });
    let ok = inner
        .outbound
        .ticket(
            &inner.store,
            &p.id,
            &url,
            cfg.ladder.fallback_token.as_ref(),
            &body,
        )
        .await;
    inner.metrics.ticket(if ok { "sent" } else { "failed" });
    let text = if ok {
        tracing::warn!(incident = %p.id, attempts = p.attempts + ROUND, "P0 ticket accepted after retries");
        format!(
            "incident {}: P0 ticket accepted after {} attempts",
            p.id,
            p.attempts + ROUND
        )
    } else {
        tracing::error!(incident = %p.id, attempts = p.attempts + ROUND, "P0 ticket still not accepted; retrying while the incident fires");
        format!(
            "incident {}: P0 ticket still not accepted after {} attempts; retrying while it fires",
            p.id,
            p.attempts + ROUND
        )
    };
    if let Some(n) = &cfg.ladder.notify_url {
        inner.outbound.notify(n, &text).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_back_off_doubling_to_half_an_hour() {
        let t0 = Utc::now();
        let p = |attempts| PendingTicket {
            id: "inc_01M8TTZXW3FVZFV9".parse().expect("id"),
            attempts,
            last_at: t0,
        };
        let base = Duration::from_secs(60);
        let secs = |a| (next_round(&p(a), base) - t0).num_seconds();
        assert_eq!(secs(4), 60);
        assert_eq!(secs(8), 120);
        assert_eq!(secs(12), 240);
        assert_eq!(secs(400), 1800);
    }
}
