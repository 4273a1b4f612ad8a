//! Load bench: N concurrent recorded calls from one hotline process to a sipp UAS that echoes
//! RTP, on 127.0.0.1. Prints calls sustained, send-interval jitter and lateness, lost
//! recording frames, CPU, RSS per call and 200 OK -> first RTP packet latency.
//!
//! `cargo bench --bench calls` (release). Knobs: HOTLINE_BENCH_CALLS (500),
//! HOTLINE_BENCH_HOLD_SECS (20), HOTLINE_BENCH_RATE (calls started per second, 100),
//! HOTLINE_BENCH_LISTEN (1: the listener runs on every call, as in production; 0: without
//! it, to compare CPU and jitter). Each call plays hold music (Debian's Asterisk hold-music
//! files, looped for the whole hold) and the echo sends it back: the vendor's channel is hold
//! music throughout, every frame above the energy gate, so the listener's model runs on all
//! of it (the worst case for its cost). Prints CPU per call on hold, the listener's dropped
//! frames and its lag (receipt of a frame -> heard: what its decisions wait on top of their
//! own hangovers).
//! HOTLINE_BENCH_LIVE (0; 1: each call also publishes its live state as `serve` does: the
//! call row saved at each phase through `runtime::live`, into a SQLite store on disk).

use hotline::call::CallRecord;
use hotline::cli::{DialArgs, prepare};
use hotline::runtime::{Histogram, pcm_source, run_call};
use std::collections::HashMap;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port(from: u16) -> u16 {
    for p in (from..from + 2000).step_by(4) {
        if (0..4).all(|i| UdpSocket::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
    panic!("no free port")
}

/// (user+system CPU seconds, RSS KiB) of this process.
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command name: utime is the 12th, stime the 13th (USER_HZ = 100).
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, rss)
}

fn quantile(v: &mut [u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[(((v.len() as f64) * q).ceil() as usize).clamp(1, v.len()) - 1]
}

/// The Asterisk hold-music files (Debian's asterisk-moh-opsound-wav), 8 kHz, one after another.
fn hold_music() -> Vec<i16> {
    let dir = "/usr/share/asterisk/moh";
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e} (apt-get install asterisk-moh-opsound-wav)"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    let music: Vec<i16> = files
        .iter()
        .flat_map(|p| {
            hotline::media::source::load_wav(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect();
    assert!(!music.is_empty(), "no hold music in {dir}");
    music
}

fn main() {
    let n = env("HOTLINE_BENCH_CALLS", 500) as usize;
    let hold = env("HOTLINE_BENCH_HOLD_SECS", 20);
    let rate = env("HOTLINE_BENCH_RATE", 100).max(1);
    let listen = env("HOTLINE_BENCH_LISTEN", 1) != 0;
    let live = env("HOTLINE_BENCH_LIVE", 0) == 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let sip_port = free_port(40000);
    let media_port = free_port(42000);
    let cp = free_port(44000);
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/uas_echo.xml");
    let mut sipp = Command::new("sipp")
        .current_dir(dir.path())
        .args(["-sf", scenario, "-i", "127.0.0.1", "-t", "u1"])
        .args(["-p", &sip_port.to_string(), "-mi", "127.0.0.1"])
        .args(["-mp", &media_port.to_string(), "-cp", &cp.to_string()])
        .args([
            "-rtp_echo",
            "-m",
            &n.to_string(),
            "-max_socket",
            "4096",
            "-nostdin",
        ])
        .args(["-timeout", &(hold * 3 + 120).to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) is needed for the bench");
    std::thread::sleep(Duration::from_millis(500));
    let config = dir.path().join("hotline.toml");
    std::fs::write(
        &config,
        "[sip]\nbind = \"127.0.0.1:0\"\ntransport = \"udp\"\nfrom_user = \"bench\"\n\
         [media]\nadvertise = \"127.0.0.1\"\nrtp_ports = \"20000-29998\"\n\
         [recording]\ndir = \"recordings\"\n[sla]\nanswer_within = \"30s\"\n\
         [dialplans]\ndir = \"dialplans\"\n",
    )
    .expect("config");
    std::fs::create_dir_all(dir.path().join("dialplans")).expect("dir");
    std::fs::write(
        dir.path().join("dialplans/echo.toml"),
        format!(
            "vendor = \"sipp echo\"\n[[contacts]]\nid = \"echo\"\nname = \"echo\"\n\
             uri = \"sip:echo@127.0.0.1:{sip_port}\"\nsource = \"bench\"\n\
             verified_on = \"2026-11-01\"\nring_timeout = \"30s\"\n\
             menu = [{{ play = \"briefing\" }}, {{ hangup = true }}]\n"
        ),
    )
    .expect("dialplan");
    // One "briefing" shared by every call: `hold` seconds of hold music, all five Asterisk
    // files in turn (looped).
    let music = hold_music();
    let briefing: Arc<[i16]> = music
        .iter()
        .cycle()
        .take(hold as usize * 8000)
        .copied()
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (cpu0, rss0) = usage();
    let wall0 = Instant::now();
    let peak_rss = Arc::new(std::sync::atomic::AtomicU64::new(rss0));
    let records: Vec<CallRecord> = rt.block_on(async {
        let args = DialArgs {
            config: config.clone(),
            dialplan: "echo".into(),
            contact: None,
            play: None,
            max_duration: Duration::from_secs(hold + 60),
            vars: HashMap::new(),
            incident: None,
            sip: None,
        };
        let mut first = prepare(&args, Some(pcm_source(briefing.clone())), None)
            .await
            .expect("prepare");
        first.setup.listen = listen;
        let ep = first.endpoint.clone();
        let peak = peak_rss.clone();
        let sampler = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                peak.fetch_max(usage().1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let store = match live {
            true => Some(
                hotline::store::Store::open(dir.path().join("bench.db"))
                    .await
                    .expect("store"),
            ),
            false => None,
        };
        let hub = hotline::runtime::live::LiveHub::default();
        let mut tasks = Vec::new();
        let mut next = Some(first);
        for i in 0..n {
            let p = match next.take() {
                Some(p) => p,
                None => prepare(&args, Some(pcm_source(briefing.clone())), Some(ep.clone()))
                    .await
                    .expect("prepare"),
            };
            let mut p = p;
            if let Some(store) = &store {
                p.setup.live = Some(hotline::runtime::live::LiveSetup {
                    store: store.clone(),
                    hub: hub.clone(),
                    incident: format!("bench-{i}"),
                });
            }
            p.setup.listen = listen;
            let (_tx, rx) = tokio::sync::mpsc::channel(1);
            tasks.push(tokio::spawn(async move {
                let _keep = _tx;
                run_call(p.endpoint, p.rtp, p.setup, rx).await
            }));
            let due = wall0 + Duration::from_secs_f64((i + 1) as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("call task"));
        }
        sampler.abort();
        out
    });
    let wall = wall0.elapsed().as_secs_f64();
    let (cpu1, _) = usage();
    let _ = sipp.kill();
    let _ = sipp.wait();

    let answered: Vec<&CallRecord> = records
        .iter()
        .filter(|r| r.stages.answered.is_some())
        .collect();
    // Most calls up at once: sweep over [answered, ended] intervals.
    let mut edges: Vec<(chrono::DateTime<chrono::Utc>, i32)> = Vec::new();
    for r in &answered {
        if let (Some(a), Some(e)) = (r.stages.answered, r.stages.ended) {
            edges.push((a, 1));
            edges.push((e, -1));
        }
    }
    edges.sort();
    let (mut up, mut max_up) = (0, 0);
    for (_, d) in edges {
        up += d;
        max_up = max_up.max(up);
    }
    let mut jitter = Histogram::default();
    let mut listener_lag = hotline::media::histogram::LogHistogram::default();
    let (mut listener_dropped, mut behind_events) = (0, 0);
    let mut lateness = Histogram::default();
    let mut first_rtp: Vec<u64> = Vec::new();
    let (mut skipped, mut late, mut lost, mut sent, mut recv) = (0, 0, 0, 0, 0);
    for r in &records {
        jitter.merge(&r.media.jitter);
        listener_lag.merge(&r.media.listener_lag);
        listener_dropped += r.media.listener_frames_dropped;
        behind_events += r
            .events
            .iter()
            .filter(|e| e.kind.name() == "listener_behind")
            .count();
        lateness.merge(&r.media.lateness);
        first_rtp.extend(r.media.answer_to_first_rtp_us);
        skipped += r.media.frames_skipped;
        late += r.media.recording_late_samples;
        lost += r.media.packets_lost;
        sent += r.media.packets_sent;
        recv += r.media.packets_received;
    }
    if let Some(r) = records.iter().find(|r| r.stages.answered.is_none()) {
        println!("  an unanswered call ended: {:?}", r.termination);
    }
    let errors = records
        .iter()
        .filter(|r| r.recording_error.is_some())
        .count();
    let peak = peak_rss.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "hotline bench: {n} calls to a sipp RTP echo on 127.0.0.1, {hold}s hold, {rate} calls/s, \
         listener {}, live state {}",
        if listen { "on" } else { "off" },
        if live {
            "published (store + hub)"
        } else {
            "off"
        }
    );
    println!("  calls answered            {}/{n}", answered.len());
    println!("  concurrent calls (max)    {max_up}");
    println!(
        "  send-interval jitter      p50 {} us, p99 {} us, max {} us ({} intervals)",
        jitter.quantile_us(0.5),
        jitter.quantile_us(0.99),
        jitter.max_us(),
        jitter.count()
    );
    println!(
        "  lateness vs 20 ms grid    p50 {} us, p99 {} us, max {} us (includes the 1 ms timer tick)",
        lateness.quantile_us(0.5),
        lateness.quantile_us(0.99),
        lateness.max_us()
    );
    println!(
        "  lost recording frames     {} (frames skipped by the pacer {skipped}, late samples {late}, recordings with errors {errors})",
        skipped + late / 160
    );
    println!("  rtp sent {sent}, echoed back {recv}, lost on the echo path {lost}");
    println!(
        "  200 OK -> first RTP       p50 {} us, p99 {} us, max {} us",
        quantile(&mut first_rtp, 0.5),
        quantile(&mut first_rtp, 0.99),
        quantile(&mut first_rtp, 1.0)
    );
    println!(
        "  CPU                       {:.1} s over {:.1} s wall = {:.0}% of one core",
        cpu1 - cpu0,
        wall,
        100.0 * (cpu1 - cpu0) / wall
    );
    // Answered calls spend the hold playing (and hearing) music.
    let on_hold = answered.len().max(1) as f64 * hold as f64;
    println!(
        "  CPU per call on hold      {:.2} % of one core ({:.1} ms of CPU per call-second)",
        100.0 * (cpu1 - cpu0) / on_hold,
        1000.0 * (cpu1 - cpu0) / on_hold
    );
    if listen {
        println!(
            "  listener                  frames dropped {listener_dropped} ({behind_events} \
             'listener behind' events); lag p50 {} us, p99 {} us, max {} us ({} frames heard)",
            listener_lag.quantile_us(0.5),
            listener_lag.quantile_us(0.99),
            listener_lag.max_us(),
            listener_lag.count()
        );
    }
    println!(
        "  RSS                       {} KiB base, {} KiB peak, {:.1} KiB per call",
        rss0,
        peak,
        (peak.saturating_sub(rss0)) as f64 / n.max(1) as f64
    );
}
