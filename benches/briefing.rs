//! Briefing engine figures: normalization throughput, espeak-ng real-time factor, cache hit
//! latency. Run with `cargo bench --bench briefing`; prints its own report.

use std::time::Instant;

use hotline::briefing::Briefer;
use hotline::briefing::audio::PHONE_RATE;
use hotline::briefing::text::render;
use hotline::config::{BriefingConfig, Language};
use hotline::incident::Incident;

fn main() {
    let incident: Incident = serde_json::from_str(include_str!("../tests/data/incident_disk.json"))
        .expect("example incident");
    let config = BriefingConfig {
        caller: Some("Example Corp operations".into()),
        callback: Some("+1 555 0100 999".into()),
        ..BriefingConfig::default()
    };
    println!("briefing bench");
    for lang in [Language::En, Language::Zh] {
        let n = 2000;
        let start = Instant::now();
        let mut chars = 0;
        for _ in 0..n {
            chars += render(&incident, &config, lang, None).chars().count();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "  normalize+render {}: {:.0} briefings/s, {:.1} us each, {:.1} M chars/s out",
            lang.as_str(),
            n as f64 / secs,
            secs * 1e6 / n as f64,
            chars as f64 / secs / 1e6
        );
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let briefer = Briefer::new(&config).expect("espeak briefer");
        // Warm the espeak thread so start-up is not counted.
        briefer.speak("Warm up.", Language::En, None).await.expect("espeak");
        for lang in [Language::En, Language::Zh] {
            let text = render(&incident, &config, lang, None);
            let start = Instant::now();
            let pcm = briefer.speak(&text, lang, None).await.expect("espeak");
            let took = start.elapsed().as_secs_f64();
            let audio = pcm.len() as f64 / PHONE_RATE as f64;
            println!(
                "  espeak-ng {} full briefing: {audio:.1} s of audio in {took:.2} s (real-time factor {:.3}, {:.0}x faster than real time; includes resampling and levelling)",
                lang.as_str(),
                took / audio,
                audio / took
            );
            let n = 100_000;
            let start = Instant::now();
            for _ in 0..n {
                let hit = briefer.speak(&text, lang, None).await.expect("cached");
                std::hint::black_box(hit);
            }
            println!(
                "  cache hit {}: {:.2} us per lookup (key hashes the whole text)",
                lang.as_str(),
                start.elapsed().as_secs_f64() * 1e6 / n as f64
            );
        }
    });
}
