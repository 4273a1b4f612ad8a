//! Briefing text, script runs, audio shaping and the single-flight cache (pure and
//! in-process; the real engines are tested in tests/briefing_*.rs).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::audio::{dbfs, decode_wav, to_phone};
use super::engine::BoxFuture;
use super::script::{Script, runs, ssml};
use super::*;
use crate::config::{BriefingConfig, EngineKind, Language};
use crate::dialplan::{BriefingTemplate, PlanBriefing};
use crate::incident::Incident;

fn incident() -> Incident {
    serde_json::from_str(include_str!("../../tests/data/incident_disk.json")).unwrap()
}

fn config() -> BriefingConfig {
    BriefingConfig {
        caller: Some("Example Corp operations".into()),
        callback: Some("+1 555 0100 999".into()),
        ..BriefingConfig::default()
    }
}

#[test]
fn default_templates_parse() {
    for t in [
        text::DEFAULT_EN,
        text::DEFAULT_ZH,
        text::DETAILS_EN,
        text::DETAILS_ZH,
    ] {
        let parsed = BriefingTemplate::parse(t).unwrap();
        assert_eq!(parsed.lines.len(), t.lines().count());
    }
}

fn in_order(text: &str, expect_in_order: &[&str]) {
    let mut from = 0;
    for want in expect_in_order {
        let at = text[from..]
            .find(want)
            .unwrap_or_else(|| panic!("missing or out of order: {want:?}\n---\n{text}"));
        from += at + want.len();
    }
}

#[test]
fn english_briefing_short_first_details_on_two() {
    let text = text::render(&incident(), &config(), Language::En, None);
    in_order(
        &text,
        &[
            "This is Example Corp operations, with an automated incident report.",
            "Serial number: Charlie Zulu Juliet, nine three eight, zero one X-ray Yankee.",
            "Fault: RAID logical drive one degraded, physical disk one, India, colon, one, colon, three failed.",
            "Since three twelve a.m. UTC on November twenty-sixth.",
            "Impact: primary payments database runs without redundancy;",
            "Contract: Hotel Papa Echo, dash, Papa Charlie, dash, two two three one, dash, eight eight eight, one two.",
            "Press 2 for details, star to repeat.",
        ],
    );
    for later in [
        "Callback number",
        "Asset tag",
        "Model:",
        "Already tried",
        "What we ask",
    ] {
        assert!(!text.contains(later), "{later} is a detail: {text}");
    }
    let details = text::render_details(&[incident()], &config(), Language::En, None)
        .expect("the default has details");
    in_order(
        &details,
        &[
            "Details of the incident report.",
            "Callback number: plus, one, five five five, zero one zero zero, nine nine nine.",
            "Asset tag: Alpha Tango, dash, zero zero four, seven one one.",
            "Model: ProLiant Delta Lima, three eight zero Gen, one zero.",
            "Operating system: Ubuntu twenty-two point zero four LTS.",
            "Location: site Frankfurt Foxtrot Romeo Alpha, one, room two point one four, rack Romeo, one two, unit eighteen.",
            "Severity: critical.",
            "The fault started Thursday, November twenty-sixth, twenty twenty-six, at three twelve a.m. UTC; that is four twelve a.m. site local time.",
            "Timeline: three twelve a.m. UTC disk",
            "Last change before the fault: firmware update SPP",
            "The fault is constant.",
            "Estimated loss per minute: euros two thousand.",
            "Already tried: reseated the disk at three forty a.m.;",
            "What we ask: send an engineer with a replacement one point two terabytes SAS disk within four hours.",
            "Once more: contract Hotel Papa Echo",
            "To hear the report again, press star. Thank you.",
        ],
    );
    let own = BriefingTemplate::parse("Asset {tag} failed.").unwrap();
    assert_eq!(
        text::render_details(&[incident()], &config(), Language::En, Some(&own)),
        None,
        "a dialplan's own template has no second part"
    );
}

#[test]
fn mandarin_briefing() {
    let text = text::render(&incident(), &config(), Language::Zh, None);
    let details =
        text::render_details(&[incident()], &config(), Language::Zh, None).expect("details");
    for want in [
        "您好，这里是Example Corp operations，这是一份自动故障报告。",
        "序列号：C Z J，九三八，零幺 X Y。",
        "开始时间：UTC时间十一月二十六日三点十二分。",
        "详细信息请按2，重听请按星号键。",
    ] {
        assert!(text.contains(want), "missing {want:?}\n---\n{text}");
    }
    for want in [
        "回拨电话：加，幺，五五五，零幺零零，九九九。",
        "资产标签：A T，杠，零零四，七幺幺。",
        "严重程度：紧急。",
        "故障开始时间：UTC时间二零二六年十一月二十六日，星期四，三点十二分；当地时间四点十二分。",
        "故障持续存在。",
        "谢谢。",
    ] {
        assert!(details.contains(want), "missing {want:?}\n---\n{details}");
    }
}

#[test]
fn missing_fields_are_skipped() {
    let mut bare = Incident::default();
    bare.fault.summary = "power supply 2 failed".into();
    let text = text::render(&bare, &BriefingConfig::default(), Language::En, None);
    assert_eq!(
        text,
        "Fault: power supply two failed.\nPress 2 for details, star to repeat."
    );
    let details = text::render_details(
        &[bare.clone()],
        &BriefingConfig::default(),
        Language::En,
        None,
    );
    assert_eq!(
        details.as_deref(),
        Some(
            "Details of the incident report.\nSeverity: major.\n\
             To hear the report again, press star. Thank you."
        )
    );
    let zh = text::render(&bare, &BriefingConfig::default(), Language::Zh, None);
    assert_eq!(
        zh,
        "故障：power supply 二 failed。\n详细信息请按2，重听请按星号键。"
    );
}

#[test]
fn custom_template_and_labels() {
    let template = BriefingTemplate::parse(
        "Tag {tag} for team {label:team}.\nSerial {serial}, {label:nope}.\n{{literal}}",
    )
    .unwrap();
    let text = text::render(&incident(), &config(), Language::En, Some(&template));
    assert_eq!(
        text,
        "Tag Alpha Tango, dash, zero zero four, seven one one for team dba.\n{literal}"
    );
}

#[test]
fn greetings() {
    assert_eq!(
        text::greeting(&config(), Language::En),
        "This is Example Corp operations, with an automated incident report."
    );
    assert_eq!(
        text::greeting(&BriefingConfig::default(), Language::Zh),
        "您好，这是一份自动故障报告。"
    );
}

#[test]
fn script_runs_and_ssml() {
    let r = runs("资产标签：A T，杠，零零四。Model DL380 型号", Language::Zh);
    let scripts: Vec<Script> = r.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        scripts,
        [
            Script::Han,
            Script::Latin,
            Script::Han,
            Script::Latin,
            Script::Han
        ]
    );
    assert_eq!(r[1].1, "A T");
    assert_eq!(r[3].1, "Model DL380 ");
    assert_eq!(
        runs("123", Language::Zh),
        [(Script::Han, "123".to_string())]
    );
    let s = ssml("故障：disk <3> & co\nok", Language::Zh, "en-us");
    assert_eq!(
        s,
        "<speak><voice name=\"cmn-latn-pinyin\">故障：</voice>\
         <voice name=\"en-us\">disk &lt;3&gt; &amp; co</voice><break time=\"300ms\"/>\
         <voice name=\"en-us\">ok</voice><break time=\"300ms\"/></speak>"
    );
}

/// A tone with silence around it, as an engine might return.
fn tone(rate: u32, amp: f32) -> Speech {
    let mut samples = vec![0.0; rate as usize / 2];
    samples.extend(
        (0..rate).map(|n| amp * (n as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin()),
    );
    samples.extend(vec![0.0; rate as usize / 2]);
    Speech { samples, rate }
}

#[test]
fn phone_audio_is_trimmed_levelled_and_unclipped() {
    for amp in [0.01, 0.3, 1.0] {
        let pcm = to_phone(&tone(22050, amp)).unwrap();
        // One second of tone plus at most 2 x 60 ms margins (and frame rounding).
        assert!((8000..=9200).contains(&pcm.len()), "{} samples", pcm.len());
        let level = dbfs(&pcm);
        assert!((level + 20.0).abs() < 1.0, "amp {amp}: {level} dBFS");
        assert!(pcm.iter().all(|&s| s.unsigned_abs() < 32767));
    }
    assert!(matches!(
        to_phone(&Speech {
            samples: vec![0.0; 8000],
            rate: 8000
        }),
        Err(BriefingError::Silent)
    ));
}

#[test]
fn wav_decoding_never_panics() {
    let mut good = Vec::new();
    {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut good), spec).unwrap();
        for n in 0..1600 {
            w.write_sample((n % 100) as i16 * 100).unwrap();
            w.write_sample((n % 100) as i16 * 100).unwrap();
        }
        w.finalize().unwrap();
    }
    let speech = decode_wav(&good).unwrap();
    assert_eq!((speech.rate, speech.samples.len()), (16000, 1600));
    // Streamed WAVs carry 0xFFFFFFFF sizes.
    let mut streamed = good.clone();
    streamed[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode_wav(&streamed).unwrap().samples.len(), 1600);
    // Every truncation and some garbage: errors, no panic.
    for len in 0..good.len().min(200) {
        let _ = decode_wav(&good[..len]);
    }
    for bad in [
        &b"RIFF\0\0\0\0WAVEfmt \xff\xff\xff\xff"[..],
        b"",
        b"hello",
        &[0u8; 64],
    ] {
        assert!(decode_wav(bad).is_err());
    }
}

/// A fake engine that counts syntheses and takes a while.
struct Counting {
    calls: AtomicUsize,
}

impl Engine for Counting {
    fn id(&self) -> String {
        "counting".into()
    }

    fn synthesize<'a>(
        &'a self,
        _request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(tone(16000, 0.5))
        })
    }
}

fn counting_briefer() -> (Briefer, Arc<Counting>) {
    let engine = Arc::new(Counting {
        calls: AtomicUsize::new(0),
    });
    let engines: HashMap<EngineKind, Arc<dyn Engine>> =
        HashMap::from([(EngineKind::Espeak, engine.clone() as Arc<dyn Engine>)]);
    (Briefer::with_engines(config(), engines), engine)
}

#[tokio::test]
async fn ten_calls_for_one_incident_synthesize_once() {
    let (briefer, engine) = counting_briefer();
    let plan = PlanBriefing::default();
    let incident = incident();
    let handles: Vec<BriefingHandle> = (0..10)
        .map(|_| briefer.prepare_with(&incident, &plan))
        .collect();
    let mut clips = Vec::new();
    for mut h in handles {
        clips.push(h.ready().await.unwrap());
        let mut details = h.details().expect("the default has details").clone();
        details.ready().await.unwrap();
    }
    assert_eq!(
        engine.calls.load(Ordering::SeqCst),
        2,
        "the briefing and its details, once each"
    );
    assert!(clips.iter().all(|c| Arc::ptr_eq(c, &clips[0])));
    // Another language is another text, so another synthesis.
    let zh = PlanBriefing {
        language: Language::Zh,
        ..PlanBriefing::default()
    };
    let mut h = briefer.prepare_with(&incident, &zh);
    h.ready().await.unwrap();
    let mut details = h.details().expect("details").clone();
    details.ready().await.unwrap();
    assert_eq!(engine.calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn handle_can_be_polled_and_greeting_is_ready_first() {
    let (briefer, engine) = counting_briefer();
    assert!(briefer.greeting(Language::En).is_none());
    briefer.warm_up().await.unwrap();
    assert_eq!(engine.calls.load(Ordering::SeqCst), 2);
    let greeting = briefer.greeting(Language::En).unwrap();
    assert!(!greeting.is_empty());
    let mut handle = briefer.prepare_with(&incident(), &PlanBriefing::default());
    assert!(handle.try_ready().is_none(), "the fake engine takes 50 ms");
    assert!(handle.text().starts_with("This is Example Corp operations"));
    let clip = handle.ready().await.unwrap();
    assert!(Arc::ptr_eq(&clip, &handle.try_ready().unwrap().unwrap()));
}

#[test]
fn a_group_briefing_lists_every_fault_once_with_the_worst_severity() {
    let mut a = incident();
    a.fault.summary = "RAID degraded, disk in bay three failed".into();
    a.severity = crate::incident::Severity::Warning;
    let mut b = a.clone();
    b.fault.summary = "RAID degraded, disk in bay four failed".into();
    b.severity = crate::incident::Severity::Critical;
    let dup = a.clone();
    let en = text::render_group(&[a.clone(), b.clone(), dup], &config(), Language::En, None);
    assert!(
        en.contains(
            "Fault: 2 faults on this asset. Fault 1: RAID degraded, disk in bay three failed. \
             Fault 2: RAID degraded, disk in bay four failed."
        ),
        "{en}"
    );
    let details = text::render_details(
        &[a.clone(), b.clone(), a.clone()],
        &config(),
        Language::En,
        None,
    )
    .expect("details");
    assert!(details.contains("Severity: critical."), "{details}");
    // The rest is the first incident's.
    let one = text::render(&a, &config(), Language::En, None);
    assert_eq!(
        en.lines()
            .filter(|l| !l.starts_with("Fault") && !l.starts_with("Severity"))
            .count(),
        one.lines()
            .filter(|l| !l.starts_with("Fault") && !l.starts_with("Severity"))
            .count()
    );
    let zh = text::render_group(&[a.clone(), b], &config(), Language::Zh, None);
    assert!(zh.contains("同一设备共2个故障。故障1："), "{zh}");
    // One incident: the plain briefing.
    assert_eq!(
        text::render_group(std::slice::from_ref(&a), &config(), Language::En, None),
        one
    );
}
