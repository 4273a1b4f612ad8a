//! The briefing engine against real engines: libespeak-ng (EN and ZH), an HTTP speech
//! server on 127.0.0.1, a server that never answers (fallback), the secrets fixtures, and
//! the `hotline brief` command.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hotline::briefing::audio::{PHONE_RATE, dbfs, to_phone};
use hotline::briefing::engine::{Engine, Espeak, Fallback, OpenAi, Piper, SpeechRequest};
use hotline::briefing::normalize::{is_secret_key, spell};
use hotline::briefing::text::render;
use hotline::briefing::{Briefer, Speech};
use hotline::config::{BriefingConfig, Language};
use hotline::dialplan::BriefingTemplate;
use hotline::incident::Incident;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn incident() -> Incident {
    serde_json::from_str(include_str!("data/incident_disk.json")).unwrap()
}

fn check_audio(pcm: &[i16], text_units: usize, per_second: (f32, f32), what: &str) {
    let seconds = pcm.len() as f32 / PHONE_RATE as f32;
    let (fast, slow) = per_second;
    let (min, max) = (text_units as f32 / fast, text_units as f32 / slow);
    assert!(
        (min..=max).contains(&seconds),
        "{what}: {seconds:.1} s for {text_units} units (want {min:.1}..{max:.1})"
    );
    let level = dbfs(pcm);
    assert!((level + 20.0).abs() <= 3.0, "{what}: {level:.1} dBFS");
    assert!(
        pcm.iter().all(|&s| s > i16::MIN && s < i16::MAX),
        "{what}: clipped"
    );
}

#[tokio::test]
async fn espeak_speaks_english_and_mandarin() {
    let briefer = Briefer::new(&BriefingConfig::default()).unwrap();
    let en =
        "Asset tag: Alpha Tango, dash, zero zero four, seven one one. Fault: disk three failed.";
    let pcm = briefer.speak(en, Language::En, None).await.unwrap();
    // Letters: about 8 to 25 characters a second at 150 words a minute, with pauses.
    check_audio(&pcm, en.len(), (25.0, 6.0), "en");
    let zh = "资产标签：A T，杠，零零四，七幺幺。故障：三号磁盘损坏。";
    let pcm = briefer.speak(zh, Language::Zh, None).await.unwrap();
    check_audio(&pcm, zh.chars().count(), (9.0, 1.5), "zh");
    // The whole default briefing, both languages.
    for lang in [Language::En, Language::Zh] {
        let text = render(&incident(), &BriefingConfig::default(), lang, None);
        let pcm = briefer.speak(&text, lang, None).await.unwrap();
        let units = text.chars().count();
        let range = if lang == Language::En {
            (25.0, 6.0)
        } else {
            (12.0, 2.0)
        };
        check_audio(&pcm, units, range, lang.as_str());
    }
}

/// Issue 15: the default briefing is short (who calls, the asset, what failed since when,
/// the impact, the contract; then "press 2 for details, star to repeat"), the rest on 2.
#[tokio::test]
async fn the_default_briefing_is_short_and_its_details_wait_for_2() {
    let config = BriefingConfig {
        caller: Some("Example Corp operations".into()),
        callback: Some("+1 555 0100 999".into()),
        ..BriefingConfig::default()
    };
    let briefer = Briefer::new(&config).unwrap();
    let mut h = briefer.prepare_with(&incident(), &hotline::dialplan::PlanBriefing::default());
    let short = h.ready().await.unwrap();
    let mut details = h.details().expect("details").clone();
    let rest = details.ready().await.unwrap();
    let (a, b) = (short.len() as f64 / 8000.0, rest.len() as f64 / 8000.0);
    eprintln!(
        "default briefing: {a:.1} s of speech; details on 2: {b:.1} s\n{}",
        h.spoken()
    );
    assert!(a <= 40.0, "the short briefing takes {a:.1} s");
    assert!(h.text().ends_with("Press 2 for details, star to repeat."));
    assert!(
        h.spoken()
            .contains("(on 2:)\nDetails of the incident report.")
    );
}

#[tokio::test]
async fn espeak_is_serialized_under_concurrency() {
    let engine = Arc::new(Espeak::new(None));
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let request = SpeechRequest {
                    text: format!("Call number {n}."),
                    language: Language::En,
                };
                engine.synthesize(&request).await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert!(!t.await.unwrap().samples.is_empty());
    }
}

/// One second of a 440 Hz tone at 22050 Hz as a 16-bit WAV.
fn wav_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut out), spec).unwrap();
    for n in 0..22050 {
        w.write_sample(
            ((n as f32 * 440.0 * std::f32::consts::TAU / 22050.0).sin() * 12000.0) as i16,
        )
        .unwrap();
    }
    w.finalize().unwrap();
    out
}

/// A one-request-at-a-time HTTP server returning `wav` and recording each request.
async fn wav_server(requests: Arc<std::sync::Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let wav = wav_bytes();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then Content-Length bytes of body.
            let request = loop {
                let n = sock.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break String::new();
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break text;
                    }
                }
            };
            requests.lock().unwrap().push(request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                wav.len()
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            sock.write_all(&wav).await.unwrap();
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_engines_post_and_decode_wav() {
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let url = wav_server(requests.clone()).await;
    let request = SpeechRequest {
        text: "Disk three failed.".into(),
        language: Language::En,
    };
    let openai = OpenAi::new(
        &url,
        Some("tts-1"),
        Some("alloy"),
        Some("k-123".into()),
        Duration::from_secs(5),
    )
    .unwrap();
    let speech = openai.synthesize(&request).await.unwrap();
    assert_eq!((speech.rate, speech.samples.len()), (22050, 22050));
    let piper = Piper::new(&url, Duration::from_secs(5)).unwrap();
    let speech = piper.synthesize(&request).await.unwrap();
    check_audio(&to_phone(&speech).unwrap(), 1, (1.2, 0.8), "piper");
    let seen = requests.lock().unwrap().clone();
    assert!(
        seen[0].starts_with("POST /v1/audio/speech HTTP/1.1"),
        "{}",
        seen[0]
    );
    assert!(
        seen[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer k-123")
    );
    let body: serde_json::Value =
        serde_json::from_str(seen[0].split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"model": "tts-1", "input": "Disk three failed.", "voice": "alloy", "response_format": "wav"})
    );
    assert!(seen[1].starts_with("POST / HTTP/1.1"));
    assert!(seen[1].ends_with("\r\n\r\nDisk three failed."));
}

/// A fake backup that counts.
struct Backup(AtomicUsize);

impl Engine for Backup {
    fn id(&self) -> String {
        "backup".into()
    }
    fn synthesize<'a>(
        &'a self,
        _: &'a SpeechRequest,
    ) -> hotline::briefing::engine::BoxFuture<'a, Result<Speech, hotline::briefing::BriefingError>>
    {
        Box::pin(async move {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Speech {
                samples: vec![0.5; 8000],
                rate: 8000,
            })
        })
    }
}

#[tokio::test]
async fn timeout_or_error_falls_back() {
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let backup = Arc::new(Backup(AtomicUsize::new(0)));
    let request = SpeechRequest {
        text: "Hello.".into(),
        language: Language::En,
    };
    let slow = Fallback::new(
        Arc::new(Piper::new(&url, Duration::from_millis(300)).unwrap()),
        backup.clone(),
    );
    let start = Instant::now();
    slow.synthesize(&request).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!((slow.fallbacks(), backup.0.load(Ordering::SeqCst)), (1, 1));
    // Nothing listening: connection refused, also a fallback.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = Fallback::new(
        Arc::new(
            OpenAi::new(
                &format!("http://{closed}"),
                None,
                None,
                None,
                Duration::from_secs(2),
            )
            .unwrap(),
        ),
        backup.clone(),
    );
    refused.synthesize(&request).await.unwrap();
    assert_eq!(backup.0.load(Ordering::SeqCst), 2);
    // The real configuration path: an unreachable piper falls back to espeak-ng.
    let config = BriefingConfig {
        engine: hotline::config::EngineKind::Piper,
        url: Some(format!("http://{closed}")),
        timeout: Duration::from_millis(500),
        ..BriefingConfig::default()
    };
    let pcm = Briefer::new(&config)
        .unwrap()
        .speak("Fallback works.", Language::En, None)
        .await
        .unwrap();
    assert!(pcm.len() > 4000);
}

/// Every string leaf of a JSON value, with its dotted path.
fn leaves(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| leaves(&format!("{prefix}{k}."), v, out)),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(&format!("{prefix}{i}."), v, out)),
        serde_json::Value::String(s) => {
            out.insert(prefix.trim_end_matches('.').to_string(), s.clone());
        }
        other => {
            out.insert(prefix.trim_end_matches('.').to_string(), other.to_string());
        }
    }
}

#[test]
fn secrets_are_never_spoken() {
    let hostile = [
        "hunter2-Sup3rS3cret!",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU",
        "sk-proj-AbCdEf0123456789xyzXYZ",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "https://admin:pa55w0rd@db.example.com/prod",
        "R0UT1NGKEY0123456789abcdef012345",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "dGhpcyBpcyBhIHNlY3JldCBrZXk=",
    ];
    let mut secrets: Vec<String> = hostile.iter().map(|s| s.to_string()).collect();
    for name in ["alertmanager", "grafana", "pagerduty_v2", "zabbix"] {
        let text = std::fs::read_to_string(format!("tests/data/payloads/{name}.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut labels = BTreeMap::new();
        leaves("", &json, &mut labels);
        let mut inc = incident();
        for (k, v) in &labels {
            if is_secret_key(k) {
                secrets.push(v.clone());
            }
        }
        // Hostile values everywhere text goes, under innocent and secret-looking names.
        for (i, h) in hostile.iter().enumerate() {
            labels.insert(format!("note{i}"), format!("see {h} now"));
            labels.insert(format!("db_password{i}"), format!("Plain{i}"));
            secrets.push(format!("Plain{i}"));
        }
        inc.labels = labels.clone();
        inc.asset.serial = Some(hostile[5].into());
        inc.asset.tag = Some(hostile[6].into());
        inc.fault.summary = format!(
            "login failed, password: {} token={}",
            hostile[0], hostile[2]
        );
        inc.fault.details = Some(format!(
            "Authorization: Bearer {} and {}",
            hostile[1], hostile[3]
        ));
        inc.fault.tried = Some(format!("curl {} then {}", hostile[4], hostile[7]));
        inc.fault.timeline = hostile.iter().map(|h| format!("03:12 saw {h}")).collect();
        let mut template =
            String::from("{summary}\n{details}\n{tried}\n{timeline}\n{tag}\n{serial}\n{key_ids}\n");
        for k in labels.keys() {
            template.push_str(&format!("{k}: {{label:{k}}}\n"));
        }
        let template = BriefingTemplate::parse(&template).unwrap();
        for lang in [Language::En, Language::Zh] {
            let config = BriefingConfig::default();
            let text =
                render(&inc, &config, lang, Some(&template)) + &render(&inc, &config, lang, None);
            for s in &secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "{name}/{lang:?}: {s:?} spoken:\n{text}"
                );
                let spelled = spell(s, lang);
                assert!(
                    spelled.len() < 12 || !text.contains(&spelled),
                    "{name}/{lang:?}: {s:?} spelled:\n{text}"
                );
            }
            assert!(
                text.contains("HardwareRaidDegraded")
                    || text.contains("EC2")
                    || name != "alertmanager",
                "{text}"
            );
        }
    }
}

#[test]
fn brief_command_prints_text_and_writes_wav() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("dialplans");
    std::fs::create_dir(&plans).unwrap();
    std::fs::write(plans.join("zh.toml"), "vendor = \"V\"\n[[contacts]]\nid = \"v\"\nname = \"V\"\nuri = \"sip:v@127.0.0.1\"\nsource = \"t\"\nverified_on = \"2026-11-01\"\nring_timeout = \"5s\"\nmenu = []\n\n[briefing]\nlanguage = \"zh\"\n").unwrap();
    let config = dir.path().join("hotline.toml");
    std::fs::write(&config, "[sip]\nbind = \"127.0.0.1:0\"\ntransport = \"udp\"\nfrom_user = \"h\"\n[media]\nadvertise = \"127.0.0.1\"\nrtp_ports = \"20000-20999\"\n[recording]\ndir = \"rec\"\n[sla]\nanswer_within = \"30s\"\n[dialplans]\ndir = \"dialplans\"\n[briefing]\ncaller = \"Example Corp operations\"\ncallback = \"+1 555 0100 999\"\n").unwrap();
    let out = dir.path().join("brief.wav");
    let run = |incident: &str, out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["brief", "--config"])
            .arg(&config)
            .args(["--dialplan", "zh", "--incident", incident, "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let o = run("tests/data/incident_disk.json", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("您好，这里是Example Corp operations"),
        "{text}"
    );
    let wav = hound::WavReader::open(&out).unwrap();
    assert_eq!(
        (
            wav.spec().sample_rate,
            wav.spec().channels,
            wav.spec().bits_per_sample
        ),
        (8000, 1, 16)
    );
    assert!(wav.duration() > 8000 * 20);
    // A broken incident file: exit 2, file:line:col.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"id\": \"x\",\n  \"asset\": {\"tagg\": \"A\"}\n}\n",
    )
    .unwrap();
    let o = run(bad.to_str().unwrap(), &out);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains(&format!("{}:3:", bad.display())) && err.contains("unknown field `tagg`"),
        "{err}"
    );
}
