//! Headless Chromium (Debian's `chromium`, driven by npm `playwright-core` in
//! tests/browser) opens a call page, clicks an event mark and checks the player seeked.
//! Keeps a screenshot at target/console-screenshot.png.

use crate::fixture::{AUDITOR, fixture};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn clicking_an_event_mark_seeks_the_player() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (apt-get install chromium); \
         the README's test command does"
    );
    assert!(
        Command::new("node").arg("--version").output().is_ok(),
        "node is missing: install Node.js (apt-get install nodejs npm)"
    );
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `npm ci --prefix tests/browser` (the README's test command does)"
    );

    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let shot = root.join("target/console-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(&browser_dir)
        .arg("seek.mjs")
        .arg(format!("http://{addr}"))
        .arg(&f.call_id)
        .arg(AUDITOR)
        .arg(&shot)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the browser test finishes within 60 s")
        .expect("run node");
    server.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("{}")).expect("json line");
    assert_eq!(
        v["target"], 2.0,
        "the playback_started mark sits 2 s into the audio"
    );
    assert!(v["verdict"].as_str().unwrap_or("").starts_with("SLA met"));
    assert!(v["integrity"].as_str().unwrap_or("").contains("verified"));
    assert!(shot.exists(), "screenshot kept at {}", shot.display());
    // Issue 15: labels never collide, at a phone's width and a desktop's (screenshots of both
    // kept beside the first: console-screenshot-360.png, console-screenshot-1280.png).
    for width in ["360", "1280"] {
        let l = &v["layout"][width];
        eprintln!("layout at {width} px: {l}");
        assert!(l["stage_labels"].as_u64().unwrap_or(0) >= 4, "{l}");
        assert_eq!(
            l["stage_clashes"], 0,
            "stage labels collide at {width} px: {l}"
        );
        assert_eq!(
            l["stage_outside"], 0,
            "stage labels cut off at {width} px: {l}"
        );
        assert_eq!(
            l["mark_clashes"], 0,
            "waveform labels collide at {width} px: {l}"
        );
        assert!(l["marks_shown"].as_u64().unwrap_or(0) >= 3, "{l}");
    }

    // The player fetched the recording by ranges (206), as the access log shows.
    let log = f.svc.store().access_log(100).await.expect("log");
    assert!(
        log.iter()
            .any(|e| e.path.ends_with("/recording") && e.status == 206),
        "{log:?}"
    );
}
