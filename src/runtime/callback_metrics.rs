//! `/metrics` for the callback line: INVITEs refused by the screening (by reason), callbacks
//! taken (by how they were matched and how they ended), and the response clock's verdicts.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    refused: BTreeMap<String, u64>,
    calls: BTreeMap<(&'static str, String), u64>,
    /// Incidents by response verdict (`met`, `missed`), counted as each is decided.
    verdicts: BTreeMap<(String, &'static str), u64>,
}

/// The callback line's counters.
#[derive(Default)]
pub struct CallbackMetrics {
    inner: Mutex<Inner>,
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl CallbackMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An inbound INVITE refused before anything was set up (`why`: a bounded label).
    pub fn refused(&self, why: &str) {
        *self.lock().refused.entry(why.to_string()).or_default() += 1;
    }

    /// A callback ended: how it was matched (`contact`, `case_number`, `only_open`,
    /// `unmatched`) and its result.
    pub fn call(&self, matched_by: &'static str, result: &str) {
        *self
            .lock()
            .calls
            .entry((matched_by, result.to_string()))
            .or_default() += 1;
    }

    /// An incident's response verdict was decided (`met` / `missed`), by dialplan.
    pub fn verdict(&self, dialplan: &str, verdict: &'static str) {
        *self
            .lock()
            .verdicts
            .entry((dialplan.to_string(), verdict))
            .or_default() += 1;
    }

    /// Appends the exposition.
    pub fn render(&self, o: &mut String) {
        let m = self.lock();
        let _ = writeln!(
            o,
            "# HELP hotline_inbound_refused_total Inbound INVITEs refused by the callback screening, by reason."
        );
        let _ = writeln!(o, "# TYPE hotline_inbound_refused_total counter");
        for (why, n) in &m.refused {
            let _ = writeln!(
                o,
                "hotline_inbound_refused_total{{why=\"{}\"}} {n}",
                esc(why)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_callbacks_total Calls to the callback line, by how they were matched and result."
        );
        let _ = writeln!(o, "# TYPE hotline_callbacks_total counter");
        for ((by, result), n) in &m.calls {
            let _ = writeln!(
                o,
                "hotline_callbacks_total{{matched_by=\"{by}\",result=\"{}\"}} {n}",
                esc(result)
            );
        }
        let _ = writeln!(
            o,
            "# HELP hotline_response_verdicts_total Incidents' vendor response verdicts (response_within), by dialplan."
        );
        let _ = writeln!(o, "# TYPE hotline_response_verdicts_total counter");
        for ((plan, verdict), n) in &m.verdicts {
            let _ = writeln!(
                o,
                "hotline_response_verdicts_total{{dialplan=\"{}\",verdict=\"{verdict}\"}} {n}",
                esc(plan)
            );
        }
    }
}
