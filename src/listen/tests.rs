//! The decision logic with a scripted VAD (a fake that scores by level), and each classifier
//! with the real Silero model on real prompts and hold music (Debian's asterisk sounds).

use super::library::{Matcher, Origin};
use super::silero::{MODEL_SHA256, SileroModel};
use super::vad::{CHUNK, FnVad, Vad};
use super::*;
use std::time::{Duration, Instant};

/// Noise at `amp` (deterministic): the fake VAD calls level 0.1 speech, 0.02 music.
fn noise(seed: u32, amp: f32, secs: f32) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    (0..(secs * 8000.0) as usize)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x as f32 / u32::MAX as f32 - 0.5) * 2.0 * amp * 32767.0) as i16
        })
        .collect()
}

/// Loud "speech" with the peaks speech has: three tones changing every 60 ms (seeded).
fn speech(seed: u32, secs: f32) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2654435761).max(1);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut freqs = [0.0f32; 3];
    (0..(secs * 8000.0) as usize)
        .map(|i| {
            if i % 480 == 0 {
                for f in freqs.iter_mut() {
                    *f = 200.0 + (next() % 3000) as f32;
                }
            }
            let t = i as f32 / 8000.0;
            let v: f32 = freqs
                .iter()
                .map(|f| (std::f32::consts::TAU * f * t).sin())
                .sum();
            (v * 0.15 * 32767.0) as i16
        })
        .collect()
}

fn music(seed: u32, secs: f32) -> Vec<i16> {
    noise(seed, 0.03, secs)
}

fn quiet(secs: f32) -> Vec<i16> {
    vec![0; (secs * 8000.0) as usize]
}

fn fake() -> Box<dyn Vad> {
    Box::new(FnVad(|c: &[f32; CHUNK]| {
        let rms = (c.iter().map(|x| x * x).sum::<f32>() / CHUNK as f32).sqrt();
        if rms > 0.12 { 0.95 } else { 0.05 }
    }))
}

/// Feeds `audio` from `t0 + from`; returns events with offsets from `t0`.
fn feed(l: &mut Listener, t0: Instant, from: Duration, audio: &[i16]) -> Vec<(Duration, Event)> {
    let mut out = Vec::new();
    for (i, f) in audio.chunks_exact(FRAME).enumerate() {
        let at = t0 + from + Duration::from_millis(20 * i as u64);
        for e in l.push(at, f) {
            out.push((at - t0, e));
        }
    }
    out
}

fn secs(s: f32) -> Duration {
    Duration::from_secs_f32(s)
}

fn has(ev: &[(Duration, Event)], f: impl Fn(&Event) -> bool) -> bool {
    ev.iter().any(|(_, e)| f(e))
}

#[test]
fn speech_after_hold_probe_and_reply_is_a_person_back_dated_to_the_first_words() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &music(1, 10.0));
    ev.extend(feed(&mut l, t0, secs(10.0), &speech(2, 1.5)));
    ev.extend(feed(&mut l, t0, secs(11.5), &quiet(0.6)));
    let probe_at = ev
        .iter()
        .find_map(|(at, e)| matches!(e, Event::ProbeWanted { .. }).then_some(*at))
        .expect("probe wanted after the pause");
    assert!(
        probe_at >= secs(11.8) && probe_at <= secs(12.0),
        "{probe_at:?}"
    );
    assert!(!has(&ev, |e| matches!(e, Event::Human { .. })));
    l.probe_started(t0 + secs(12.1));
    ev.extend(feed(&mut l, t0, secs(12.1), &quiet(1.4)));
    l.probe_finished(t0 + secs(13.5));
    ev.extend(feed(&mut l, t0, secs(13.5), &quiet(0.5)));
    ev.extend(feed(&mut l, t0, secs(14.0), &speech(3, 1.0)));
    let (at, e) = ev
        .iter()
        .find(|(_, e)| matches!(e, Event::Human { .. }))
        .expect("a person");
    let Event::Human {
        onset, evidence, ..
    } = e
    else {
        unreachable!()
    };
    assert_eq!(*onset - t0, secs(10.0), "back-dated to the first words");
    assert!(*at <= secs(14.4), "decided at {at:?}");
    assert!(evidence.contains(&Evidence::ReplyToProbe { gap_ms: 500 }));
    assert!(evidence.contains(&Evidence::AfterHold { ms: 10_000 }));
}

/// Hold music, a greeting, the probe, a reply: the listener decides on a person.
fn a_person_answers(l: &mut Listener, t0: Instant) -> Vec<(Duration, Event)> {
    l.set_probing(true);
    let mut ev = feed(l, t0, Duration::ZERO, &music(1, 10.0));
    ev.extend(feed(l, t0, secs(10.0), &speech(21, 3.0)));
    ev.extend(feed(l, t0, secs(13.0), &quiet(0.6)));
    l.probe_started(t0 + secs(13.6));
    ev.extend(feed(l, t0, secs(13.6), &quiet(1.4)));
    l.probe_finished(t0 + secs(15.0));
    ev.extend(feed(l, t0, secs(15.0), &quiet(0.5)));
    ev.extend(feed(l, t0, secs(15.5), &speech(22, 2.0)));
    ev
}

/// The greeting played again on the contact's next call: the events.
fn next_call(lib: PromptLibrary, t0: Instant) -> Vec<(Duration, Event)> {
    let mut l = Listener::new(fake(), lib, Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &music(4, 3.0));
    ev.extend(feed(&mut l, t0, secs(3.0), &speech(21, 3.0)));
    ev.extend(feed(&mut l, t0, secs(6.0), &quiet(1.0)));
    ev
}

fn known(ev: &[(Duration, Event)]) -> bool {
    has(ev, |e| {
        matches!(
            e,
            Event::Recorded {
                why: Recorded::KnownPrompt,
                ..
            }
        )
    })
}

#[test]
fn still_a_machine_after_a_person_learns_their_words_as_recordings_of_the_contact() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    let ev = a_person_answers(&mut l, t0);
    assert!(has(&ev, |e| matches!(e, Event::Human { .. })), "{ev:?}");
    assert_eq!(l.person(), Some(t0 + secs(10.0)));
    // The operator: "still a machine". The greeting (closed) is learned now, the reply
    // (still sounding) when it ends; the decision starts over.
    assert_eq!(l.operator_says_machine(t0 + secs(17.5)), 1);
    assert_eq!(l.person(), None);
    let mut ev = feed(&mut l, t0, secs(17.5), &quiet(1.0));
    ev.extend(feed(&mut l, t0, secs(18.5), &music(5, 2.0)));
    assert!(
        has(&ev, |e| matches!(
            e,
            Event::Recorded {
                why: Recorded::OperatorLabel,
                ..
            }
        )),
        "the reply is judged a recording when it ends: {ev:?}"
    );
    let lib = l.into_library();
    assert_eq!(lib.len(), 2, "greeting and reply");
    // The contact's next call knows the greeting from the start: no probe, no person.
    let ev = next_call(lib, t0);
    assert!(known(&ev), "{ev:?}");
    assert!(!has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
}

#[test]
fn without_a_label_the_person_is_never_learned() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    a_person_answers(&mut l, t0);
    feed(&mut l, t0, secs(17.5), &quiet(1.0));
    let lib = l.into_library();
    assert_eq!(lib.len(), 0);
    let ev = next_call(lib, t0);
    assert!(!known(&ev));
    assert!(has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
    // "still a machine" with no person decided learns nothing.
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    feed(&mut l, t0, Duration::ZERO, &music(1, 3.0));
    assert_eq!(l.operator_says_machine(t0 + secs(3.0)), 0);
}

#[test]
fn a_person_is_here_ends_the_decision_before_the_listener_makes_it() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &music(1, 5.0));
    ev.extend(feed(&mut l, t0, secs(5.0), &speech(21, 3.0)));
    ev.extend(feed(&mut l, t0, secs(8.0), &quiet(0.6)));
    assert!(has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
    l.operator_says_person(t0 + secs(8.6));
    let onset = l.person().expect("decided") - t0;
    assert!(
        onset >= secs(5.0) && onset <= secs(5.1),
        "their words, not the click: {onset:?}"
    );
    // More speech: no probe asked, no second decision, and the person is not learned.
    let mut ev = feed(&mut l, t0, secs(8.6), &speech(22, 2.0));
    ev.extend(feed(&mut l, t0, secs(10.6), &quiet(1.0)));
    assert!(!has(&ev, |e| matches!(
        e,
        Event::ProbeWanted { .. } | Event::Human { .. }
    )));
    assert_eq!(l.into_library().len(), 0);
}

/// The probe's first frame can come before the frame that ends the speech's hangover (a call
/// recording read offline: the vendor's channel is placed to within a frame of hotline's).
/// The probe still answers that speech, and the reply finds the person.
#[test]
fn a_probe_begun_in_the_closing_pause_still_answers_the_speech() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &music(1, 10.0));
    ev.extend(feed(&mut l, t0, secs(10.0), &speech(2, 1.5)));
    // 200 ms into the pause; the hangover would confirm the end at 11.9 s.
    ev.extend(feed(&mut l, t0, secs(11.5), &quiet(0.2)));
    l.probe_started(t0 + secs(11.7));
    ev.extend(feed(&mut l, t0, secs(11.7), &quiet(1.4)));
    l.probe_finished(t0 + secs(13.1));
    ev.extend(feed(&mut l, t0, secs(13.1), &quiet(0.5)));
    ev.extend(feed(&mut l, t0, secs(13.6), &speech(3, 1.0)));
    let onset = ev
        .iter()
        .find_map(|(_, e)| match e {
            Event::Human { onset, .. } => Some(*onset),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a person: {ev:?}"));
    assert_eq!(onset - t0, secs(10.0), "back-dated to the first words");
}

#[test]
fn music_back_after_speech_is_an_announcement_and_its_repeat_is_known() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let ann = speech(7, 3.0);
    let mut t = 0.0;
    let mut ev = Vec::new();
    for part in [
        music(1, 5.0),
        ann.clone(),
        music(2, 5.0),
        ann.clone(),
        music(3, 3.0),
    ] {
        ev.extend(feed(&mut l, t0, secs(t), &part));
        t += part.len() as f32 / 8000.0;
    }
    let whys: Vec<Recorded> = ev
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Recorded { why, .. } => Some(*why),
            _ => None,
        })
        .collect();
    assert_eq!(whys, [Recorded::MusicResumed, Recorded::Repeat], "{ev:?}");
    assert!(!has(&ev, |e| matches!(e, Event::Human { .. })));
    assert!(!has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
    // The next call to this contact knows the announcement from the start.
    let lib = l.into_library();
    let mut l = Listener::new(fake(), lib, Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &music(4, 3.0));
    ev.extend(feed(&mut l, t0, secs(3.0), &ann));
    ev.extend(feed(&mut l, t0, secs(6.0), &quiet(1.0)));
    assert!(
        has(&ev, |e| matches!(
            e,
            Event::Recorded {
                why: Recorded::KnownPrompt,
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(!has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
}

#[test]
fn no_reply_to_the_probe_is_a_recording_and_no_person() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &speech(5, 2.0));
    ev.extend(feed(&mut l, t0, secs(2.0), &quiet(0.6)));
    assert!(has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
    l.probe_started(t0 + secs(2.6));
    ev.extend(feed(&mut l, t0, secs(2.6), &quiet(1.4)));
    l.probe_finished(t0 + secs(4.0));
    ev.extend(feed(&mut l, t0, secs(4.0), &quiet(5.0)));
    assert!(has(&ev, |e| matches!(
        e,
        Event::Recorded {
            why: Recorded::NoReply,
            ..
        }
    )));
    assert!(!has(&ev, |e| matches!(e, Event::Human { .. })));
}

#[test]
fn speech_going_on_over_the_probe_is_a_recording() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    l.set_probing(true);
    let mut ev = feed(&mut l, t0, Duration::ZERO, &speech(5, 2.0));
    ev.extend(feed(&mut l, t0, secs(2.0), &quiet(0.6)));
    l.probe_started(t0 + secs(2.6));
    // The recording's next sentence starts under the probe and runs past it.
    ev.extend(feed(&mut l, t0, secs(2.6), &quiet(0.3)));
    ev.extend(feed(&mut l, t0, secs(2.9), &speech(6, 1.1)));
    l.probe_finished(t0 + secs(4.0));
    ev.extend(feed(&mut l, t0, secs(4.0), &speech(8, 2.0)));
    ev.extend(feed(&mut l, t0, secs(6.0), &quiet(1.0)));
    assert!(
        has(&ev, |e| matches!(
            e,
            Event::Recorded {
                why: Recorded::TalkedOverProbe,
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(!has(&ev, |e| matches!(e, Event::Human { .. })));
}

#[test]
fn in_the_menu_phase_speech_is_the_ivr_and_never_probed() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    let mut ev = feed(&mut l, t0, Duration::ZERO, &speech(9, 3.0));
    ev.extend(feed(&mut l, t0, secs(3.0), &quiet(2.0)));
    assert!(has(&ev, |e| matches!(
        e,
        Event::Recorded {
            why: Recorded::Menu,
            ..
        }
    )));
    assert!(!has(&ev, |e| matches!(e, Event::ProbeWanted { .. })));
    let ended = ev
        .iter()
        .find_map(|(_, e)| match e {
            Event::Ended {
                sound: Sound::Speech,
                at,
            } => Some(*at - t0),
            _ => None,
        })
        .expect("speech ended");
    assert_eq!(
        ended,
        secs(3.0),
        "end at the last speech frame, not after the hangover"
    );
}

#[test]
fn a_tone_is_a_tone() {
    let t0 = Instant::now();
    let mut l = Listener::new(fake(), PromptLibrary::default(), Thresholds::default());
    // 425 Hz, -20 dBFS: the European ringback/busy tone.
    let tone: Vec<i16> = (0..16000)
        .map(|i| (3276.0 * (2.0 * std::f32::consts::PI * 425.0 * i as f32 / 8000.0).sin()) as i16)
        .collect();
    let ev = feed(&mut l, t0, Duration::ZERO, &tone);
    assert!(has(&ev, |e| matches!(
        e,
        Event::Started {
            sound: Sound::Tone,
            ..
        }
    )));
    assert_eq!(l.sound(), Sound::Tone);
}

#[test]
fn library_survives_bytes_and_rejects_damage() {
    let mut lib = PromptLibrary::default();
    lib.add(&[(1, 0), (2, 3), (1, 9)], Origin::ThisCall);
    lib.add(&[(5, 1)], Origin::Known);
    let back = PromptLibrary::from_bytes(&lib.to_bytes()).expect("round trip");
    assert_eq!(back.len(), 2);
    assert_eq!(back.to_bytes(), lib.to_bytes());
    let mut bad = lib.to_bytes();
    bad.pop();
    assert!(PromptLibrary::from_bytes(&bad).is_none());
    let mut m = Matcher::default();
    assert_eq!(m.feed(&back, &[(1, 0), (2, 3)]), None);
    assert_eq!(m.best_votes(), 2);
}

// ---- the real model on real audio ----

const SOUNDS: &str = "/usr/share/asterisk/sounds/en";
const MOH: &str = "/usr/share/asterisk/moh";

fn wav(path: &str) -> Vec<i16> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| {
        panic!("{path}: {e} (apt-get install asterisk-core-sounds-en-wav asterisk-moh-opsound-wav)")
    });
    r.samples::<i16>().map(|s| s.expect("sample")).collect()
}

fn chunks(pcm: &[i16]) -> impl Iterator<Item = [f32; CHUNK]> + '_ {
    pcm.chunks_exact(CHUNK).map(|c| {
        let mut out = [0.0; CHUNK];
        for (o, &s) in out.iter_mut().zip(c) {
            *o = s as f32 / 32768.0;
        }
        out
    })
}

/// Share of chunks Silero scores >= 0.5.
fn speech_share(vad: &mut dyn Vad, pcm: &[i16]) -> f64 {
    let scores: Vec<f32> = chunks(pcm)
        .map(|c| vad.score(&c).expect("model runs"))
        .collect();
    scores.iter().filter(|&&p| p >= 0.5).count() as f64 / scores.len() as f64
}

#[test]
fn silero_hears_prompts_as_speech_and_hold_music_not() {
    let model = SileroModel::shared().expect("model loads");
    // Speech recall over prompts with little silence (onnxruntime on the same files: 0.96).
    let prompts: Vec<i16> = ["agent-pass", "all-circuits-busy-now", "activated"]
        .iter()
        .flat_map(|p| wav(&format!("{SOUNDS}/{p}.wav")))
        .collect();
    let recall = speech_share(&mut model.stream(), &prompts);
    assert!(recall > 0.9, "speech recall {recall:.2}");
    // Without the 32-sample context the same model is nearly deaf (the known trap).
    let mut no_context = model.stream();
    let deaf: Vec<f32> = chunks(&prompts)
        .map(|c| {
            no_context.reset();
            no_context.score(&c).expect("runs")
        })
        .collect();
    let deaf = deaf.iter().filter(|&&p| p >= 0.5).count() as f64 / deaf.len() as f64;
    assert!(
        deaf < recall - 0.3,
        "context matters: {deaf:.2} vs {recall:.2}"
    );
    for m in ["macroform-cold_day", "reno_project-system"] {
        let pcm = wav(&format!("{MOH}/{m}.wav"));
        let share = speech_share(&mut model.stream(), &pcm[..60 * 8000]);
        assert!(share < 0.02, "{m}: {share:.3} of hold music scored speech");
    }
}

#[test]
fn silero_refuses_a_changed_model_file() {
    let mut bytes = include_bytes!("../../models/silero_vad.onnx").to_vec();
    bytes[1000] ^= 1;
    let e = SileroModel::load(&bytes).err().expect("refused");
    assert!(e.to_string().contains(MODEL_SHA256), "{e}");
}

#[test]
fn listener_on_real_audio_finds_music_and_prompt() {
    let model = SileroModel::shared().expect("model loads");
    let mut l = Listener::new(
        Box::new(model.stream()),
        PromptLibrary::default(),
        Thresholds::default(),
    );
    let m = wav(&format!("{MOH}/macroform-cold_day.wav"));
    let p = wav(&format!("{SOUNDS}/queue-periodic-announce.wav"));
    let audio: Vec<i16> = [&m[..20 * 8000], &p[..], &m[20 * 8000..30 * 8000]].concat();
    let ev = timeline::run(&mut l, &audio, None);
    let starts: Vec<(f32, Sound)> = ev
        .iter()
        .filter_map(|(at, e)| match e {
            Event::Started { sound, .. } => Some((at.as_secs_f32(), *sound)),
            _ => None,
        })
        .collect();
    let speech: Vec<f32> = starts
        .iter()
        .filter(|(_, s)| *s == Sound::Speech)
        .map(|(t, _)| *t)
        .collect();
    assert!(!speech.is_empty(), "{starts:?}");
    assert!(
        speech.iter().all(|&t| t >= 19.9),
        "no speech in the music: {starts:?}"
    );
    assert!((speech[0] - 20.0).abs() < 0.5, "prompt onset {speech:?}");
    assert!(
        starts.iter().any(|(t, s)| *s == Sound::Music && *t < 1.0),
        "{starts:?}"
    );
}
