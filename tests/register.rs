//! REGISTER with digest against sipp as the registrar.

mod support;

use hotline::sip::{Credentials, Endpoint, RegisterConfig, Transport, register_loop};
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_register.xml",
        "u1",
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "t")
        .await
        .expect("bind");
    let cfg = RegisterConfig {
        registrar: format!("sip:127.0.0.1:{}", sipp.port),
        dest: format!("127.0.0.1:{}", sipp.port).parse().expect("addr"),
        aor: "sip:ops@127.0.0.1".into(),
        contact: format!("sip:ops@{}", ep.local_addr()),
        expires: Duration::from_secs(60),
        credentials: Some(Credentials {
            username: "ops".into(),
            password: "s3cret".into(),
        }),
        realms: vec![],
        user_agent: "t".into(),
    };
    let task = tokio::spawn(register_loop(cfg, ep));
    let code = tokio::task::spawn_blocking(move || sipp.wait(Duration::from_secs(15)))
        .await
        .expect("join");
    task.abort();
    assert_eq!(code, 0, "sipp verified our REGISTER digest");
}

/// `hotline serve` with `[sip.register]`: the registrar (sipp) sees and verifies our REGISTER;
/// `/readyz` and `/metrics` show the state, registered or failing with the last status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_registers_and_shows_the_state() {
    for (password, registered) in [("s3cret", true), ("wrong", false)] {
        let dir = tempfile::tempdir().expect("tmp");
        let sipp = Sipp::start(
            dir.path(),
            "uas_register.xml",
            "u1",
            &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
        );
        let config = support::serve::serve_config(dir.path(), "");
        let text = std::fs::read_to_string(&config).expect("config");
        let text = text.replace(
            "from_user = \"hotline\"",
            &format!(
                "from_user = \"ops\"\n[sip.auth]\nusername = \"ops\"\npassword = \"{password}\"\n\
                 [sip.register]\nregistrar = \"sip:127.0.0.1:{}\"\nexpires = \"60s\"",
                sipp.port
            ),
        );
        std::fs::write(&config, text).expect("config");
        let s = support::serve::Server::start(&config);
        let code = tokio::task::spawn_blocking(move || sipp.wait(Duration::from_secs(15)))
            .await
            .expect("join");
        assert_eq!(code, if registered { 0 } else { 1 }, "sipp's verdict");
        // The state follows the registrar's last answer.
        let end = std::time::Instant::now() + Duration::from_secs(10);
        let (status, body) = loop {
            let r = reqwest::get(format!("{}/readyz", s.http))
                .await
                .expect("readyz");
            let status = r.status().as_u16();
            let body = r.text().await.expect("body");
            if !body.contains("registering") {
                break (status, body);
            }
            assert!(std::time::Instant::now() < end, "{body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let metrics = reqwest::get(format!("{}/metrics", s.http))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body");
        if registered {
            assert_eq!(status, 200, "{body}");
            assert!(
                body.contains("sip registration: registered with sip:127.0.0.1"),
                "{body}"
            );
            assert!(metrics.contains("hotline_sip_registered 1\n"), "{metrics}");
            assert!(
                metrics.contains("hotline_sip_registration_last_status 200\n"),
                "{metrics}"
            );
        } else {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("failing") && body.contains("403"), "{body}");
            assert!(metrics.contains("hotline_sip_registered 0\n"), "{metrics}");
            assert!(
                metrics.contains("hotline_sip_registration_last_status 403\n"),
                "{metrics}"
            );
        }
    }
}

/// A stopping `serve` removes its binding: REGISTER with `Expires: 0`, digest answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_unregisters_when_it_stops() {
    let dir = tempfile::tempdir().expect("tmp");
    let sipp = Sipp::start(
        dir.path(),
        "uas_register_unregister.xml",
        "u1",
        &["-key", "auth_user", "ops", "-key", "auth_pass", "s3cret"],
    );
    let config = support::serve::serve_config(dir.path(), "");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "from_user = \"hotline\"",
        &format!(
            "from_user = \"ops\"\n[sip.auth]\nusername = \"ops\"\npassword = \"s3cret\"\n\
             [sip.register]\nregistrar = \"sip:127.0.0.1:{}\"\nexpires = \"60s\"",
            sipp.port
        ),
    );
    std::fs::write(&config, text).expect("config");
    let s = support::serve::Server::start(&config);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::get(format!("{}/readyz", s.http))
            .await
            .expect("readyz");
        if r.status() == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "{}",
            r.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::task::spawn_blocking(move || s.terminate())
        .await
        .expect("join");
    let code = tokio::task::spawn_blocking(move || sipp.wait(Duration::from_secs(10)))
        .await
        .expect("join");
    assert_eq!(
        code, 0,
        "sipp saw the REGISTER with Expires: 0, with a valid digest"
    );
}
