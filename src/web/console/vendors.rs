//! The vendor scorecard: per vendor and contact, calls, answer rate, p50 / p95 time to
//! answer, median / p90 time to a person and hold time (contacts whose menu waits for a
//! human) and SLA compliance on each call's own basis (the 200 OK, or a person), as a table, a small SVG chart, CSV and JSON. Only calls whose
//! end was the vendor's count; our own failures (credentials, trunk, hotline stopped) and
//! calls we withdrew are counted apart ([`crate::call::Side`]).

use super::{PageError, csv, download, esc, given, page, parse_day, secs};
use crate::call::Side;
use crate::runtime::Service;
use crate::store::CallFact;
use crate::web::auth::Principal;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Query of the scorecard.
#[derive(Deserialize, Default)]
pub struct ScoreQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// One scorecard line.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Score {
    pub vendor: String,
    /// `None` on a vendor's total line.
    pub contact: Option<String>,
    /// Ended calls whose end was the vendor's doing.
    pub calls: u32,
    pub answered: u32,
    pub answer_rate: Option<f64>,
    pub p50_answer_ms: Option<u64>,
    pub p95_answer_ms: Option<u64>,
    /// Calls with a person on the line; median / p90 INVITE to their first words.
    pub humans: u32,
    pub p50_human_ms: Option<u64>,
    pub p90_human_ms: Option<u64>,
    /// Median hold music heard before the person (or in the call), over calls that held.
    pub p50_hold_ms: Option<u64>,
    /// Calls with an SLA verdict, and how many met it (each on its own basis).
    pub sla_calls: u32,
    /// Of `sla_calls`, those judged on time to a person.
    pub sla_human_calls: u32,
    pub sla_met: u32,
    pub sla_compliance: Option<f64>,
    /// Calls that ended on our side (401/407, trunk unreachable, hotline stopped…): not
    /// counted above.
    pub gateway_failures: u32,
    /// Calls we withdrew before an answer (incident resolved, stop): not counted above.
    pub withdrawn: u32,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn score(vendor: &str, contact: Option<&str>, calls: &[&CallFact]) -> Score {
    let over: Vec<&&CallFact> = calls.iter().filter(|c| c.ended || c.interrupted).collect();
    let apart = |side: Side| over.iter().filter(|c| c.side == side).count() as u32;
    let ended: Vec<&&CallFact> = over
        .iter()
        .copied()
        .filter(|c| c.ended && c.side == Side::Vendor)
        .collect();
    let answered = ended
        .iter()
        .filter(|c| c.result.as_deref() == Some("answered"))
        .count() as u32;
    let mut tta: Vec<u64> = ended
        .iter()
        .filter(|c| c.result.as_deref() == Some("answered"))
        .filter_map(|c| c.time_to_answer_ms)
        .collect();
    tta.sort_unstable();
    let sorted = |f: fn(&CallFact) -> Option<u64>| {
        let mut v: Vec<u64> = ended.iter().filter_map(|c| f(c)).collect();
        v.sort_unstable();
        v
    };
    let tth = sorted(|c| c.time_to_human_ms);
    let hold = sorted(|c| c.hold_ms);
    let sla_human_calls = ended
        .iter()
        .filter(|c| c.sla_met.is_some() && c.sla_basis == crate::call::SlaBasis::Human)
        .count() as u32;
    let sla_calls = ended.iter().filter(|c| c.sla_met.is_some()).count() as u32;
    let sla_met = ended.iter().filter(|c| c.sla_met == Some(true)).count() as u32;
    let ratio = |a: u32, b: u32| (b > 0).then(|| a as f64 / b as f64);
    Score {
        vendor: vendor.into(),
        contact: contact.map(str::to_string),
        calls: ended.len() as u32,
        answered,
        answer_rate: ratio(answered, ended.len() as u32),
        p50_answer_ms: percentile(&tta, 0.50),
        p95_answer_ms: percentile(&tta, 0.95),
        humans: tth.len() as u32,
        p50_human_ms: percentile(&tth, 0.50),
        p90_human_ms: percentile(&tth, 0.90),
        p50_hold_ms: percentile(&hold, 0.50),
        sla_calls,
        sla_human_calls,
        sla_met,
        sla_compliance: ratio(sla_met, sla_calls),
        gateway_failures: apart(Side::Gateway),
        withdrawn: apart(Side::Withdrawn),
    }
}

/// Scorecard lines: each vendor's total, then its contacts.
pub fn scorecard_of(svc: &Service, facts: &[CallFact]) -> Vec<Score> {
    let plans = svc.dialplans();
    // A shared line is one row under its own vendor, whichever dialplan called it.
    let vendor = |f: &CallFact| match plans.line(&f.contact) {
        Some(line) => line.vendor.clone(),
        None => plans
            .get(&f.dialplan)
            .map_or_else(|| f.dialplan.clone(), |p| p.vendor.clone()),
    };
    let mut by: BTreeMap<String, BTreeMap<String, Vec<&CallFact>>> = BTreeMap::new();
    for f in facts {
        by.entry(vendor(f))
            .or_default()
            .entry(f.contact.clone())
            .or_default()
            .push(f);
    }
    let mut out = Vec::new();
    for (v, contacts) in &by {
        let all: Vec<&CallFact> = contacts.values().flatten().copied().collect();
        out.push(score(v, None, &all));
        for (c, calls) in contacts {
            out.push(score(v, Some(c), calls));
        }
    }
    out
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.0}%", v * 100.0))
}

/// The bars per contact, labelled by the contact's name (its id when no dialplan names it
/// now); the whole "vendor / name (id)" on hover.
fn chart(rows: &[&Score], plans: &crate::dialplan::Dialplans) -> String {
    let h = 30 * rows.len() + 24;
    let mut s = format!(
        "<svg viewBox='0 0 640 {h}' width='100%' style='max-width:640px' role='img' aria-label='answer rate and SLA compliance per contact'>\
         <rect x='200' y='4' width='10' height='10' fill='#0b5cad'/><text x='214' y='13' font-size='11'>answer rate</text>\
         <rect x='300' y='4' width='10' height='10' fill='#1a7f37'/><text x='314' y='13' font-size='11'>SLA compliance</text>"
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 24 + i * 30;
        let id = r.contact.as_deref().unwrap_or("all");
        let name = plans
            .contact(id)
            .map(|(_, c)| c.name.clone())
            .unwrap_or_else(|| id.to_string());
        let full = format!("{} / {name} ({id})", r.vendor);
        let label: String = if name.chars().count() > 32 {
            name.chars().take(31).chain(['…']).collect()
        } else {
            name
        };
        let w1 = r.answer_rate.unwrap_or(0.0) * 380.0;
        let w2 = r.sla_compliance.unwrap_or(0.0) * 380.0;
        let _ = write!(
            s,
            "<g class='bar'><title>{}: answer rate {}, SLA compliance {}</title>\
             <text x='0' y='{}' font-size='11'>{}</text>\
             <rect x='200' y='{y}' width='{w1:.1}' height='11' fill='#0b5cad'/>\
             <text x='{:.1}' y='{}' font-size='10'>{}</text>\
             <rect x='200' y='{}' width='{w2:.1}' height='11' fill='#1a7f37'/>\
             <text x='{:.1}' y='{}' font-size='10'>{}</text></g>",
            esc(&full),
            pct(r.answer_rate),
            pct(r.sla_compliance),
            y + 15,
            esc(&label),
            204.0 + w1,
            y + 9,
            pct(r.answer_rate),
            y + 13,
            204.0 + w2,
            y + 22,
            pct(r.sla_compliance),
        );
    }
    s.push_str("</svg>");
    s
}

/// `GET /console/vendors`.
pub async fn scorecard(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Query(q): Query<ScoreQuery>,
) -> Result<Response, PageError> {
    let from = parse_day(q.from.as_deref(), false)?;
    let to = parse_day(q.to.as_deref(), true)?;
    let facts = svc.store().call_facts(from, to).await?;
    let rows = scorecard_of(&svc, &facts);
    let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    match given(&q.format) {
        Some("json") => {
            let body = serde_json::to_vec_pretty(&serde_json::json!({ "scorecard": rows }))
                .unwrap_or_default();
            return Ok(download("application/json", "scorecard.json", body));
        }
        Some("csv") => {
            let data: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.vendor.clone(),
                        r.contact.clone().unwrap_or_default(),
                        r.calls.to_string(),
                        r.answered.to_string(),
                        f(r.answer_rate),
                        n(r.p50_answer_ms),
                        n(r.p95_answer_ms),
                        r.humans.to_string(),
                        n(r.p50_human_ms),
                        n(r.p90_human_ms),
                        n(r.p50_hold_ms),
                        r.sla_calls.to_string(),
                        r.sla_human_calls.to_string(),
                        r.sla_met.to_string(),
                        f(r.sla_compliance),
                        r.gateway_failures.to_string(),
                        r.withdrawn.to_string(),
                    ]
                })
                .collect();
            let body = csv(
                &[
                    "vendor",
                    "contact",
                    "calls",
                    "answered",
                    "answer_rate",
                    "p50_answer_ms",
                    "p95_answer_ms",
                    "humans",
                    "p50_human_ms",
                    "p90_human_ms",
                    "p50_hold_ms",
                    "sla_calls",
                    "sla_human_calls",
                    "sla_met",
                    "sla_compliance",
                    "gateway_failures",
                    "withdrawn",
                ],
                &data,
            );
            return Ok(download("text/csv; charset=utf-8", "scorecard.csv", body));
        }
        Some(o) => return Err(PageError::bad(format!("bad format \"{o}\" (csv, json)"))),
        None => {}
    }
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Vendor scorecard</h1><form class='filters card' method='get'>\
         <label>From<input type='date' name='from' value='{}'></label>\
         <label>To<input type='date' name='to' value='{}'></label><button>Apply</button></form>",
        esc(given(&q.from).unwrap_or("")),
        esc(given(&q.to).unwrap_or(""))
    );
    let mut qs = String::new();
    for (k, v) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = given(v) {
            let _ = write!(qs, "{k}={}&amp;", super::url(v));
        }
    }
    let _ = write!(
        b,
        "<p>Export: <a href='/console/vendors?{qs}format=csv'>CSV</a> · <a href='/console/vendors?{qs}format=json'>JSON</a>. \
         Counted: ended calls whose end was the vendor's; time to answer from INVITE sent to 200 OK; \
         time to a person from INVITE sent to their first words (menus that wait for a human), \
         and the SLA judged on that for them. \
         Not counted (last column): our failures (credentials refused, trunk unreachable, \
         hotline stopped, call not set up) and calls we withdrew (incident resolved).</p>"
    );
    b.push_str(
        "<div class='scroll'><table id='scorecard'><tr><th>Vendor / contact</th><th class='num'>Calls</th>\
         <th class='num'>Answered</th><th class='num'>p50</th><th class='num'>p95</th>\
         <th class='num'>To a person p50 / p90</th><th class='num'>Hold p50</th><th class='num'>SLA met</th>\
         <th class='num'>Not the vendor's</th></tr>",
    );
    for r in &rows {
        let name = match &r.contact {
            Some(c) => format!("&nbsp;&nbsp;{}", esc(c)),
            None => format!("<b>{}</b>", esc(&r.vendor)),
        };
        let _ = write!(
            b,
            "<tr><td>{name}</td><td class='num'>{}</td><td class='num'>{} ({})</td><td class='num'>{}</td>\
             <td class='num'>{}</td><td class='num'>{} / {}</td><td class='num'>{}</td>\
             <td class='num' title='{} of them judged on time to a person'>{} of {} ({})</td>\
             <td class='num' title='our failures · withdrawn'>{} ours · {} withdrawn</td></tr>",
            r.calls,
            r.answered,
            pct(r.answer_rate),
            secs(r.p50_answer_ms),
            secs(r.p95_answer_ms),
            secs(r.p50_human_ms),
            secs(r.p90_human_ms),
            secs(r.p50_hold_ms),
            r.sla_human_calls,
            r.sla_met,
            r.sla_calls,
            pct(r.sla_compliance),
            r.gateway_failures,
            r.withdrawn
        );
    }
    if rows.is_empty() {
        b.push_str("<tr><td colspan='9' class='muted'>No calls in this range.</td></tr>");
    }
    b.push_str("</table></div>");
    let contacts: Vec<&Score> = rows.iter().filter(|r| r.contact.is_some()).collect();
    if !contacts.is_empty() {
        let _ = write!(
            b,
            "<div class='card'>{}</div>",
            chart(&contacts, &svc.dialplans())
        );
    }
    Ok(Html(page("Vendors", Some(&who), &b)).into_response())
}

#[cfg(test)]
mod tests {
    use super::{Score, Side, chart, percentile, score};
    use crate::store::CallFact;

    #[test]
    fn bars_are_told_apart_by_contact_with_the_whole_name_on_hover() {
        let rows: Vec<Score> = ["demo-hotline", "demo-vip", "demo-line"]
            .iter()
            .map(|c| Score {
                vendor: "Demo Vendor (simulated)".into(),
                contact: Some(c.to_string()),
                answer_rate: Some(0.5),
                ..Score::default()
            })
            .collect();
        let refs: Vec<&Score> = rows.iter().collect();
        let svg = chart(&refs, &crate::dialplan::Dialplans::default());
        for c in ["demo-hotline", "demo-vip", "demo-line"] {
            assert!(svg.contains(&format!("font-size='11'>{c}</text>")), "{svg}");
            assert!(
                svg.contains(&format!(
                    "<title>Demo Vendor (simulated) / {c} ({c}): answer rate 50%"
                )),
                "{svg}"
            );
        }
    }

    fn fact(result: &str, side: Side, sla_met: Option<bool>, interrupted: bool) -> CallFact {
        CallFact {
            call_id: format!("{result}-{side:?}"),
            incident_id: None,
            dialplan: "dell".into(),
            contact: "hotline".into(),
            result: Some(result.into()),
            started_at: None,
            time_to_answer_ms: (result == "answered").then_some(9_000),
            time_to_human_ms: None,
            hold_ms: None,
            sla_basis: crate::call::SlaBasis::Answer,
            sla_met,
            ended: !interrupted,
            interrupted,
            side,
        }
    }

    /// Issue 20.5: 407s, trunk failures, cut calls and withdrawn calls are not the vendor's.
    #[test]
    fn only_the_vendors_ends_count() {
        let facts = [
            fact("answered", Side::Vendor, Some(true), false),
            fact("no_answer", Side::Vendor, Some(false), false),
            fact("failed", Side::Gateway, Some(false), false), // an old row: verdict stored
            fact("failed", Side::Gateway, None, true),
            fact("cancelled", Side::Withdrawn, None, false),
        ];
        let refs: Vec<&CallFact> = facts.iter().collect();
        let s = score("Dell", None, &refs);
        assert_eq!((s.calls, s.answered), (2, 1));
        assert_eq!(s.answer_rate, Some(0.5));
        assert_eq!((s.sla_met, s.sla_calls), (1, 2));
        assert_eq!((s.gateway_failures, s.withdrawn), (2, 1));
    }

    #[test]
    fn time_to_a_person_and_hold_from_the_calls_that_had_one() {
        let human = |ms: u64, hold: u64, met: bool| CallFact {
            time_to_human_ms: Some(ms),
            hold_ms: Some(hold),
            sla_basis: crate::call::SlaBasis::Human,
            ..fact("answered", Side::Vendor, Some(met), false)
        };
        let facts = [
            human(14_000, 12_000, true),
            human(20_000, 18_000, true),
            human(95_000, 90_000, false),
            // Held, nobody came (hung up at the SLA miss): a hold, no person.
            CallFact {
                hold_ms: Some(30_000),
                sla_basis: crate::call::SlaBasis::Human,
                ..fact("answered", Side::Vendor, Some(false), false)
            },
            fact("answered", Side::Vendor, Some(true), false),
        ];
        let refs: Vec<&CallFact> = facts.iter().collect();
        let s = score("HPE", None, &refs);
        assert_eq!(s.humans, 3);
        assert_eq!(s.p50_human_ms, Some(20_000));
        assert_eq!(s.p90_human_ms, Some(95_000));
        assert_eq!(s.p50_hold_ms, Some(18_000), "median of 12, 18, 30, 90 s");
        assert_eq!((s.sla_met, s.sla_calls, s.sla_human_calls), (3, 5, 4));
    }

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&v, 0.5), Some(10));
        assert_eq!(percentile(&v, 0.95), Some(19));
        assert_eq!(percentile(&[7], 0.95), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
