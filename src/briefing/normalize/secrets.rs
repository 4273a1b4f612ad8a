//! What must never be spoken: passwords, tokens, API keys, bearer/JWT strings, long
//! hex/base64 blobs and URLs with credentials in them.

/// Key words that mark a label, a `key=value` pair or the next word as a secret.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "accesskey",
    "private_key",
    "privatekey",
    "credential",
    "authorization",
    "auth",
    "bearer",
    "routing_key",
    "integration_key",
    "cookie",
    "signature",
    "session",
    "密码",
    "口令",
    "令牌",
    "密钥",
];

/// Prefixes of well-known credential formats (OpenAI, Stripe, GitHub, Slack, GitLab, AWS,
/// JSON-in-base64 such as JWTs).
const SECRET_PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "rk_live_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "glpat-",
    "AKIA",
    "ASIA",
    "eyJ",
];

/// Whether a field or label name says its value is secret (`db_password`, `X-Api-Key`).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|w| key.contains(w))
}

/// Whether one word of text looks like a credential, whatever its label.
pub fn is_secret_value(word: &str) -> bool {
    let word = word.trim_matches(|c: char| "\"'`()[]{}<>,;".contains(c));
    if let Some((key, value)) = word.split_once(['=', ':', '：'])
        && is_secret_key(key)
        && !value.is_empty()
    {
        return true;
    }
    if word.len() < 8 {
        return false;
    }
    if has_userinfo(word) {
        return true;
    }
    if word.len() >= 16 && SECRET_PREFIXES.iter().any(|p| word.starts_with(p)) {
        return true;
    }
    if is_jwt(word) {
        return true;
    }
    blob_runs(word).any(looks_random)
}

/// `scheme://user:pass@host` or `user:pass@host`.
fn has_userinfo(word: &str) -> bool {
    let rest = word.split_once("://").map_or(word, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo.contains(':') || word.contains("://"),
        None => false,
    }
}

/// Three dot-separated base64url parts, as in a JWT.
fn is_jwt(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            p.len() >= 8
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && parts[0].starts_with("ey")
}

/// Maximal runs of base64 characters (letters, digits, `+/=_`).
fn blob_runs(word: &str) -> impl Iterator<Item = &str> {
    word.split(|c: char| !(c.is_ascii_alphanumeric() || "+/=_".contains(c)))
        .filter(|run| run.len() >= 16)
}

/// A long run that mixes letters and digits like a key does, hex of 24 characters or more,
/// or base64 with padding.
fn looks_random(run: &str) -> bool {
    let digits = run.chars().filter(char::is_ascii_digit).count();
    let letters = run.chars().filter(char::is_ascii_alphabetic).count();
    let hex = run.chars().all(|c| c.is_ascii_hexdigit());
    (run.len() >= 20 && digits >= 3 && letters >= 3)
        || (hex && run.len() >= 24)
        || (run.ends_with('=') && run.len() >= 16 && digits >= 1)
}
