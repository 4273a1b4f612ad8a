//! Free text with its secrets masked (security review finding 4). People paste credentials
//! into alert text in every shape: "the admin password is Hunter2x", "password Hunter2x",
//! `pin: 4711`, "passphrase: correct horse battery staple", `root:pw`, `login admin/pw`,
//! `mysql -ppw`, "creds …", `https://admin:pw@host`, `postgres://app:pw@db`, "密码是…".
//! Whatever the separator, the words after a secret keyword are masked, as are credential
//! URLs' passwords. The intake runs this over every text field, so the store, the API, the
//! console, the evidence zip, the P0 ticket and the briefing only ever see the masked text.

use super::sensitive::REDACTED;

/// Keywords after which the next word is a secret (after filler such as "is", ":", "=").
const KEYWORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "pin",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "credentials",
    "cred",
    "creds",
    "bearer",
    "otp",
];

/// Keywords whose secret runs to the end of the clause (several words).
const PHRASE_KEYWORDS: &[&str] = &["passphrase", "passphrases", "mnemonic", "seed"];

/// Keywords that mask the next word only when it has a credential's shape (`user/pw`,
/// `user:pw`): "login failures" stays readable, `login admin/pw` does not.
const PAIR_KEYWORDS: &[&str] = &["login", "user", "username", "account", "auth"];

/// Chinese keywords; the value follows directly, after an optional 是 / 为 / ：.
const ZH_KEYWORDS: &[&str] = &["密码", "口令", "令牌", "密钥", "凭据", "凭证", "验证码"];

/// Words between a keyword and its value.
const FILLER: &[&str] = &[
    "is", "was", "are", "were", "now", "to", "set", "changed", "reset", "of", "for", "the", "=",
    ":", "-", "->", "is:", "为", "是",
];

/// Account names that make `name:x` a credential pair.
const USERS: &[&str] = &[
    "root",
    "admin",
    "administrator",
    "sa",
    "postgres",
    "ubuntu",
    "oracle",
    "ec2-user",
    "pi",
    "user",
    "guest",
];

/// `text` with every secret replaced by [`REDACTED`]. Word spacing is kept.
pub fn redact_text(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        let (core, trail) = strip(w);
        let lower = core.to_lowercase();
        let bare = lower.trim_start_matches('-');
        // `kw=value`, `kw:value`, `--password=value`.
        if let Some(pos) = core.find(['=', ':', '：']) {
            let k = core[..pos].trim_start_matches('-').to_lowercase();
            let sep = core[pos..].chars().next().map_or(1, char::len_utf8);
            let v = &core[pos + sep..];
            if !v.is_empty() && is_keyword(&k) {
                out.push(format!("{}{REDACTED}{trail}", &core[..pos + sep]));
                if PHRASE_KEYWORDS.contains(&k.as_str()) && !ends_clause(trail) {
                    i = mask_clause(&words, i, &mut out);
                }
                continue;
            }
        }
        // `-ppw` (mysql and friends: the password glued to -p).
        if core.len() > 2 && core.starts_with("-p") && !core[2..].starts_with('-') {
            out.push(format!("-p{REDACTED}{trail}"));
            continue;
        }
        // URLs and pairs with a password in them.
        if let Some(masked) = userinfo(core) {
            out.push(format!("{masked}{trail}"));
            continue;
        }
        if let Some((user, _)) = core.split_once(':')
            && USERS.contains(&user.to_lowercase().as_str())
            && core.len() > user.len() + 1
        {
            out.push(format!("{user}:{REDACTED}{trail}"));
            continue;
        }
        if let Some(masked) = zh(core) {
            out.push(format!("{masked}{trail}"));
            continue;
        }
        out.push(w.to_string());
        let kw = bare.trim_end_matches(['=', ':', '：']);
        if ends_clause(trail) && !trail.starts_with([':', '：']) {
            continue;
        }
        let phrase = PHRASE_KEYWORDS.contains(&kw);
        if is_keyword(kw) && core.ends_with([':', '=', '：']) && i < words.len() {
            // `password: value`: the separator is on the keyword, the value is next.
            if phrase {
                i = mask_clause(&words, i, &mut out);
            } else {
                out.push(format!("{REDACTED}{}", strip(words[i]).1));
                i += 1;
            }
        } else if is_keyword(kw) {
            i = mask_value(&words, i, phrase, &mut out);
        } else if PAIR_KEYWORDS.contains(&kw)
            && let Some(next) = words.get(i)
            && strip(next).0.contains(['/', ':'])
        {
            let (_, t) = strip(next);
            out.push(format!("{REDACTED}{t}"));
            i += 1;
        }
    }
    // Words masked one by one collapse into one mark.
    let joined = out.join(" ");
    let double = format!("{REDACTED} {REDACTED}");
    let mut s = joined;
    while s.contains(&double) {
        s = s.replace(&double, REDACTED);
    }
    s
}

/// After a keyword at `from`: in "password for the db is X" the value follows the "is";
/// else it is the first word that is neither filler nor an ordinary word ("password reset
/// portal" names no value). Pushes the words, masked; returns the next index.
fn mask_value(words: &[&str], from: usize, phrase: bool, out: &mut Vec<String>) -> usize {
    let low = |j: usize| strip(words[j]).0.to_lowercase();
    // Within the clause and four words: a separator word, the value right after it.
    let mut sep = None;
    for (j, w) in words.iter().enumerate().skip(from).take(4) {
        if ["is", "was", "are", "=", ":", "->", "为", "是"].contains(&low(j).as_str()) {
            sep = Some(j);
            break;
        }
        if ends_clause(strip(w).1) {
            break;
        }
    }
    let value = match sep {
        Some(j) if j + 1 < words.len() => {
            Some(j + 1).filter(|v| !ORDINARY.contains(&low(*v).as_str()))
        }
        Some(_) => None,
        None => (from..words.len())
            .take_while(|j| *j == from || !ends_clause(strip(words[j - 1]).1))
            .find(|j| !FILLER.contains(&low(*j).as_str()))
            .filter(|j| !ORDINARY.contains(&low(*j).as_str()) && !words[*j].is_empty()),
    };
    let Some(v) = value else {
        return from;
    };
    out.extend(words[from..v].iter().map(|w| w.to_string()));
    if phrase {
        return mask_clause(words, v, out);
    }
    let (_, t) = strip(words[v]);
    out.push(format!("{REDACTED}{t}"));
    v + 1
}

/// Words that follow a secret keyword without being its value ("password reset portal",
/// "token expired", "login failures").
const ORDINARY: &[&str] = &[
    "portal",
    "page",
    "policy",
    "policies",
    "expired",
    "expires",
    "expiry",
    "expiration",
    "rotation",
    "rotated",
    "manager",
    "vault",
    "prompt",
    "field",
    "hash",
    "hashes",
    "file",
    "failed",
    "failure",
    "failures",
    "error",
    "errors",
    "required",
    "change",
    "changes",
    "update",
    "updated",
    "service",
    "server",
    "store",
    "database",
    "check",
    "checks",
    "lockout",
    "locked",
    "invalid",
    "wrong",
    "incorrect",
    "mismatch",
    "authentication",
    "protected",
    "length",
    "complexity",
    "refresh",
    "renewal",
    "leak",
    "leaked",
    "on",
    "in",
    "at",
    "by",
    "with",
    "and",
    "or",
    "but",
    "not",
    "no",
    "a",
    "an",
    "test",
    "tests",
    "through",
    "rejected",
    "denied",
    "missing",
    "unknown",
    "down",
    "up",
    "ok",
    "fine",
    "broken",
];

fn is_keyword(k: &str) -> bool {
    let k = k.trim_start_matches('-');
    KEYWORDS.contains(&k)
        || PHRASE_KEYWORDS.contains(&k)
        || ZH_KEYWORDS.contains(&k)
        || ["db_password", "db_pass", "admin_password", "root_password"].contains(&k)
        || (k.ends_with("_password") || k.ends_with("-password") || k.ends_with("_token"))
}

/// Masks words from `from` to the end of the clause; returns the next index.
fn mask_clause(words: &[&str], from: usize, out: &mut Vec<String>) -> usize {
    let mut j = from;
    while j < words.len() {
        let (_, t) = strip(words[j]);
        j += 1;
        if ends_clause(t) {
            out.push(format!("{REDACTED}{t}"));
            return j;
        }
        out.push(REDACTED.to_string());
    }
    j
}

fn ends_clause(trail: &str) -> bool {
    trail.contains(['.', ';', ',', '!', '?', '。', '；', '，', '\n'])
}

/// A word without its trailing punctuation.
fn strip(w: &str) -> (&str, &str) {
    let core = w.trim_end_matches([',', '.', ';', '!', '?', ')', '"', '\'', '，', '。', '；']);
    (core, &w[core.len()..])
}

/// `scheme://user:pw@host…` or `user:pw@host` with the password masked.
fn userinfo(word: &str) -> Option<String> {
    let (scheme, rest) = match word.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, word),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (info, host) = authority.rsplit_once('@')?;
    let (user, pw) = info.split_once(':')?;
    // `sip:+1555…@host` is a URI, not `user:password@host`.
    let uri_scheme = ["sip", "sips", "tel", "mailto", "im", "pres", "xmpp"]
        .contains(&user.to_lowercase().as_str());
    if pw.is_empty() || host.is_empty() || (scheme.is_none() && uri_scheme) {
        return None;
    }
    let scheme = scheme.map_or(String::new(), |s| format!("{s}://"));
    Some(format!("{scheme}{user}:{REDACTED}@{host}{tail}"))
}

/// `密码是Hunter2x`, `密码：Hunter2x`, `密码 为 …` (the value glued to the keyword).
fn zh(word: &str) -> Option<String> {
    let kw = ZH_KEYWORDS.iter().find(|k| word.contains(**k))?;
    let at = word.find(kw)? + kw.len();
    let rest = &word[at..];
    let rest_trimmed = rest.trim_start_matches(['是', '为', '：', ':', '=', ' ']);
    if rest_trimmed.is_empty() {
        return None;
    }
    let sep = &rest[..rest.len() - rest_trimmed.len()];
    Some(format!("{}{sep}{REDACTED}", &word[..at]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phrasings the security review found spoken, and ordinary text left alone.
    #[test]
    fn secret_phrasings_table() {
        let cases = [
            ("the admin password is Hunter2x", "Hunter2x"),
            ("password Hunter2x then reboot", "Hunter2x"),
            ("pass: Hunter2x", "Hunter2x"),
            ("pin: 4711", "4711"),
            ("PIN 4711 for the BMC", "4711"),
            (
                "passphrase: correct horse battery staple",
                "horse battery staple",
            ),
            ("log in as root:Hunter2x", "Hunter2x"),
            ("login admin/Hunter2x works", "Hunter2x"),
            ("ran mysql -pHunter2x -u app", "Hunter2x"),
            ("creds Hunter2x", "Hunter2x"),
            ("db at https://admin:Hunter2x@db.example/x", "Hunter2x"),
            ("dsn postgres://app:Hunter2x@db", "Hunter2x"),
            ("--password=Hunter2x", "Hunter2x"),
            ("db_password=Hunter2x", "Hunter2x"),
            ("token: ghp_abc", "ghp_abc"),
            ("管理员密码是Hunter2x", "Hunter2x"),
            ("密码：Hunter2x 已重置", "Hunter2x"),
            ("口令 为 Hunter2x", "Hunter2x"),
        ];
        for (text, secret) in cases {
            let r = redact_text(text);
            for part in secret.split(' ') {
                assert!(!r.contains(part), "{text:?} -> {r:?} still holds {part:?}");
            }
            assert!(r.contains(REDACTED), "{text:?} -> {r:?}");
        }
        let r = redact_text("passphrase: correct horse battery staple. Disk 3 failed");
        assert!(r.ends_with("Disk 3 failed"), "{r}");
        assert!(redact_text("the admin password is Hunter2x").starts_with("the admin password is"));
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for t in [
            "RAID logical drive degraded since 10:30 UTC",
            "login failures on web-01",
            "password reset portal is down.",
            "PSU 2 failed, see https://status.example/incident/42",
            "upgrade to firmware 2.41 on rack A3:U12",
            "",
        ] {
            assert_eq!(redact_text(t), t);
        }
    }
}
