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
