//! Counters and histograms for `/metrics` (Prometheus text format 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Time-to-answer histogram bucket bounds, seconds.
const TTA_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0];

#[derive(Default)]
struct Inner {
    incidents: BTreeMap<(String, String), u64>,
    webhooks: BTreeMap<(String, u16), u64>,
    calls: BTreeMap<(String, String), u64>,
    tta: BTreeMap<String, ([u64; TTA_BUCKETS.len()], u64, f64)>,
    escalations: BTreeMap<String, u64>,
    tickets: BTreeMap<String, u64>,
    active_calls: i64,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A webhook request was answered with `code`.
    pub fn webhook(&self, format: &str, code: u16) {
        *self
            .lock()
            .webhooks
            .entry((format.into(), code))
            .or_default() += 1;
    }

    /// A new incident from `source`, routed to `route` (a dialplan id or "unrouted").
    pub fn incident(&self, source: &str, route: &str) {
        *self
            .lock()
            .incidents
            .entry((source.into(), route.into()))
            .or_default() += 1;
    }

    /// A call started (+1) or ended (-1).
    pub fn active(&self, delta: i64) {
        self.lock().active_calls += delta;
    }

    /// A call to `dialplan` ended with `result`, answered after `tta` seconds if it was.
    pub fn call(&self, dialplan: &str, result: &str, tta: Option<f64>) {
        let mut m = self.lock();
        *m.calls.entry((dialplan.into(), result.into())).or_default() += 1;
        if let Some(t) = tta {
            let e = m.tta.entry(dialplan.into()).or_default();
            for (i, b) in TTA_BUCKETS.iter().enumerate() {
                if t <= *b {
                    e.0[i] += 1;
                }
            }
            e.1 += 1;
            e.2 += t;
        }
    }

    /// The ladder of `dialplan` moved to its next contact.
    pub fn escalation(&self, dialplan: &str) {
        *self.lock().escalations.entry(dialplan.into()).or_default() += 1;
    }

    /// A fallback ticket ended with `result` (`sent` or `failed`).
    pub fn ticket(&self, result: &str) {
        *self.lock().tickets.entry(result.into()).or_default() += 1;
    }

    /// The Prometheus exposition.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP hotline_incidents_total Incidents created, by source and route."
        );
        let _ = writeln!(o, "# TYPE hotline_incidents_total counter");
        for ((s, r), n) in &m.incidents {
            let _ = writeln!(
                o,
                "hotline_incidents_total{{source=\"{}\",route=\"{}\"}} {n}",
                esc(s),
                esc(r)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_webhook_requests_total Webhook requests, by format and status code."
        );
        let _ = writeln!(o, "# TYPE hotline_webhook_requests_total counter");
        for ((f, c), n) in &m.webhooks {
            let _ = writeln!(
                o,
                "hotline_webhook_requests_total{{format=\"{}\",code=\"{c}\"}} {n}",
                esc(f)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_calls_total Calls ended, by dialplan (vendor) and result."
        );
        let _ = writeln!(o, "# TYPE hotline_calls_total counter");
        for ((d, r), n) in &m.calls {
            let _ = writeln!(
                o,
                "hotline_calls_total{{dialplan=\"{}\",result=\"{}\"}} {n}",
                esc(d),
                esc(r)
            );
        }
        let _ = writeln!(o, "# HELP hotline_calls_active Calls in progress.");
        let _ = writeln!(o, "# TYPE hotline_calls_active gauge");
        let _ = writeln!(o, "hotline_calls_active {}", m.active_calls);
        let _ = writeln!(
            o,
            "# HELP hotline_time_to_answer_seconds INVITE sent to 200 OK, by dialplan."
        );
        let _ = writeln!(o, "# TYPE hotline_time_to_answer_seconds histogram");
        for (d, (b, count, sum)) in &m.tta {
            for (i, le) in TTA_BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "hotline_time_to_answer_seconds_bucket{{dialplan=\"{}\",le=\"{le}\"}} {}",
                    esc(d),
                    b[i]
                );
            }
            let _ = writeln!(
                o,
                "hotline_time_to_answer_seconds_bucket{{dialplan=\"{}\",le=\"+Inf\"}} {count}",
                esc(d)
            );
            let _ = writeln!(
                o,
                "hotline_time_to_answer_seconds_sum{{dialplan=\"{}\"}} {sum}",
                esc(d)
            );
            let _ = writeln!(
                o,
                "hotline_time_to_answer_seconds_count{{dialplan=\"{}\"}} {count}",
                esc(d)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_escalations_total Moves to the next contact of a ladder."
        );
        let _ = writeln!(o, "# TYPE hotline_escalations_total counter");
        for (d, n) in &m.escalations {
            let _ = writeln!(
                o,
                "hotline_escalations_total{{dialplan=\"{}\"}} {n}",
                esc(d)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_fallback_tickets_total Fallback P0 tickets, by result."
        );
        let _ = writeln!(o, "# TYPE hotline_fallback_tickets_total counter");
        for (r, n) in &m.tickets {
            let _ = writeln!(
                o,
                "hotline_fallback_tickets_total{{result=\"{}\"}} {n}",
                esc(r)
            );
        }
        o
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_prometheus_text() {
        let m = super::Metrics::default();
        m.incident("alertmanager", "hpe");
        m.call("hpe", "answered", Some(1.5));
        m.call("hpe", "busy", None);
        let t = m.render();
        assert!(t.contains("hotline_incidents_total{source=\"alertmanager\",route=\"hpe\"} 1"));
        assert!(t.contains("hotline_time_to_answer_seconds_bucket{dialplan=\"hpe\",le=\"2\"} 1"));
        assert!(t.contains("hotline_time_to_answer_seconds_bucket{dialplan=\"hpe\",le=\"1\"} 0"));
        assert!(t.contains("hotline_calls_total{dialplan=\"hpe\",result=\"busy\"} 1"));
    }
}
