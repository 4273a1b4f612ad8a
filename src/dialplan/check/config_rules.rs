//! Checks on `hotline.toml` that loading alone does not make: secrets that are unset, URLs
//! without a scheme, operator phones, the recordings folder, the fallback.

use std::fs::OpenOptions;
use std::path::Path;

use super::Report;
use crate::config::{Config, Located, Seg};
use crate::dialplan::Destination;
use crate::incident::Format;

/// Runs every `hotline.toml` rule.
pub(super) fn check(cfg: &Config, doc: &Located, report: &mut Report) {
    let reported = env_secrets(cfg, doc, report, |name| std::env::var(name).ok());
    empty_secrets(cfg, doc, &reported, report);
    operators(cfg, doc, report);
    urls(cfg, doc, report);
    if let Err(why) = writable_dir(&cfg.recording.dir) {
        let at = doc.at(&[Seg::Key("recording"), Seg::Key("dir")]);
        report.errors.push(format!(
            "{at}: recordings folder {}: {why}",
            cfg.recording.dir.display()
        ));
    }
    if cfg.ladder.fallback_url.is_none() {
        let at = doc.at(&[Seg::Key("ladder")]);
        report.warnings.push(format!(
            "{at}: no [ladder] fallback_url: an exhausted ladder or an unrouted incident raises \
             no P0 ticket"
        ));
    }
}

/// Whether the loopback-only, no-token demo mode applies (`serve` accepts empty HTTP and
/// webhook secrets then).
fn open_loopback(cfg: &Config) -> bool {
    cfg.http.allow_unauthenticated_loopback && cfg.http.listen.ip().is_loopback()
}

/// The keys whose values are secrets (`config::Secret`: inline or `${NAME}`).
const SECRET_KEYS: [&str; 5] = [
    "api_token",
    "bearer",
    "hmac_secret",
    "fallback_token",
    "password",
];

/// Every `${NAME}` whose variable is unset or empty, all named at once. HTTP and webhook
/// secrets only warn in the loopback demo mode; the rest are errors. Returns the dotted paths
/// reported.
pub(super) fn env_secrets(
    cfg: &Config,
    doc: &Located,
    report: &mut Report,
    env: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut reported = Vec::new();
    for s in doc.strings() {
        let key = s.path.rsplit('.').next().unwrap_or_default();
        if !SECRET_KEYS.contains(&key) {
            continue;
        }
        let Some(name) = s.value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
            continue;
        };
        if env(name).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let at = &s.at;
        let exempt =
            (s.path.starts_with("http.") || s.path.starts_with("intake.")) && open_loopback(cfg);
        if exempt {
            report.warnings.push(format!(
                "{at}: {}: environment variable {name} is not set (accepted only because the \
                 listener is loopback with allow_unauthenticated_loopback)",
                s.path
            ));
        } else {
            report.errors.push(format!(
                "{at}: {}: environment variable {name} is not set",
                s.path
            ));
        }
        reported.push(s.path);
    }
    reported
}

/// Secrets `serve` cannot run without, written empty (or absent) rather than unset.
fn empty_secrets(cfg: &Config, doc: &Located, reported: &[String], report: &mut Report) {
    let already = |prefix: &str| reported.iter().any(|p| p.starts_with(prefix));
    let no_token =
        cfg.http.api_token.as_ref().is_none_or(|t| t.is_empty()) && cfg.http.tokens.is_empty();
    if no_token && !open_loopback(cfg) && !already("http.api_token") {
        let at = doc.at(&[Seg::Key("http")]);
        report.errors.push(format!(
            "{at}: [http] api_token is empty; set it (e.g. api_token = \"${{HOTLINE_API_TOKEN}}\") \
             or, for a loopback-only listener, allow_unauthenticated_loopback = true"
        ));
    }
    for f in Format::ALL {
        let path = format!("intake.auth.{f}");
        if let Some(a) = cfg.intake.auth.get(f)
            && a.is_empty()
            && !open_loopback(cfg)
            && !already(&path)
        {
            let at = doc.at(&[Seg::Key("intake"), Seg::Key("auth"), Seg::Key(f.as_str())]);
            report.errors.push(format!(
                "{at}: [intake.auth.{f}] has an empty secret; set it, or \
                 allow_unauthenticated_loopback = true on a loopback listener"
            ));
        }
    }
    if let Some(auth) = &cfg.sip.auth
        && auth.password.is_empty()
        && !already("sip.auth.password")
    {
        let at = doc.at(&[Seg::Key("sip"), Seg::Key("auth"), Seg::Key("password")]);
        report.errors.push(format!(
            "{at}: [sip.auth] password is empty; the trunk would reject every call"
        ));
    }
    if cfg
        .ladder
        .fallback_token
        .as_ref()
        .is_some_and(|t| t.is_empty())
        && !already("ladder.fallback_token")
    {
        let at = doc.at(&[Seg::Key("ladder"), Seg::Key("fallback_token")]);
        report
            .errors
            .push(format!("{at}: [ladder] fallback_token is empty"));
    }
}

/// `[[operators]]`: an E.164 number or a SIP URI, like a dialplan contact; ids unique.
fn operators(cfg: &Config, doc: &Located, report: &mut Report) {
    for (i, op) in cfg.operators.iter().enumerate() {
        let here = [Seg::Key("operators"), Seg::At(i)];
        if let Err(e) = Destination::parse(&op.uri) {
            let at = doc.at(&[here[0], here[1], Seg::Key("uri")]);
            report.errors.push(format!("{at}: operator {}: {e}", op.id));
        }
        if cfg.operators[..i].iter().any(|o| o.id == op.id) {
            let at = doc.at(&[here[0], here[1], Seg::Key("id")]);
            report
                .errors
                .push(format!("{at}: duplicate operator id \"{}\"", op.id));
        }
    }
    // `[bridge] ring_on_human` names operators by id: each must be one.
    for (i, id) in cfg.bridge.ring_on_human.iter().enumerate() {
        if !cfg.operators.iter().any(|o| &o.id == id) {
            let at = doc.at(&[Seg::Key("bridge"), Seg::Key("ring_on_human"), Seg::At(i)]);
            report.errors.push(format!(
                "{at}: [bridge] ring_on_human names \"{id}\", which is no [[operators]] id"
            ));
        }
    }
    // `[callback] ring_operators` too.
    let ring = cfg.callback.iter().flat_map(|c| c.ring_operators.iter());
    for (i, id) in ring.enumerate() {
        if !cfg.operators.iter().any(|o| &o.id == id) {
            let at = doc.at(&[Seg::Key("callback"), Seg::Key("ring_operators"), Seg::At(i)]);
            report.errors.push(format!(
                "{at}: [callback] ring_operators names \"{id}\", which is no [[operators]] id"
            ));
        }
    }
}

/// URLs hotline calls or hands out: absolute `http(s)://host...`.
fn urls(cfg: &Config, doc: &Located, report: &mut Report) {
    let all = [
        ("ladder", "fallback_url", &cfg.ladder.fallback_url),
        ("ladder", "notify_url", &cfg.ladder.notify_url),
        ("bridge", "public_url", &cfg.bridge.public_url),
        ("briefing", "url", &cfg.briefing.url),
        ("http", "heartbeat_url", &cfg.http.heartbeat_url),
    ];
    for (table, key, value) in all {
        let Some(url) = value else { continue };
        if let Err(why) = http_url(url) {
            let at = doc.at(&[Seg::Key(table), Seg::Key(key)]);
            report
                .errors
                .push(format!("{at}: [{table}] {key} \"{url}\": {why}"));
        }
    }
}

/// An absolute http or https URL with a host.
pub(super) fn http_url(text: &str) -> Result<(), String> {
    if !text.contains("://") {
        return Err(format!(
            "no scheme; write it as https://{}",
            text.trim_start_matches('/')
        ));
    }
    let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(())
}

/// Whether hotline can write in `dir` (or create it: the nearest existing folder above it
/// must be writable). Probes with a file it removes at once.
pub(super) fn writable_dir(dir: &Path) -> Result<(), String> {
    let mut existing = dir;
    loop {
        match std::fs::metadata(existing) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(format!("{} is not a folder", existing.display())),
            Err(_) => match existing.parent() {
                Some(p) if !p.as_os_str().is_empty() => existing = p,
                _ => {
                    existing = Path::new(".");
                    break;
                }
            },
        }
    }
    let probe = existing.join(format!(".hotline-check-{:016x}", rand::random::<u64>()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("cannot write in {}: {e}", existing.display())),
    }
}
