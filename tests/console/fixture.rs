//! A service over a temp folder: config with one token per role, the shipped dialplans, a
//! store (in memory or on disk) holding one incident whose ladder answered on the second
//! step, with a real two-channel WAV and its sidecar, sealed into the chain.

use hotline::call::{CallRecord, Clock, EventKind, Outcome, Termination};
use hotline::incident::Incident;
use hotline::recording::sidecar::{recording_path, write_json_atomic};
use hotline::runtime::Service;
use hotline::sip::{Endpoint, Transport};
use hotline::store::{IncidentId, LadderState, NewStep, StepEnd, Store};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ADMIN: &str = "admin-token-aaaaaaaaaaaaaaaa";
pub const OPERATOR: &str = "operator-token-bbbbbbbbbbbbbb";
pub const AUDITOR: &str = "auditor-token-cccccccccccccc";
pub const WEBHOOK: &str = "webhook-token-dddddddddddddd";
pub const GRAFANA_HMAC: &str = "grafana-hmac-secret-0123456789";
pub const LEGACY: &str = "legacy-api-token-eeeeeeeeeee";

pub struct Fixture {
    /// Kept alive for the files in it.
    pub _dir: tempfile::TempDir,
    pub config: PathBuf,
    pub svc: Service,
    pub incident: IncidentId,
    /// The answered (second) call.
    pub call_id: String,
    /// The unanswered first call.
    pub first_call: String,
    pub wav: PathBuf,
    pub sidecar: PathBuf,
}

fn sha(t: &str) -> String {
    hex::encode(Sha256::digest(t.as_bytes()).as_slice())
}

/// Writes hotline.toml into `dir`.
pub fn write_config(dir: &Path) -> PathBuf {
    let plans = Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
    let mut t = format!(
        r#"[sip]
bind = "127.0.0.1:0"
transport = "udp"
from_user = "hotline"
[media]
advertise = "127.0.0.1"
rtp_ports = "30000-30099"
[recording]
dir = "recordings"
[sla]
answer_within = "30s"
[dialplans]
dir = "{}"
[intake.auth.generic]
bearer = "generic-bearer-0123456789"
[intake.auth.grafana]
hmac_secret = "{GRAFANA_HMAC}"
[http]
listen = "127.0.0.1:0"
api_token = "{LEGACY}"
[store]
path = "data/hotline.db"
"#,
        plans.display()
    );
    for (name, role, token) in [
        ("alice", "admin", ADMIN),
        ("oscar", "operator", OPERATOR),
        ("audrey", "auditor", AUDITOR),
        ("zabbix", "webhook", WEBHOOK),
    ] {
        t.push_str(&format!(
            "[[http.tokens]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{}\"\n",
            sha(token)
        ));
    }
    let p = dir.join("hotline.toml");
    std::fs::write(&p, t).expect("write config");
    p
}

/// A stereo 8 kHz WAV: a tone on the left 1.0-2.0 s, on the right 2.0-4.0 s.
fn write_wav(path: &Path, seconds: f64) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    let n = (seconds * 8000.0) as usize;
    for i in 0..n {
        let t = i as f64 / 8000.0;
        let tone = |on: bool, f: f64| {
            if on {
                ((t * f * std::f64::consts::TAU).sin() * 12000.0) as i16
            } else {
                0
            }
        };
        w.write_sample(tone((1.0..2.0).contains(&t), 440.0))
            .expect("l");
        w.write_sample(tone((2.0..4.0).contains(&t), 330.0))
            .expect("r");
    }
    w.finalize().expect("finalize");
}

fn record(call_id: &str, contact: &str, recording: &str, answered: bool) -> CallRecord {
    let clock = Clock::now();
    let t0 = clock.instant;
    let ms = |m: u64| t0 + Duration::from_millis(m);
    let mut r = CallRecord::new(
        call_id,
        "demo",
        contact,
        "sip:support@127.0.0.1:5090",
        Duration::from_secs(5),
        recording,
        clock,
    );
    r.push(
        t0,
        EventKind::InviteSent {
            cseq: 1,
            authenticated: false,
        },
    );
    r.push(
        ms(120),
        EventKind::Provisional {
            code: 180,
            reason: "Ringing".into(),
        },
    );
    if !answered {
        r.push(
            ms(5000),
            EventKind::CancelSent {
                reason: "ring timeout".into(),
            },
        );
        r.push(
            ms(5050),
            EventKind::Ended {
                result: Outcome::NoAnswer,
            },
        );
        r.terminate(Termination::new(Outcome::NoAnswer, "ring timeout"));
        return r;
    }
    r.push(ms(1500), EventKind::Answered { code: 200 });
    r.push(
        ms(1520),
        EventKind::MediaFirstTx {
            to: "127.0.0.1:40000".into(),
        },
    );
    r.push(
        ms(2520),
        EventKind::DtmfSent {
            digit: '1',
            duration_ms: 100,
        },
    );
    r.push(
        ms(3520),
        EventKind::PlaybackStarted {
            source: "briefing".into(),
        },
    );
    r.push(
        ms(5200),
        EventKind::PlaybackFinished {
            source: "briefing".into(),
        },
    );
    r.push(ms(5300), EventKind::MenuDone);
    r.push(
        ms(5400),
        EventKind::ByeSent {
            reason: "menu finished".into(),
        },
    );
    r.push(
        ms(5500),
        EventKind::Ended {
            result: Outcome::Answered,
        },
    );
    r.terminate(Termination::new(Outcome::Answered, "menu finished"));
    r
}

/// Builds the fixture; `memory` picks the in-memory store.
pub async fn fixture(memory: bool) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let cfg = hotline::config::load(&config).expect("config");
    let plans = hotline::dialplan::load_dir(&cfg.dialplans.dir).expect("dialplans");
    let store = if memory {
        Store::open_memory().await.expect("store")
    } else {
        Store::open(&cfg.store.path).await.expect("store")
    };
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "test")
        .await
        .expect("endpoint");

    let mut inc = Incident {
        source: "alertmanager".into(),
        fingerprint: "fp-disk-db01".into(),
        ..Default::default()
    };
    inc.fault.summary = "Disk failure on db-01".into();
    inc.asset.serial = Some("CZ12345678".into());
    inc.asset.contract = Some("C-998877".into());
    let up = store.upsert_firing(&inc, 321).await.expect("incident");
    store
        .set_routing(&up.id, Some("demo"))
        .await
        .expect("route");
    store
        .set_briefing_text(
            &up.id,
            "This is Example Corp operations. Disk failure on db-01.",
        )
        .await
        .expect("briefing");

    let mut calls = Vec::new();
    for (i, (call_id, answered)) in [("call-first-0001", false), ("call-answer-0002", true)]
        .into_iter()
        .enumerate()
    {
        let wav = recording_path(&cfg.recording.dir, (2026, 11, 26), call_id).expect("path");
        let side = wav.with_extension("json");
        let rec = record(call_id, "demo-line", &wav.to_string_lossy(), answered);
        let seq = store
            .append_step(
                &up.id,
                NewStep {
                    contact: "demo-line".into(),
                    attempt: i as u32 + 1,
                    started_at: chrono::Utc::now(),
                    call_id: Some(call_id.into()),
                },
            )
            .await
            .expect("step");
        store.save_call(&rec, Some(&up.id)).await.expect("call");
        write_wav(&wav, if answered { 4.3 } else { 0.2 });
        write_json_atomic(&side, &serde_json::to_value(&rec).expect("json")).expect("sidecar");
        store
            .finish_step(
                &up.id,
                seq,
                StepEnd {
                    outcome: rec.termination.as_ref().map(|t| t.result),
                    reason: rec
                        .termination
                        .as_ref()
                        .map(|t| t.reason.clone())
                        .unwrap_or_default(),
                    ended_at: chrono::Utc::now(),
                    call_id: None,
                },
            )
            .await
            .expect("finish step");
        hotline::audit::seal_call(&store, call_id, &wav, &side)
            .await
            .expect("seal");
        calls.push((call_id.to_string(), wav, side));
    }
    store
        .set_ladder_state(&up.id, LadderState::Done, Some("taken by demo-line"))
        .await
        .expect("state");
    let briefer = hotline::briefing::Briefer::new(&cfg.briefing).expect("briefer");
    let svc = Service::new(cfg, plans, store, ep, briefer);
    let (call_id, wav, sidecar) = calls.pop().expect("two calls");
    let first_call = calls.pop().expect("two calls").0;
    Fixture {
        _dir: dir,
        config,
        svc,
        incident: up.id,
        call_id,
        first_call,
        wav,
        sidecar,
    }
}
