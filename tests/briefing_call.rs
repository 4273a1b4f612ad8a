//! The briefing on the wire: hotline calls sipp (which echoes our RTP back), speaks the
//! incident briefing, and the echoed audio recorded on the right channel matches the WAV that
//! `hotline brief` writes for the same incident: sipp received exactly the briefing.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// RMS per 20 ms frame.
fn envelope(s: &[i16]) -> Vec<f64> {
    s.chunks(160).map(rms).collect()
}

/// Best normalized correlation of `needle` inside `hay`, and its lag (in frames).
fn best_match(hay: &[f64], needle: &[f64]) -> (f64, usize) {
    let norm = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let d: Vec<f64> = v.iter().map(|x| x - m).collect();
        let n = d.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-9);
        d.into_iter().map(|x| x / n).collect::<Vec<f64>>()
    };
    let n = norm(needle);
    let mut best = (f64::MIN, 0);
    for lag in 0..=hay.len().saturating_sub(needle.len()) {
        let w = norm(&hay[lag..lag + needle.len()]);
        let c: f64 = w.iter().zip(&n).map(|(a, b)| a * b).sum();
        if c > best.0 {
            best = (c, lag);
        }
    }
    best
}

/// Sample-exact correlation: refine a frame lag to the best sample offset.
fn refine(hay: &[i16], needle: &[i16], frame_lag: usize) -> f64 {
    let base = (frame_lag * 160) as i64;
    let nn: f64 = needle
        .iter()
        .map(|x| (*x as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    let mut best = f64::MIN;
    for o in (base - 160).max(0)..=base + 160 {
        let o = o as usize;
        if o + needle.len() > hay.len() {
            break;
        }
        let w = &hay[o..o + needle.len()];
        let dot: f64 = w
            .iter()
            .zip(needle)
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        let wn: f64 = w.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        best = best.max(dot / (wn * nn).max(1e-9));
    }
    best
}

#[test]
fn sipp_receives_the_briefing_that_hotline_brief_writes() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(dir.path(), "uas_echo.xml", "u1", &["-rtp_echo"]);
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        // The wait lets synthesis finish, so the briefing plays without the greeting in front.
        r#"{ wait = "3s" }, { play = "briefing" }, { wait = "500ms" }, { hangup = true }"#,
        "",
    );
    // A short template keeps the call short; no silence repeats.
    let plan = s.dir.path().join("dialplans/t.toml");
    let mut text = std::fs::read_to_string(&plan).expect("plan");
    text.push_str("\n[briefing]\nrepeats = 0\ntemplate = \"Asset tag {tag}.\"\n");
    std::fs::write(&plan, text).expect("write plan");
    let incident = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/incident_disk.json");
    let reference = s.dir.path().join("brief.wav");
    let out = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["brief", "--config"])
        .arg(&s.config)
        .args(["--dialplan", "t", "--incident", incident, "--out"])
        .arg(&reference)
        .output()
        .expect("hotline brief");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spoken = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        spoken.contains("Alpha Tango"),
        "asset tag spelled: {spoken}"
    );

    let (code, v) = dial(&s, &["--incident", incident]);
    assert_eq!(code, 0, "{v:#}");
    assert!(kinds(&v).contains(&"playback_finished".to_string()));
    assert_eq!(sipp.wait(Duration::from_secs(20)), 0);

    let r = hound::WavReader::open(&reference).expect("reference wav");
    let reference: Vec<i16> = r
        .into_samples::<i16>()
        .map(|x| x.expect("sample"))
        .collect();
    let (left, right) = recording(&v, &s);
    let want = envelope(&reference);
    // The speech we sent is the briefing `hotline brief` writes: same words, same length. (Not
    // sample-identical: espeak-ng's waveform state carries over from the greeting synthesized
    // at warm-up, so the envelope is compared, not the samples.)
    let (c_env, lag_l) = best_match(&envelope(&left), &want);
    assert!(c_env > 0.75, "briefing envelope correlation {c_env:.3}");
    let active = left.iter().filter(|x| x.abs() > 200).count() as f64;
    let active_ref = reference.iter().filter(|x| x.abs() > 200).count() as f64;
    assert!(
        (active / active_ref - 1.0).abs() < 0.05,
        "speech length {active} vs {active_ref}"
    );
    // What sipp received and sent back is, sample for sample, what we sent (through G.711
    // twice): the right channel holds the left channel's briefing.
    let sent = &left[lag_l * 160..(lag_l * 160 + reference.len()).min(left.len())];
    let (_, lag_r) = best_match(&envelope(&right), &envelope(sent));
    let c_wire = refine(&right, sent, lag_r);
    assert!(
        c_wire > 0.95,
        "echoed briefing correlation {c_wire:.3} at frame {lag_r}"
    );
}
