//! The band under a call's waveform: what the vendor's channel was doing (hold music, a
//! recorded prompt, a person, silence), folded from the listener's timeline events, with the
//! human stage marked. Pure: events in, spans out; then plain SVG and HTML (no script).

use super::esc;
use crate::store::StoredEvent;
use std::fmt::Write as _;

/// What a stretch of the vendor's channel was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Hold music (or a tone).
    Music,
    /// Speech the listener judged a recording (IVR, announcement, a known prompt).
    Prompt,
    /// Speech from the person's first words on.
    Person,
    /// Speech the listener had not judged when it ended (unknown speech before a probe).
    Speech,
}

impl Class {
    fn color(self) -> &'static str {
        match self {
            Class::Music => "#7e57c2",
            Class::Prompt => "#ef6c00",
            Class::Person => "#2e7d32",
            Class::Speech => "#90a4ae",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Music => "music / tone",
            Class::Prompt => "recorded prompt",
            Class::Person => "person",
            Class::Speech => "speech (not judged)",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Class::Music => "music",
            Class::Prompt => "prompt",
            Class::Person => "person",
            Class::Speech => "speech",
        }
    }
}

const SILENCE: &str = "#263238";

/// One coloured stretch, in milliseconds of the recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub class: Class,
    pub from_ms: f64,
    pub to_ms: f64,
}

/// The band of one call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Band {
    pub spans: Vec<Span>,
    /// The person's first words (ms of the recording), and who found them.
    pub human_ms: Option<f64>,
    pub human_by_operator: bool,
    /// An operator said "still a machine" after the detection.
    pub disputed: bool,
}

/// A recording event and a speech start belong together within this (both are the listener's
/// back-dated onset of one segment; the record keeps milliseconds).
const SAME_ONSET_MS: f64 = 60.0;

/// Folds the timeline into the band. `zero`: the recording's start on the timeline (ms since
/// the INVITE); `dur`: the recording's length (ms). Nothing the listener said: no spans.
pub fn fold(events: &[StoredEvent], zero: f64, dur: f64) -> Band {
    let mut b = Band::default();
    let str_of = |e: &StoredEvent, k: &str| e.event[k].as_str().unwrap_or_default().to_string();
    let mut human: Option<f64> = None;
    let mut recordings = Vec::new();
    for e in events {
        match e.kind.as_str() {
            "human_detected" if human.is_none() => {
                let back = e.event["onset_ms_before"].as_f64().unwrap_or(0.0);
                human = Some(e.offset_ms - back);
                b.human_by_operator = e.event["evidence"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|v| v == "operator"));
            }
            "operator_label" if e.event["disputed"] == true => b.disputed = true,
            // The listener's own judgements only: speech an operator's "still a machine"
            // made a recording stays as the listener heard it (the mark says disputed).
            "recording" if e.event["why"] != "operator_label" => recordings.push(e.offset_ms),
            _ => {}
        }
    }
    // Open sounds by name (the listener reports one at a time; silence is left out).
    let mut open: Vec<(String, f64)> = Vec::new();
    let mut raw: Vec<(String, f64, f64)> = Vec::new();
    let end = events.iter().map(|e| e.offset_ms).fold(zero, f64::max);
    for e in events {
        match e.kind.as_str() {
            "sound_started" => open.push((str_of(e, "sound"), e.offset_ms)),
            "sound_ended" => {
                let s = str_of(e, "sound");
                if let Some(i) = open.iter().position(|(n, _)| *n == s) {
                    let (_, from) = open.remove(i);
                    raw.push((s, from, e.offset_ms));
                }
            }
            _ => {}
        }
    }
    raw.extend(open.into_iter().map(|(s, from)| (s, from, end)));
    raw.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (sound, from, to) in raw {
        let class = match sound.as_str() {
            "music" | "tone" => Class::Music,
            "speech" if recordings.iter().any(|r| (r - from).abs() <= SAME_ONSET_MS) => {
                Class::Prompt
            }
            "speech" if human.is_some_and(|h| from >= h - SAME_ONSET_MS) => Class::Person,
            "speech" => Class::Speech,
            _ => continue,
        };
        let (a, z) = ((from - zero).max(0.0), (to - zero).min(dur));
        if z > a {
            b.spans.push(Span {
                class,
                from_ms: a,
                to_ms: z,
            });
        }
    }
    b.human_ms = human.map(|h| h - zero).filter(|h| (0.0..=dur).contains(h));
    b
}

/// The band as HTML: an SVG strip (silence is its background), the human stage marked, and
/// a legend of the classes it shows.
pub fn html(b: &Band, dur: f64) -> String {
    let dur = dur.max(1.0);
    let mut s = format!(
        "<div class='band' id='band'><svg viewBox='0 0 1000 20' preserveAspectRatio='none' \
         role='img' aria-label='what the vendor channel was doing'>\
         <rect x='0' y='0' width='1000' height='20' fill='{SILENCE}'/>"
    );
    for sp in &b.spans {
        let x = sp.from_ms / dur * 1000.0;
        let w = ((sp.to_ms - sp.from_ms) / dur * 1000.0).max(0.5);
        let _ = write!(
            s,
            "<rect class='band-{}' x='{x:.2}' y='0' width='{w:.2}' height='20' fill='{}'>\
             <title>{} {:.1}–{:.1} s</title></rect>",
            sp.class.id(),
            sp.class.color(),
            sp.class.name(),
            sp.from_ms / 1000.0,
            sp.to_ms / 1000.0
        );
    }
    s.push_str("</svg>");
    if let Some(h) = b.human_ms {
        let who = if b.human_by_operator {
            "person (operator)"
        } else {
            "person"
        };
        let _ = write!(
            s,
            "<span class='human{}' id='band-human' style='left:{:.3}%'>{who}{} {:.1} s</span>",
            if b.disputed { " disputed" } else { "" },
            h / dur * 100.0,
            if b.disputed { ", disputed" } else { "" },
            h / 1000.0
        );
    }
    s.push_str("</div><p class='legend' id='band-legend'>");
    let mut shown = vec![Class::Music, Class::Prompt, Class::Person];
    if b.spans.iter().any(|s| s.class == Class::Speech) {
        shown.push(Class::Speech);
    }
    for c in shown {
        let _ = write!(
            s,
            "<span class='sw' style='background:{}'></span>{} ",
            c.color(),
            esc(c.name())
        );
    }
    let _ = write!(
        s,
        "<span class='sw' style='background:{SILENCE}'></span>silence \
         <span class='muted'>(vendor channel, as the listener heard it)</span></p>"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(offset_ms: f64, kind: &str, extra: serde_json::Value) -> StoredEvent {
        let mut event = extra;
        event["kind"] = json!(kind);
        StoredEvent {
            seq: 0,
            at: chrono::Utc::now(),
            offset_ms,
            kind: kind.into(),
            event,
        }
    }

    fn sound(offset_ms: f64, started: bool, s: &str) -> StoredEvent {
        let kind = if started {
            "sound_started"
        } else {
            "sound_ended"
        };
        ev(offset_ms, kind, json!({ "sound": s }))
    }

    /// An IVR prompt, hold music, an announcement, music, then a person (decided 4 s after
    /// their first words), on a recording that starts 500 ms after the INVITE.
    fn hold_line() -> Vec<StoredEvent> {
        vec![
            sound(600.0, true, "speech"),
            ev(600.0, "recording", json!({ "why": "menu" })),
            sound(3_000.0, false, "speech"),
            sound(3_500.0, true, "music"),
            sound(8_000.0, false, "music"),
            sound(8_000.0, true, "speech"),
            ev(8_000.0, "recording", json!({ "why": "music_resumed" })),
            sound(10_000.0, false, "speech"),
            sound(10_000.0, true, "music"),
            sound(14_000.0, false, "music"),
            sound(14_200.0, true, "speech"),
            sound(16_000.0, false, "speech"),
            ev(17_000.0, "probe_sent", json!({})),
            sound(18_500.0, true, "speech"),
            ev(
                18_200.0,
                "human_detected",
                json!({ "onset_ms_before": 4_000, "evidence": ["reply_to_probe (500 ms)"] }),
            ),
            ev(30_000.0, "ended", json!({})),
        ]
    }

    #[test]
    fn the_hold_line_folds_into_prompt_music_and_person() {
        let b = fold(&hold_line(), 500.0, 29_500.0);
        let classes: Vec<Class> = b.spans.iter().map(|s| s.class).collect();
        assert_eq!(
            classes,
            [
                Class::Prompt,
                Class::Music,
                Class::Prompt,
                Class::Music,
                Class::Person,
                Class::Person
            ]
        );
        assert_eq!(b.spans[0].from_ms, 100.0, "in recording time");
        assert_eq!(b.spans[5].to_ms, 29_500.0, "an open sound runs to the end");
        assert_eq!(b.human_ms, Some(13_700.0), "the person's first words");
        assert!(!b.disputed && !b.human_by_operator);
        let h = html(&b, 29_500.0);
        assert!(h.contains("band-person") && h.contains("band-prompt") && h.contains("band-music"));
        assert!(
            h.contains("id='band-human'") && h.contains("person 13.7 s"),
            "{h}"
        );
        assert!(
            !h.contains("not judged"),
            "no unjudged speech, none in the legend"
        );
    }

    #[test]
    fn an_operator_dispute_keeps_the_person_and_flags_it() {
        let mut evs = hold_line();
        evs.push(ev(
            25_000.0,
            "operator_label",
            json!({ "label": "machine", "by": "bridge L1", "listener_human": true, "disputed": true }),
        ));
        evs.push(ev(
            18_500.0,
            "recording",
            json!({ "why": "operator_label" }),
        ));
        let b = fold(&evs, 500.0, 29_500.0);
        assert!(b.disputed);
        assert_eq!(b.spans[4].class, Class::Person, "history is not rewritten");
        assert_eq!(
            b.spans[5].class,
            Class::Person,
            "nor the reply the label made a recording"
        );
        assert!(html(&b, 29_500.0).contains("disputed"));
    }

    #[test]
    fn speech_never_judged_is_shown_as_such_and_no_listener_means_no_band() {
        let evs = vec![
            sound(1_000.0, true, "speech"),
            sound(2_000.0, false, "speech"),
        ];
        let b = fold(&evs, 0.0, 5_000.0);
        assert_eq!(b.spans[0].class, Class::Speech);
        assert!(html(&b, 5_000.0).contains("speech (not judged)"));
        assert!(
            fold(&[ev(0.0, "answered", json!({}))], 0.0, 1_000.0)
                .spans
                .is_empty()
        );
    }
}
