//! End to end with a real Kamailio (Debian `kamailio`, auth module) as the trunk proxy on
//! 127.0.0.1: it challenges like real carriers do (qop=auth, with and without `algorithm`,
//! 401 and 407), relays the authenticated INVITE to a sipp UAS that answers, and logs what
//! credentials it got. Kamailio missing is a failure, not a skip.

mod support;

use hotline::sip::{Credentials, Endpoint, RegisterConfig, Transport, register_loop};
use std::time::Duration;
use support::kamailio::{Kamailio, KamailioAuth};
use support::*;

const SIPP_WAIT: Duration = Duration::from_secs(20);

fn kam(realm: &'static str, algorithm: Option<&'static str>, proxy: bool) -> KamailioAuth<'static> {
    KamailioAuth {
        realm,
        username: "ops",
        password: "s3cret",
        algorithm,
        proxy,
        nonce_expire: 300,
        challenge_bye: false,
    }
}

/// hotline dials through Kamailio; `realm_cfg` is the `[sip.auth]` realm line (or "").
/// Returns the record, Kamailio and the folder that holds its log.
fn call_through(
    k: &KamailioAuth<'_>,
    realm_cfg: &str,
) -> (serde_json::Value, Kamailio, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let kamailio = Kamailio::start(dir.path(), k);
    let sipp = Sipp::start(dir.path(), "uas_answer_rr.xml", "u1", &["-d", "200"]);
    let extra = format!(
        "proxy = \"sip:127.0.0.1:{}\"\n[sip.auth]\nusername = \"ops\"\npassword = \"s3cret\"\n{realm_cfg}\n",
        kamailio.port
    );
    let s = setup(
        "udp",
        sipp.port,
        "10s",
        r#"{ wait = "500ms" }, { hangup = true }"#,
        &extra,
    );
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 0, "{v:#}\nkamailio:\n{}", kamailio.log_text());
    assert_eq!(v["termination"]["result"], "answered");
    assert_eq!(
        sipp.wait(SIPP_WAIT),
        0,
        "sipp saw the whole call via Kamailio"
    );
    let log = std::fs::read_to_string(s.dir.path().join("hotline.err")).expect("log");
    assert!(!log.contains("s3cret"), "the password never reaches a log");
    (v, kamailio, dir)
}

/// The one unauthenticated INVITE, then one that passes: no second challenge.
fn assert_one_challenge_then_ok(kamailio: &Kamailio) -> String {
    let lines = kamailio.auth_lines();
    let invites: Vec<&String> = lines.iter().filter(|l| l.contains(" INVITE ")).collect();
    assert_eq!(invites.len(), 2, "{lines:#?}");
    assert!(
        invites[0].starts_with("HOTLINE-AUTH-FAIL INVITE rc=-5 cred=[<null>]"),
        "{lines:#?}"
    );
    assert!(
        invites[1].starts_with("HOTLINE-AUTH-OK INVITE"),
        "{lines:#?}"
    );
    assert!(
        invites[1].contains("qop=auth, nc=00000001, cnonce="),
        "{}",
        invites[1]
    );
    invites[1].clone()
}

#[test]
fn kamailio_401_without_algorithm_is_answered_with_md5() {
    // No `algorithm` in the challenge (Kamailio's default, like Asterisk and most carriers),
    // no [sip.auth] realm: answered because the challenge came from the proxy's address.
    let (v, kamailio, _dir) = call_through(&kam("hotline.test", None, false), "");
    let ok = assert_one_challenge_then_ok(&kamailio);
    assert!(ok.contains("realm=\"hotline.test\""), "{ok}");
    assert!(ok.contains("algorithm=MD5"), "{ok}");
    let events = kinds(&v);
    assert!(events.contains(&"challenged".to_string()), "{events:?}");
}

#[test]
fn kamailio_407_with_sha256_is_answered_on_proxy_authorization() {
    let mut k = kam("hotline.test", Some("SHA-256"), true);
    k.challenge_bye = true;
    let (v, kamailio, _dir) = call_through(&k, "realm = [\"elsewhere.example\", \"hotline.test\"]");
    let ok = assert_one_challenge_then_ok(&kamailio);
    assert!(ok.contains("algorithm=SHA-256"), "{ok}");
    // A SHA-256 response is 64 hex digits.
    let resp = ok
        .split("response=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("response");
    assert_eq!(resp.len(), 64, "{ok}");
    // The BYE is challenged too (a fresh nonce from Kamailio) and answered once.
    let lines = kamailio.auth_lines();
    let byes: Vec<&String> = lines.iter().filter(|l| l.contains(" BYE ")).collect();
    assert_eq!(byes.len(), 2, "{lines:#?}");
    assert!(byes[0].starts_with("HOTLINE-AUTH-FAIL BYE"), "{lines:#?}");
    assert!(
        byes[1].starts_with("HOTLINE-AUTH-OK BYE") && byes[1].contains("algorithm=SHA-256"),
        "{lines:#?}"
    );
    assert_eq!(v["termination"]["hangup_by"], "local", "{v:#}");
}

#[test]
fn kamailio_challenge_from_a_foreign_realm_gets_no_digest() {
    let dir = tempfile::tempdir().expect("tmp");
    let kamailio = Kamailio::start(dir.path(), &kam("attacker.example", None, true));
    let extra = format!(
        "proxy = \"sip:127.0.0.1:{}\"\n[sip.auth]\nusername = \"ops\"\npassword = \"s3cret\"\nrealm = \"hotline.test\"\n",
        kamailio.port
    );
    // Nothing listens at the dialled port: Kamailio never relays this call.
    let s = setup("udp", free_port(false), "10s", "", &extra);
    let (code, v) = dial(&s, &[]);
    assert_eq!(code, 5, "{v:#}");
    assert_eq!(v["termination"]["result"], "failed");
    assert_eq!(v["termination"]["code"], 407);
    assert_eq!(
        v["termination"]["reason"],
        "challenge from foreign realm \"attacker.example\""
    );
    assert!(
        kinds(&v).contains(&"challenge_refused".to_string()),
        "{v:#}"
    );
    // Give a stray retry time to arrive, then check Kamailio saw no credentials at all.
    std::thread::sleep(Duration::from_millis(300));
    let lines = kamailio.auth_lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("HOTLINE-AUTH-FAIL INVITE rc=-5 cred=[<null>]"));
    assert!(!kamailio.log_text().contains("Digest username"));
}

/// REGISTER refreshes reuse the nonce with nc=2; an expired nonce gets `stale=true` from
/// Kamailio and is retried at once with the new nonce, not counted as a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_register_refresh_counts_nc_and_survives_stale_nonce() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut k = kam("hotline.test", None, false);
    // Nonces live 2 s; refreshes every 1.6 s (80 % of 2 s): the first refresh reuses the
    // nonce, the second finds it expired.
    k.nonce_expire = 2;
    let kamailio = Kamailio::start(dir.path(), &k);
    let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "t")
        .await
        .expect("bind");
    let cfg = RegisterConfig {
        registrar: format!("sip:hotline.test:{}", kamailio.port),
        dest: format!("127.0.0.1:{}", kamailio.port)
            .parse()
            .expect("addr"),
        aor: "sip:ops@hotline.test".into(),
        contact: format!("sip:ops@{}", ep.local_addr()),
        expires: Duration::from_secs(2),
        credentials: Some(Credentials {
            username: "ops".into(),
            password: "s3cret".into(),
        }),
        realms: vec!["hotline.test".into()],
        user_agent: "t".into(),
    };
    let task = tokio::spawn(register_loop(cfg, ep));
    tokio::time::sleep(Duration::from_millis(4200)).await;
    task.abort();
    let lines = kamailio.auth_lines();
    let nc = |l: &String| {
        l.split("nc=")
            .nth(1)
            .map(|x| x[..8].to_string())
            .unwrap_or_default()
    };
    let seen: Vec<(bool, String, String)> = lines
        .iter()
        .map(|l| {
            let ok = l.starts_with("HOTLINE-AUTH-OK");
            let rc = l
                .split("rc=")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("")
                .to_string();
            (ok, rc, nc(l))
        })
        .collect();
    let want = [
        (false, "-5".to_string(), String::new()), // first REGISTER: no credentials
        (true, String::new(), "00000001".to_string()),
        (true, String::new(), "00000002".to_string()), // refresh reuses the nonce
        (false, "-4".to_string(), "00000003".to_string()), // nonce expired: stale
        (true, String::new(), "00000001".to_string()), // new nonce at once
    ];
    assert!(
        seen.len() >= want.len() && seen[..want.len()] == want,
        "{lines:#?}"
    );
    // Each request under a nonce has its own cnonce.
    let cnonces: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split("cnonce=\"").nth(1)?.split('"').next())
        .collect();
    let mut uniq = cnonces.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), cnonces.len(), "{cnonces:?}");
}
