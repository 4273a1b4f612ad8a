//! Counters and histograms for `/metrics` (Prometheus text format 0.0.4).

use crate::call::Side;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Time-to-answer histogram bucket bounds, seconds.
const TTA_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0];

/// Time to a person and hold time histogram bucket bounds, seconds (holds run to minutes).
const HOLD_BUCKETS: [f64; 11] = [
    5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
];

/// One histogram series: cumulative buckets over [`HOLD_BUCKETS`], count, sum.
#[derive(Default)]
struct Hold {
    b: [u64; HOLD_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Hold {
    fn observe(&mut self, t: f64) {
        for (i, le) in HOLD_BUCKETS.iter().enumerate() {
            if t <= *le {
                self.b[i] += 1;
            }
        }
        self.count += 1;
        self.sum += t;
    }

    /// `name{labels,le=..}` lines, then `_sum` and `_count`.
    fn render(&self, o: &mut String, name: &str, labels: &str) {
        for (i, le) in HOLD_BUCKETS.iter().enumerate() {
            let _ = writeln!(o, "{name}_bucket{{{labels},le=\"{le}\"}} {}", self.b[i]);
        }
        let _ = writeln!(o, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(o, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(o, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    incidents: BTreeMap<(String, String), u64>,
    webhooks: BTreeMap<(String, u16), u64>,
    calls: BTreeMap<(String, String, &'static str), u64>,
    tta: BTreeMap<String, ([u64; TTA_BUCKETS.len()], u64, f64)>,
    escalations: BTreeMap<String, u64>,
    /// By (dialplan, contact): INVITE to a person's first words; hold music heard.
    to_human: BTreeMap<(String, String), Hold>,
    hold: BTreeMap<(String, String), Hold>,
    /// SLA verdicts by (dialplan, basis, verdict).
    sla: BTreeMap<(String, &'static str, &'static str), u64>,
    tickets: BTreeMap<String, u64>,
    active_calls: i64,
    refused: RefusedWindow,
    /// Waiting now, by kind (`ladder`, `call`): bounded labels.
    queued: BTreeMap<&'static str, i64>,
    /// Trunk failovers by (from trunk, to trunk).
    failovers: BTreeMap<(String, String), u64>,
    /// Time waited for room, by kind.
    queue_waits: BTreeMap<&'static str, ([u64; WAIT_BUCKETS.len()], u64, f64)>,
}

/// Queue wait histogram bucket bounds, seconds.
const WAIT_BUCKETS: [f64; 9] = [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0];

/// Requests refused for want of a valid token, per minute: the first few get an access-log
/// row each, the rest one summary row (security review finding 6: a flood of refused
/// requests wrote 18 MB of access log in 2 s).
#[derive(Default)]
struct RefusedWindow {
    started: Option<std::time::Instant>,
    logged: u32,
    suppressed: u64,
    total: u64,
}

/// Refused requests logged one by one per minute before the rest are summarized.
const REFUSED_LOGGED_PER_MINUTE: u32 = 20;

/// What to write to the access log for one refused request.
#[derive(Debug, PartialEq, Eq)]
pub struct RefusedLog {
    /// Write this request's own row.
    pub this: bool,
    /// Write a summary row for the window that just ended: this many were not written.
    pub summary: Option<u64>,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// The callback line's counters (`callback_metrics.rs`).
    pub callbacks: super::callback_metrics::CallbackMetrics,
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

    /// A request without a valid token was refused at `now`: which rows to write.
    pub fn refused(&self, now: std::time::Instant) -> RefusedLog {
        let mut g = self.lock();
        let w = &mut g.refused;
        w.total += 1;
        let mut summary = None;
        if w.started
            .is_none_or(|s| now.duration_since(s) >= std::time::Duration::from_secs(60))
        {
            summary = (w.suppressed > 0).then_some(w.suppressed);
            w.started = Some(now);
            w.logged = 0;
            w.suppressed = 0;
        }
        let this = w.logged < REFUSED_LOGGED_PER_MINUTE;
        if this {
            w.logged += 1;
        } else {
            w.suppressed += 1;
        }
        RefusedLog { this, summary }
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
    pub fn call(&self, dialplan: &str, result: &str, side: Side, tta: Option<f64>) {
        let mut m = self.lock();
        *m.calls
            .entry((dialplan.into(), result.into(), side.name()))
            .or_default() += 1;
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

    /// A ladder or call (`kind`) started (+1) or stopped (-1) waiting for room under the caps.
    pub fn queued(&self, kind: &'static str, delta: i64) {
        *self.lock().queued.entry(kind).or_default() += delta;
    }

    /// A ladder or call (`kind`) got its room after waiting `waited`.
    pub fn queue_wait(&self, kind: &'static str, waited: std::time::Duration) {
        let t = waited.as_secs_f64();
        let mut m = self.lock();
        let e = m.queue_waits.entry(kind).or_default();
        for (i, b) in WAIT_BUCKETS.iter().enumerate() {
            if t <= *b {
                e.0[i] += 1;
            }
        }
        e.1 += 1;
        e.2 += t;
    }

    /// A call's figures on time to a person (its record's `time_to_human_ms`, `hold_ms`) and
    /// its SLA verdict on its basis (`answer` or `human`; no verdict, no count).
    pub fn human(&self, rec: &crate::call::CallRecord) {
        let mut m = self.lock();
        let key = (rec.dialplan.clone(), rec.contact.clone());
        if let Some(ms) = rec.time_to_human_ms {
            m.to_human
                .entry(key.clone())
                .or_default()
                .observe(ms as f64 / 1000.0);
        }
        if let Some(ms) = rec.hold_ms {
            m.hold.entry(key).or_default().observe(ms as f64 / 1000.0);
        }
        if let Some(met) = rec.sla.met {
            let basis = match rec.sla.basis {
                crate::call::SlaBasis::Answer => "answer",
                crate::call::SlaBasis::Human => "human",
            };
            let verdict = if met { "met" } else { "missed" };
            *m.sla
                .entry((rec.dialplan.clone(), basis, verdict))
                .or_default() += 1;
        }
    }

    /// The ladder of `dialplan` moved to its next contact.
    pub fn escalation(&self, dialplan: &str) {
        *self.lock().escalations.entry(dialplan.into()).or_default() += 1;
    }

    /// A call's trunk failed and the same contact went to the next trunk.
    pub fn failover(&self, from: &str, to: &str) {
        *self
            .lock()
            .failovers
            .entry((from.into(), to.into()))
            .or_default() += 1;
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
            "# HELP hotline_http_refused_total API/console requests refused for want of a valid token."
        );
        let _ = writeln!(o, "# TYPE hotline_http_refused_total counter");
        let _ = writeln!(o, "hotline_http_refused_total {}", m.refused.total);
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
            "# HELP hotline_calls_total Calls ended, by dialplan (vendor), result and side (vendor: \
             the vendor's doing; gateway: ours, e.g. 401/407 or trunk unreachable; withdrawn: \
             we cancelled)."
        );
        let _ = writeln!(o, "# TYPE hotline_calls_total counter");
        for ((d, r, side), n) in &m.calls {
            let _ = writeln!(
                o,
                "hotline_calls_total{{dialplan=\"{}\",result=\"{}\",side=\"{side}\"}} {n}",
                esc(d),
                esc(r)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_queued Ladders and calls waiting for room under the caps (per line, \
             per delivery, per dialplan, RTP share), by kind."
        );
        let _ = writeln!(o, "# TYPE hotline_queued gauge");
        for kind in ["ladder", "call"] {
            let n = m.queued.get(kind).copied().unwrap_or(0);
            let _ = writeln!(o, "hotline_queued{{kind=\"{kind}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP hotline_queue_wait_seconds Time a ladder or call waited for room, by kind."
        );
        let _ = writeln!(o, "# TYPE hotline_queue_wait_seconds histogram");
        for (kind, (b, count, sum)) in &m.queue_waits {
            for (i, le) in WAIT_BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "hotline_queue_wait_seconds_bucket{{kind=\"{kind}\",le=\"{le}\"}} {}",
                    b[i]
                );
            }
            let _ = writeln!(
                o,
                "hotline_queue_wait_seconds_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(o, "hotline_queue_wait_seconds_sum{{kind=\"{kind}\"}} {sum}");
            let _ = writeln!(
                o,
                "hotline_queue_wait_seconds_count{{kind=\"{kind}\"}} {count}"
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_trunk_failovers_total Calls moved to the next trunk because theirs \
             failed (unreachable, no 100 Trying, 503), by trunk."
        );
        let _ = writeln!(o, "# TYPE hotline_trunk_failovers_total counter");
        for ((from, to), n) in &m.failovers {
            let _ = writeln!(
                o,
                "hotline_trunk_failovers_total{{from=\"{}\",to=\"{}\"}} {n}",
                esc(from),
                esc(to)
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
            "# HELP hotline_time_to_human_seconds INVITE sent to a person's first words (menus \
             with wait = \"human\"), by dialplan and contact."
        );
        let _ = writeln!(o, "# TYPE hotline_time_to_human_seconds histogram");
        for ((d, c), h) in &m.to_human {
            let labels = format!("dialplan=\"{}\",contact=\"{}\"", esc(d), esc(c));
            h.render(&mut o, "hotline_time_to_human_seconds", &labels);
        }
        let _ = writeln!(
            o,
            "# HELP hotline_hold_seconds Hold music heard before the person (or in the whole \
             call), by dialplan and contact."
        );
        let _ = writeln!(o, "# TYPE hotline_hold_seconds histogram");
        for ((d, c), h) in &m.hold {
            let labels = format!("dialplan=\"{}\",contact=\"{}\"", esc(d), esc(c));
            h.render(&mut o, "hotline_hold_seconds", &labels);
        }
        let _ = writeln!(
            o,
            "# HELP hotline_sla_total SLA verdicts, by dialplan, basis (answer: the 200 OK; \
             human: a person on the line) and verdict."
        );
        let _ = writeln!(o, "# TYPE hotline_sla_total counter");
        for ((d, basis, verdict), n) in &m.sla {
            let _ = writeln!(
                o,
                "hotline_sla_total{{dialplan=\"{}\",basis=\"{basis}\",verdict=\"{verdict}\"}} {n}",
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
        drop(m);
        self.callbacks.render(&mut o);
        o
    }
}

#[cfg(test)]
mod tests {
    use crate::call::Side;

    #[test]
    fn refused_requests_are_logged_then_summarized_per_minute() {
        let m = super::Metrics::default();
        let t0 = std::time::Instant::now();
        let logs: Vec<_> = (0..1000).map(|_| m.refused(t0)).collect();
        assert_eq!(logs.iter().filter(|l| l.this).count(), 20);
        assert!(logs.iter().all(|l| l.summary.is_none()));
        let next = m.refused(t0 + std::time::Duration::from_secs(61));
        assert_eq!(
            next,
            super::RefusedLog {
                this: true,
                summary: Some(980)
            }
        );
        assert!(m.render().contains("hotline_http_refused_total 1001"));
    }

    #[test]
    fn renders_prometheus_text() {
        let m = super::Metrics::default();
        m.incident("alertmanager", "hpe");
        m.call("hpe", "answered", Side::Vendor, Some(1.5));
        m.call("hpe", "busy", Side::Vendor, None);
        m.call("hpe", "failed", Side::Gateway, None);
        let t = m.render();
        assert!(t.contains("hotline_incidents_total{source=\"alertmanager\",route=\"hpe\"} 1"));
        assert!(t.contains("hotline_time_to_answer_seconds_bucket{dialplan=\"hpe\",le=\"2\"} 1"));
        assert!(t.contains("hotline_time_to_answer_seconds_bucket{dialplan=\"hpe\",le=\"1\"} 0"));
        assert!(
            t.contains("hotline_calls_total{dialplan=\"hpe\",result=\"busy\",side=\"vendor\"} 1")
        );
        assert!(t.contains(
            "hotline_calls_total{dialplan=\"hpe\",result=\"failed\",side=\"gateway\"} 1"
        ));
    }

    #[test]
    fn renders_time_to_a_human_hold_and_sla_by_basis() {
        use crate::call::{CallRecord, Clock, EventKind};
        use std::time::{Duration, Instant};
        let m = super::Metrics::default();
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut r = CallRecord::new(
            "c1",
            "hpe",
            "hpe-hotline",
            "sip:x@y",
            Duration::from_secs(30),
            "r.wav",
            Clock::now(),
        );
        r.judge_on_human();
        let invite = EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        };
        r.push(ms(0), invite.clone());
        r.push(ms(300), EventKind::Answered { code: 200 });
        let music = |started| {
            let sound = "music".to_string();
            if started {
                EventKind::SoundStarted { sound }
            } else {
                EventKind::SoundEnded { sound }
            }
        };
        r.push(ms(5_000), music(true));
        r.push(ms(17_000), music(false));
        r.push(
            ms(20_000),
            EventKind::HumanDetected {
                confidence: 0.9,
                evidence: vec![],
                onset_ms_before: 2_000,
            },
        );
        m.human(&r);
        // An answer-basis call that missed: counted apart.
        let mut a = CallRecord::new(
            "c2",
            "hpe",
            "hpe-vip",
            "sip:x@y",
            Duration::from_secs(5),
            "r.wav",
            Clock::now(),
        );
        a.push(ms(0), invite);
        a.push(ms(9_000), EventKind::Answered { code: 200 });
        m.human(&a);
        let t = m.render();
        let series = "dialplan=\"hpe\",contact=\"hpe-hotline\"";
        for line in [
            format!("hotline_time_to_human_seconds_bucket{{{series},le=\"20\"}} 1"),
            format!("hotline_time_to_human_seconds_bucket{{{series},le=\"10\"}} 0"),
            format!("hotline_time_to_human_seconds_sum{{{series}}} 18"),
            format!("hotline_hold_seconds_bucket{{{series},le=\"20\"}} 1"),
            format!("hotline_hold_seconds_sum{{{series}}} 12"),
            "hotline_sla_total{dialplan=\"hpe\",basis=\"human\",verdict=\"met\"} 1".into(),
            "hotline_sla_total{dialplan=\"hpe\",basis=\"answer\",verdict=\"missed\"} 1".into(),
        ] {
            assert!(t.contains(&line), "{line} in\n{t}");
        }
        assert!(!t.contains("contact=\"hpe-vip\""), "no person, no series");
    }
}
