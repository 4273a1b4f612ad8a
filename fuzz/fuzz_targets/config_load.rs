//! `hotline.toml` as `serve` loads it (`config::load`), then put to use the way intake uses
//! it: positions for `hotline check`, each webhook source's auth against a signed request,
//! and the configured label map over a sample Alertmanager body.
#![no_main]

use std::fs;

use hotline::config::{Located, Seg, load};
use hotline::incident::{Format, sign_hmac};
use libfuzzer_sys::fuzz_target;

const BODY: &[u8] = include_bytes!("../../tests/data/alertmanager.json");

fuzz_target!(|data: &[u8]| {
    let dir = hotline_fuzz::scratch().join("config");
    fs::create_dir_all(&dir).expect("scratch folder");
    let path = dir.join("hotline.toml");
    fs::write(&path, data).expect("write config");
    let Ok(config) = load(&path) else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    let located = Located::new(&path, &text);
    let _ = located.at(&[Seg::Key("sip"), Seg::Key("bind")]);
    let _ = config.sip.trunk_domain();
    let signature = sign_hmac(BODY, b"0123456789abcdef0123");
    let stamp = "1764685800";
    for format in Format::ALL {
        let header = |name: &str| -> Option<&str> {
            match name.to_ascii_lowercase().as_str() {
                "authorization" => Some("Bearer 0123456789abcdef0123"),
                "x-hotline-timestamp" | "x-timestamp" => Some(stamp),
                _ => Some(signature.as_str()),
            }
        };
        let _ = config
            .intake
            .auth
            .verify_at(format, BODY, header, 1_764_685_800);
        let _ = format.parse(BODY, &config.intake.labels);
    }
});
