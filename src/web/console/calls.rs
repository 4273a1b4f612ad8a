//! One call: the staged clocks against the SLA with a verdict, the integrity state, the
//! two-channel player with its waveform (peaks computed once, cached in the store), the band
//! of what the vendor channel was doing (band.rs) and event marks that seek, the operators'
//! labels, and every timeline event.

use super::incidents::check_badge;
use super::{PageError, esc, secs, url, when};
use crate::audit::{Peaks, compute_peaks, verify_call};
use crate::runtime::Service;
use crate::store::StoredEvent;
use crate::web::auth::Principal;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// Buckets per channel in the waveform.
const BUCKETS: usize = 1000;

/// The waveform peaks of a recording: from the store's cache when the file has not
/// changed size since, else computed now and cached.
async fn peaks_of(svc: &Service, call_id: &str, path: &str) -> Option<Peaks> {
    let bytes = tokio::fs::metadata(path).await.ok()?.len();
    if let Ok(Some(json)) = svc.store().peaks(call_id, bytes).await
        && let Ok(p) = serde_json::from_str(&json)
    {
        return Some(p);
    }
    let p = std::path::PathBuf::from(path);
    let peaks = tokio::task::spawn_blocking(move || compute_peaks(&p, BUCKETS))
        .await
        .ok()?
        .ok()?;
    if let Ok(json) = serde_json::to_string(&peaks)
        && let Err(e) = svc.store().save_peaks(call_id, bytes, &json).await
    {
        tracing::warn!(error = %e, "cannot cache waveform peaks");
    }
    Some(peaks)
}

/// `GET /console/calls/{id}/peaks.json`.
pub async fn peaks_json(
    State(svc): State<Service>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = svc
        .store()
        .call(&id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no call {id}")))?;
    let p = peaks_of(&svc, &id, &c.recording_path)
        .await
        .ok_or_else(|| PageError::not_found("no readable recording"))?;
    Ok(Json(p).into_response())
}

/// Where the audio starts on the call's timeline (ms since the INVITE): the first packet
/// we sent starts the recorder's clock; before that, the answer.
fn audio_zero(events: &[StoredEvent]) -> Option<f64> {
    ["media_first_tx", "answered", "early_media"]
        .iter()
        .find_map(|k| events.iter().find(|e| e.kind == *k).map(|e| e.offset_ms))
}

fn stage(record: &serde_json::Value, name: &str) -> Option<DateTime<Utc>> {
    record["stages"][name]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Event fields besides the common ones, as `k=v` text.
fn detail(e: &StoredEvent) -> String {
    match e.event.as_object() {
        Some(o) => o
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "at" | "offset_ms" | "kind"))
            .map(|(k, v)| match v.as_str() {
                Some(s) => format!("{k}={s}"),
                None => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        None => String::new(),
    }
}

fn short(kind: &str) -> &str {
    match kind {
        "invite_sent" => "INVITE",
        "provisional" => "ring",
        "answered" => "answer",
        "dtmf_sent" => "dtmf",
        "dtmf_received" => "dtmf in",
        "playback_started" => "play",
        "playback_finished" => "played",
        "menu_step" => "menu",
        "menu_done" => "menu done",
        "bye_sent" | "bye_received" => "BYE",
        "ended" => "end",
        "media_first_tx" => "rtp",
        "media_first_rx" => "rtp in",
        k => k,
    }
}

/// The staged clocks on one axis: a dot per stage, its label below; `LAYOUT_JS` staggers the
/// labels into rows so none collide however close the stages are (each dot also names its
/// stage on hover; the table below is the legend).
fn clocks_html(
    stages: &[(&str, Option<DateTime<Utc>>)],
    t0: DateTime<Utc>,
    sla_ms: Option<u64>,
) -> String {
    let offs: Vec<(&str, f64)> = stages
        .iter()
        .filter_map(|(n, t)| t.map(|t| (*n, (t - t0).num_milliseconds().max(0) as f64)))
        .collect();
    let max = offs
        .iter()
        .map(|(_, o)| *o)
        .chain(sla_ms.map(|s| s as f64))
        .fold(1.0, f64::max)
        * 1.04;
    let x = |ms: f64| 1.0 + ms / max * 98.0;
    let mut s = String::from(
        "<div class='stages' id='stages' role='img' aria-label='staged clocks'><div class='axis'></div>",
    );
    if let Some(sla) = sla_ms {
        let _ = write!(
            s,
            "<div class='sla' style='left:{:.2}%' title='SLA {1:.1} s'></div>\
             <span class='st sla-l' style='left:{0:.2}%'>SLA {1:.1} s</span>",
            x(sla as f64),
            sla as f64 / 1000.0
        );
    }
    for (n, o) in &offs {
        let _ = write!(
            s,
            "<div class='dot' style='left:{0:.2}%' title='{1} at {2:.2} s'></div>\
             <span class='st' style='left:{0:.2}%'>{1} {2:.2}s</span>",
            x(*o),
            esc(n),
            o / 1000.0
        );
    }
    s.push_str("</div>");
    s
}

/// Lays labels out in rows so none overlap (the stage labels: as many rows as needed; the
/// waveform's marks: the rows that fit, the rest named on hover). Again on resize.
const LAYOUT_JS: &str = r#"
(function(){
  function lay(box,sel,top0,step,grow){
    if(!box)return;
    var items=[].slice.call(box.querySelectorAll(sel)),b=box.getBoundingClientRect();
    items.forEach(function(s){s.style.display='';s.style.top=top0+'px';s.style.marginLeft='';s.parentNode.classList.remove('hid');});
    var max=grow?99:Math.max(1,Math.floor((box.clientHeight-top0-18)/step)),rows=[];
    items.map(function(s){var r=s.getBoundingClientRect();return{s:s,l:r.left,r:r.right};})
      .sort(function(p,q){return p.l-q.l;})
      .forEach(function(it){
        var d=it.r>b.right?b.right-it.r:(it.l<b.left?b.left-it.l:0);
        if(d){it.s.style.marginLeft=d+'px';it.l+=d;it.r+=d;}
        for(var i=0;i<max;i++){
          if(rows[i]===undefined||rows[i]+6<=it.l){rows[i]=it.r;it.s.style.top=(top0+i*step)+'px';return;}
        }
        it.s.style.display='none';it.s.parentNode.classList.add('hid');
      });
    if(grow)box.style.height=(top0+Math.max(1,rows.length)*step+6)+'px';
  }
  function all(){
    lay(document.getElementById('stages'),'.st',30,16,true);
    lay(document.getElementById('wave'),'.mark span',16,13,false);
  }
  all();addEventListener('resize',all);
})();
"#;

fn wave_svg(p: &Peaks) -> String {
    let n = p.left.len().max(1);
    let mut s = format!(
        "<svg viewBox='0 0 {n} 100' preserveAspectRatio='none' aria-hidden='true'>\
         <line x1='0' y1='50' x2='{n}' y2='50' stroke='#2b3440' stroke-width='1' vector-effect='non-scaling-stroke'/>"
    );
    for (ch, mid, color) in [(&p.left, 25.0, "#4fc3f7"), (&p.right, 75.0, "#ffb74d")] {
        let mut d = String::new();
        for (i, v) in ch.iter().enumerate() {
            let h = (*v as f64 / 1000.0 * 23.0).max(0.3);
            let _ = write!(d, "M{i}.5 {:.1}V{:.1}", mid - h, mid + h);
        }
        let _ = write!(
            s,
            "<path d='{d}' stroke='{color}' stroke-width='1' vector-effect='non-scaling-stroke'/>"
        );
    }
    s.push_str("</svg>");
    s
}

const PLAYER_JS: &str = r#"
(function(){
  var p=document.getElementById('player'),w=document.getElementById('wave'),h=document.getElementById('head');
  if(!p||!w)return;
  var d=parseFloat(w.dataset.duration)||1;
  window.hotlineSeeks=0;
  p.addEventListener('seeked',function(){window.hotlineSeeks++;});
  function seek(t){p.currentTime=t;var r=p.play();if(r&&r.catch)r.catch(function(){});}
  document.querySelectorAll('[data-t]').forEach(function(b){
    b.addEventListener('click',function(ev){ev.stopPropagation();seek(parseFloat(b.dataset.t));});
  });
  w.addEventListener('click',function(ev){var r=w.getBoundingClientRect();seek(Math.max(0,(ev.clientX-r.left)/r.width*d));});
  p.addEventListener('timeupdate',function(){h.style.left=Math.min(100,p.currentTime/d*100)+'%';});
})();
"#;

/// `GET /console/calls/{id}`.
pub async fn page(
    State(svc): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let c = svc
        .store()
        .call(&id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no call {id}")))?;
    let rec = &c.record;
    let vendor = svc
        .dialplans()
        .get(&c.dialplan)
        .map(|p| p.vendor.clone())
        .unwrap_or_default();
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Call to {}</h1><p class='muted'>{} · {} ({}){}</p>",
        esc(&c.contact),
        esc(&c.call_id),
        esc(&vendor),
        esc(&c.dialplan),
        c.incident_id.as_ref().map_or(String::new(), |i| format!(
            " · incident <a href='/console/incidents/{}'>{}</a>",
            url(i.as_str()),
            esc(i.as_str())
        ))
    );
    // The verdict.
    let sla_ms = rec["sla"]["answer_within_ms"].as_u64();
    let to_human = rec["time_to_human_ms"].as_u64();
    let on_human = rec["sla"]["basis"] == "human";
    let (cls, text) = match (c.sla_met, c.time_to_answer_ms) {
        (Some(met), tta) if on_human => (
            if met { "met" } else { "missed" },
            match to_human {
                Some(h) => format!(
                    "SLA {}: a person in {} (answered in {}, limit {})",
                    if met { "met" } else { "missed" },
                    secs(Some(h)),
                    secs(tta),
                    secs(sla_ms)
                ),
                None => format!(
                    "SLA missed: no person on the line (answered in {}, limit {})",
                    secs(tta),
                    secs(sla_ms)
                ),
            },
        ),
        (Some(true), tta) => (
            "met",
            format!(
                "SLA met: answered in {} (limit {})",
                secs(tta),
                secs(sla_ms)
            ),
        ),
        (Some(false), Some(tta)) => (
            "missed",
            format!(
                "SLA missed: answered in {} (limit {})",
                secs(Some(tta)),
                secs(sla_ms)
            ),
        ),
        (Some(false), None) => (
            "missed",
            format!("SLA missed: not answered (limit {})", secs(sla_ms)),
        ),
        (None, _) if c.is_live() => (
            "none",
            format!(
                "No verdict yet: {}",
                super::phase::text(&c.phase, &c.contact, c.phase_since, chrono::Utc::now())
            ),
        ),
        (None, _) => ("none", "No verdict yet: the call is ringing or live".into()),
    };
    let result = c
        .result
        .map(|o| serde_json::json!(o).as_str().unwrap_or("").to_string())
        .unwrap_or_else(|| "live".into());
    let _ = write!(
        b,
        "<div class='verdict {cls}' id='verdict'>{}</div><div class='card'><dl class='kv'>\
         <dt>Result</dt><dd>{} {}</dd><dt>URI</dt><dd>{}</dd>",
        esc(&text),
        esc(&result),
        esc(c.reason.as_deref().unwrap_or("")),
        esc(&c.uri)
    );
    // Time to a person and hold time (when the listener ran).
    if let Some(h) = to_human {
        let _ = write!(
            b,
            "<dt>Time to a person</dt><dd id='time-to-human'>{}{}</dd>",
            secs(Some(h)),
            match &rec["human"] {
                v if v["disputed"] == true => " <span class='bad'>disputed by an operator</span>",
                v if v["evidence"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|e| e == "operator")) =>
                {
                    " <span class='muted'>(an operator said so)</span>"
                }
                _ => "",
            }
        );
    }
    if let Some(h) = rec["hold_ms"].as_u64() {
        let _ = write!(b, "<dt>Hold</dt><dd id='hold'>{}</dd>", secs(Some(h)));
    }
    let check = verify_call(svc.store(), &c.call_id).await?;
    let _ = write!(
        b,
        "<dt>Integrity</dt><dd id='integrity'>{}",
        check_badge(&check)
    );
    match &check {
        crate::audit::CallCheck::Verified { seq, hash } => {
            let _ = write!(
                b,
                " chain entry {seq}, <code style='word-break:break-all'>{}</code>",
                esc(hash)
            );
        }
        crate::audit::CallCheck::Failed { problems } => {
            for p in problems {
                let _ = write!(b, "<br>{}", esc(p));
            }
        }
        crate::audit::CallCheck::Unsealed => {}
    }
    b.push_str("</dd></dl></div>");
    b.push_str(&super::live::buttons(&svc, &who, &c.call_id));

    // Staged clocks.
    let names = [
        "invite_sent",
        "ringing",
        "answered",
        "human",
        "menu_done",
        "ended",
    ];
    let stages: Vec<(&str, Option<DateTime<Utc>>)> =
        names.iter().map(|n| (*n, stage(rec, n))).collect();
    b.push_str("<h2>Staged clocks</h2>");
    if let Some(t0) = stages[0].1 {
        b.push_str(&clocks_html(&stages, t0, sla_ms));
        b.push_str("<div class='scroll'><table><tr><th>Stage</th><th>At (UTC)</th><th class='num'>Since INVITE</th><th class='num'>Step</th></tr>");
        let mut last = t0;
        for (n, t) in &stages {
            match t {
                Some(t) => {
                    let _ = write!(
                        b,
                        "<tr><td>{n}</td><td>{}</td><td class='num'>{}</td><td class='num'>{}</td></tr>",
                        when(t),
                        secs(Some((*t - t0).num_milliseconds().max(0) as u64)),
                        secs(Some((*t - last).num_milliseconds().max(0) as u64)),
                    );
                    last = *t;
                }
                None => {
                    let _ = write!(
                        b,
                        "<tr><td>{n}</td><td class='muted'>–</td><td></td><td></td></tr>"
                    );
                }
            }
        }
        b.push_str("</table></div>");
    } else {
        b.push_str("<p class='muted'>The INVITE was not sent.</p>");
    }

    // Player and waveform.
    b.push_str("<h2>Recording</h2>");
    let zero = audio_zero(&c.events);
    let peaks = peaks_of(&svc, &c.call_id, &c.recording_path).await;
    let dur = peaks
        .as_ref()
        .map_or(0.0, |p| p.duration_ms as f64 / 1000.0);
    match &peaks {
        Some(p) => {
            let _ = write!(
                b,
                "<audio id='player' controls preload='metadata' src='/v1/calls/{}/recording'></audio>\
                 <div class='wave' id='wave' data-duration='{dur:.3}'>{}\
                 <span class='lab' style='top:2px'>left: hotline</span>\
                 <span class='lab' style='bottom:2px'>right: vendor</span>",
                url(&c.call_id),
                wave_svg(p)
            );
            if let Some(z) = zero {
                for (i, e) in c.events.iter().enumerate() {
                    let t = (e.offset_ms - z) / 1000.0;
                    if !(0.0..=dur).contains(&t) || e.kind == "retransmit" {
                        continue;
                    }
                    let _ = write!(
                        b,
                        "<button class='mark' id='mark-{i}' data-t='{t:.3}' style='left:{:.3}%' \
                         title='{} at {t:.2} s'><span>{}</span></button>",
                        t / dur.max(0.001) * 100.0,
                        esc(&e.kind),
                        esc(short(&e.kind))
                    );
                }
            }
            b.push_str("<div class='head' id='head'></div></div>");
            if let Some(z) = zero {
                let band = super::band::fold(&c.events, z, dur * 1000.0);
                if !band.spans.is_empty() {
                    b.push_str(&super::band::html(&band, dur * 1000.0));
                }
            }
            b.push_str(
                "<p class='muted'>Click an event mark, an event's time or the waveform to seek. \
                 Marks without room for their name show it on hover; every event is in the \
                 timeline below. The player fetches only the ranges it plays.</p>",
            );
        }
        None => b.push_str("<p class='muted'>No readable recording.</p>"),
    }

    // Operators' labels (ground truth), beside the listener's decision.
    let labels = svc.store().call_labels(&c.call_id).await?;
    if !labels.is_empty() {
        b.push_str("<h2>Operator labels</h2><div class='scroll'><table id='labels'><tr><th>At (UTC)</th><th>Label</th><th>By</th><th class='num'>Chain entry</th></tr>");
        for l in &labels {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class='num'>{}</td></tr>",
                when(&l.at),
                if l.label == "person" {
                    "a person is here"
                } else {
                    "still a machine"
                },
                esc(&l.by),
                l.seq
            );
        }
        b.push_str("</table></div>");
    }

    // Timeline.
    b.push_str("<h2>Timeline</h2><div class='scroll'><table id='events'><tr><th class='num'>+ms</th><th class='hide-s'>At (UTC)</th><th>Event</th><th>Detail</th><th>Audio</th></tr>");
    for (i, e) in c.events.iter().enumerate() {
        let audio = match (zero, &peaks) {
            (Some(z), Some(_)) if e.offset_ms >= z && (e.offset_ms - z) / 1000.0 <= dur => {
                let t = (e.offset_ms - z) / 1000.0;
                format!("<button class='link' id='seek-{i}' data-t='{t:.3}'>▶ {t:.2} s</button>")
            }
            _ => "<span class='muted'>–</span>".into(),
        };
        let _ = write!(
            b,
            "<tr><td class='num'>{:.1}</td><td class='hide-s'>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.offset_ms,
            when(&e.at),
            esc(&e.kind),
            esc(&detail(e)),
            audio
        );
    }
    b.push_str("</table></div>");
    if let Some(m) = rec.get("media") {
        let _ = write!(
            b,
            "<details><summary>Media figures</summary><pre>{}</pre></details>",
            esc(&serde_json::to_string_pretty(m).unwrap_or_default())
        );
    }
    let _ = write!(b, "<script>{PLAYER_JS}{LAYOUT_JS}</script>");
    Ok(Html(super::page(&format!("Call {}", c.call_id), Some(&who), &b)).into_response())
}
