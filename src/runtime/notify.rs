//! Outbound HTTP: the fallback P0 ticket (with retries, every attempt recorded) and the chat
//! notification on each ladder step.

use crate::config::Secret;
use crate::store::{IncidentId, Store, TicketAttempt};
use std::time::Duration;

/// Ticket attempts before giving up.
const TICKET_ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client shared by tickets and notifications.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    /// Chat notifications waiting to be posted, in order, by one task started on first use:
    /// a ladder never waits for the chat webhook (it is off the INVITE's path).
    queue:
        std::sync::Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<(String, String)>>>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbound {
    /// A client with a timeout.
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            client,
            queue: Default::default(),
        }
    }

    /// Queues a chat notification ([`Outbound::notify`]) and returns at once; they are
    /// posted one after another, in the order queued. Needs a tokio runtime.
    pub fn notify_later(&self, url: &str, text: &str) {
        let queue = self.queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
            let me = Outbound {
                client: self.client.clone(),
                queue: Default::default(),
            };
            tokio::spawn(async move {
                while let Some((url, text)) = rx.recv().await {
                    me.notify(&url, &text).await;
                }
            });
            tx
        });
        // The task ends only with the runtime: nothing to tell then.
        let _ = queue.send((url.to_string(), text.to_string()));
    }

    /// Posts the P0 ticket, retrying with backoff; records every attempt. True if accepted.
    pub async fn ticket(
        &self,
        store: &Store,
        id: &IncidentId,
        url: &str,
        token: Option<&Secret>,
        body: &serde_json::Value,
    ) -> bool {
        let mut backoff = Duration::from_millis(500);
        for attempt in 1..=TICKET_ATTEMPTS {
            let mut req = self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string());
            if let Some(t) = token {
                req = req.bearer_auth(t.expose());
            }
            let (status_code, response) = match req.send().await {
                Ok(r) => {
                    let code = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    (Some(code), Some(text.chars().take(500).collect::<String>()))
                }
                Err(e) => (None, Some(e.to_string())),
            };
            let a = TicketAttempt {
                url: url.to_string(),
                attempt,
                status_code,
                response,
                at: chrono::Utc::now(),
            };
            if let Err(e) = store.record_ticket(id, &a).await {
                tracing::warn!(error = %e, "cannot record ticket attempt");
            }
            if status_code.is_some_and(|c| (200..300).contains(&c)) {
                return true;
            }
            tracing::warn!(attempt, ?status_code, "fallback ticket not accepted");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        false
    }

    /// Tells the chat webhook (Slack-style `{"text": ...}`); best effort.
    pub async fn notify(&self, url: &str, text: &str) {
        let body = serde_json::json!({ "text": chat_escape(text) });
        let req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        match req.send().await {
            Ok(r) if !r.status().is_success() => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "notify refused by the chat webhook"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "notify failed"),
        }
    }
}

/// Text made inert for Slack-style chat markup: `&`, `<`, `>` escaped as the format asks,
/// so a vendor's SIP reason phrase or an alert's text cannot post a link or `<!channel>`.
pub fn chat_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod chat_tests {
    use super::chat_escape;

    #[test]
    fn mentions_and_links_are_inert() {
        let t = chat_escape("486 <!channel> <https://evil.example|click> & more");
        assert!(!t.contains('<') && !t.contains('>'), "{t}");
        assert!(t.contains("&lt;!channel&gt;"));
    }
}
