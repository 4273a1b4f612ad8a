//! A real Kamailio as the trunk proxy on 127.0.0.1: a config generated per test (auth module,
//! plain-text password, no database), started on a free port, stopped when dropped.

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the proxy challenges.
pub struct KamailioAuth<'a> {
    /// The realm it challenges with.
    pub realm: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// The auth module's `algorithm` parameter (`Some("SHA-256")`); `None` = no `algorithm`
    /// in the challenge (MD5 by RFC 3261 §22.4).
    pub algorithm: Option<&'a str>,
    /// INVITE challenged with 407 / Proxy-Authenticate; else 401 / WWW-Authenticate.
    pub proxy: bool,
    /// Seconds a nonce lives; an older one gets `stale=true`.
    pub nonce_expire: u32,
    /// Challenge the in-dialog BYE too (as some carriers do).
    pub challenge_bye: bool,
}

/// A running Kamailio; SIGTERM on drop (it stops its children itself).
pub struct Kamailio {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

/// Every request is logged with the credentials it carried (never the password):
/// `HOTLINE-AUTH-OK <method> cred=[...]` / `HOTLINE-AUTH-FAIL <method> rc=<n> cred=[...]`.
/// REGISTER is always challenged with 401 and answered 200 here (no registrar needed); an
/// OPTIONS to the proxy itself is challenged like an INVITE, then answered 200;
/// an INVITE that passes is Record-Routed and relayed to its Request-URI; with
/// `challenge_bye` the in-dialog BYE is challenged too.
fn config(port: u16, a: &KamailioAuth<'_>) -> String {
    let alg = a
        .algorithm
        .map(|x| format!("modparam(\"auth\", \"algorithm\", \"{x}\")\n"))
        .unwrap_or_default();
    let (check, challenge, hdr) = if a.proxy {
        (
            "pv_proxy_authenticate",
            "proxy_challenge",
            "Proxy-Authorization",
        )
    } else {
        ("pv_www_authenticate", "www_challenge", "Authorization")
    };
    let realm = a.realm;
    let pass = a.password;
    let user = a.username;
    let expire = a.nonce_expire;
    let bye_check = if a.challenge_bye {
        format!(
            r#"if (is_method("BYE")) {{
            if (!{check}("{realm}", "{pass}", "0")) {{
                xlog("L_NOTICE", "HOTLINE-AUTH-FAIL $rm rc=$rc cred=[$hdr({hdr})]\n");
                {challenge}("{realm}", "1");
                exit;
            }}
            xlog("L_NOTICE", "HOTLINE-AUTH-OK $rm cred=[$hdr({hdr})]\n");
            consume_credentials();
        }}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=2
listen=udp:127.0.0.1:{port}
auto_aliases=no
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "auth.so"
modparam("auth", "nonce_expire", {expire})
{alg}
request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        {bye_check}
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("{realm}", "{pass}", "0")) {{
            $var(rc) = $rc;
            xlog("L_NOTICE", "HOTLINE-AUTH-FAIL $rm rc=$var(rc) cred=[$hdr(Authorization)]\n");
            if ($var(rc) == -4) {{
                www_challenge("{realm}", "17");
            }} else {{
                www_challenge("{realm}", "1");
            }}
            exit;
        }}
        if ($au != "{user}") {{
            sl_send_reply("403", "Wrong User");
            exit;
        }}
        xlog("L_NOTICE", "HOTLINE-AUTH-OK $rm cred=[$hdr(Authorization)]\n");
        sl_send_reply("200", "OK");
        exit;
    }}
    if (!{check}("{realm}", "{pass}", "0")) {{
        $var(rc) = $rc;
        xlog("L_NOTICE", "HOTLINE-AUTH-FAIL $rm rc=$var(rc) cred=[$hdr({hdr})]\n");
        if ($var(rc) == -4) {{
            {challenge}("{realm}", "17");
        }} else {{
            {challenge}("{realm}", "1");
        }}
        exit;
    }}
    if ($au != "{user}") {{
        sl_send_reply("403", "Wrong User");
        exit;
    }}
    xlog("L_NOTICE", "HOTLINE-AUTH-OK $rm cred=[$hdr({hdr})]\n");
    consume_credentials();
    if (is_method("OPTIONS") && uri == myself) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    record_route();
    t_relay();
    exit;
}}
"#
    )
}

const TLS_MODULE: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so";

/// Debian ships Kamailio's TLS module apart (`kamailio-tls-modules`): installed here when
/// absent (the README test command installs it too).
fn ensure_tls_module() {
    if Path::new(TLS_MODULE).exists() {
        return;
    }
    let status = Command::new("sh")
        .args([
            "-c",
            "$(command -v sudo) sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             kamailio-tls-modules'",
        ])
        .status();
    assert!(
        Path::new(TLS_MODULE).exists(),
        "kamailio's tls module is missing and apt-get install kamailio-tls-modules failed \
         ({status:?})"
    );
}

/// The TLS proxy's config (see [`Kamailio::start_tls`]).
fn tls_config(port: u16, tls_cfg: &Path) -> String {
    let udp = port + 1;
    format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
enable_tls=yes
listen=tls:127.0.0.1:{port}
listen=udp:127.0.0.1:{udp}
auto_aliases=no
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
modparam("tls", "config", "{tls}")
request_route {{
    xlog("L_NOTICE", "HOTLINE-REQ $rm proto=$proto from=$si:$sp\n");
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    record_route();
    t_relay();
    exit;
}}
"#,
        tls = tls_cfg.display()
    )
}

impl Kamailio {
    /// Writes the config into `dir` and starts Kamailio on a free UDP port.
    pub fn start(dir: &Path, auth: &KamailioAuth<'_>) -> Kamailio {
        Self::spawn(
            dir,
            |port| config(port, auth),
            |port| std::net::UdpSocket::bind(("127.0.0.1", port)).is_err(),
        )
    }

    /// A TLS proxy: SIP over TLS on `port` (certificate and key in PEM files; it asks no
    /// client certificate), Record-Route (double, TLS and UDP), requests relayed over UDP
    /// from `port` + 1 to their Request-URI; in-dialog requests back to hotline go over the
    /// TLS connection hotline opened (Kamailio looks it up by our Contact's address).
    pub fn start_tls(dir: &Path, cert: &Path, key: &Path) -> Kamailio {
        ensure_tls_module();
        let tls_cfg = dir.join("kamailio-tls.cfg");
        std::fs::write(
            &tls_cfg,
            format!(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\n\
                 require_certificate = no\nprivate_key = {}\ncertificate = {}\n\n\
                 [client:default]\nverify_certificate = no\nrequire_certificate = no\n",
                key.display(),
                cert.display()
            ),
        )
        .expect("write tls.cfg");
        Self::spawn(
            dir,
            |port| tls_config(port, &tls_cfg),
            |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        )
    }

    fn spawn(dir: &Path, make: impl Fn(u16) -> String, ready: impl Fn(u16) -> bool) -> Kamailio {
        let version = Command::new("kamailio").arg("-v").output();
        assert!(
            version.as_ref().is_ok_and(|o| o.status.success()),
            "kamailio is not installed: the test command installs Debian's kamailio ({version:?})"
        );
        for _attempt in 0..5 {
            let port = free_port(true);
            let cfg = dir.join(format!("kamailio-{port}.cfg"));
            std::fs::write(&cfg, make(port)).expect("write kamailio.cfg");
            let log = dir.join(format!("kamailio-{port}.log"));
            let child = Command::new("kamailio")
                .arg("-f")
                .arg(&cfg)
                // Foreground, log to stderr, small memory, runtime files in the test folder.
                .args(["-DD", "-E", "-m", "32", "-M", "4"])
                .arg("-Y")
                .arg(dir)
                .arg("-w")
                .arg(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
                .spawn()
                .expect("spawn kamailio");
            let mut k = Kamailio {
                child: Some(child),
                port,
                log,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if ready(port) {
                    // Bound; the receivers start right after and read what queued.
                    std::thread::sleep(Duration::from_millis(200));
                    return k;
                }
                if let Some(c) = k.child.as_mut()
                    && let Ok(Some(st)) = c.try_wait()
                {
                    let text = std::fs::read_to_string(&k.log).unwrap_or_default();
                    assert!(
                        !text.contains("ERROR: <core> [core/cfg.y"),
                        "kamailio rejected its config ({st}):\n{text}"
                    );
                    break; // port clash: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            k.stop();
        }
        panic!("kamailio did not start");
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Our `HOTLINE-AUTH-*` lines, in order.
    pub fn auth_lines(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter_map(|l| l.find("HOTLINE-AUTH-").map(|i| l[i..].to_string()))
            .collect()
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            // SIGTERM (not SIGKILL): Kamailio then stops the processes it forked.
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.stop();
    }
}
