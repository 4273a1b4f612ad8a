//! A running call in words, where a verdict will be once decided: "ringing vip (0:04)",
//! "briefing 0:12", "on hold 3:12", "talking 1:05". The clock is the time in the phase; a
//! small script ticks it, and the incident page reloads on its event stream.

use super::esc;
use chrono::{DateTime, SecondsFormat, Utc};

/// `m:ss`.
fn clock(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    format!("{}:{:02}", s / 60, s % 60)
}

/// The words around the clock: before and after.
fn frame(phase: &str, contact: &str) -> (String, &'static str) {
    match phase {
        "starting" | "dialing" | "ringing" => (format!("{phase} {contact} ("), ")"),
        "on_hold" => ("on hold ".into(), ""),
        p => (format!("{p} "), ""),
    }
}

/// The phase as text at `now`.
pub fn text(
    phase: &str,
    contact: &str,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    let (pre, post) = frame(phase, contact);
    match since {
        Some(t) => format!("{pre}{}{post}", clock(now - t)),
        None => pre.trim_end_matches([' ', '(']).to_string(),
    }
}

/// The phase as a ticking pill.
pub fn badge(phase: &str, contact: &str, since: Option<DateTime<Utc>>) -> String {
    let (pre, post) = frame(phase, contact);
    let since_attr = since.map_or(String::new(), |t| {
        format!(
            " data-since='{}'",
            t.to_rfc3339_opts(SecondsFormat::Millis, true)
        )
    });
    format!(
        "<span class='live' data-phase='{}' data-pre='{}' data-post='{}'{since_attr}>{}</span>",
        esc(phase),
        esc(&pre),
        post,
        esc(&text(phase, contact, since, Utc::now()))
    )
}

/// Ticks every `.live` clock each second (no requests).
pub const TICK: &str = "<script>setInterval(function(){document.querySelectorAll('.live[data-since]')\
.forEach(function(e){var s=Math.max(0,Math.floor((Date.now()-Date.parse(e.dataset.since))/1000));\
e.textContent=e.dataset.pre+Math.floor(s/60)+':'+String(s%60).padStart(2,'0')+e.dataset.post;});},1000);</script>";

/// Reloads the page when the incident's stream has an event newer than `last`.
pub fn reload_on_events(incident: &str, last: u64) -> String {
    format!(
        "<script>(function(){{var es=new EventSource('/v1/incidents/{}/events');\
['step','phase','operator','ownership','ladder','resolved','reset'].forEach(function(n){{\
es.addEventListener(n,function(m){{if(n==='reset'||Number(m.lastEventId)>{last}){{es.close();location.reload();}}}});}});}})();</script>",
        super::url(incident)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_read_as_the_issue_asks() {
        let now = Utc::now();
        let ago = |s| Some(now - chrono::Duration::seconds(s));
        assert_eq!(
            text("ringing", "demo-vip", ago(4), now),
            "ringing demo-vip (0:04)"
        );
        assert_eq!(text("on_hold", "x", ago(192), now), "on hold 3:12");
        assert_eq!(text("talking", "x", ago(65), now), "talking 1:05");
        assert_eq!(text("dialing", "x", None, now), "dialing x");
    }
}
