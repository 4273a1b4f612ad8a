//! Names that must not travel: secrets (never copied into text) and destinations
//! (never mapped into anything; hotline dials only the dialplans' whitelist).

/// What a secret's value is replaced with wherever it would be kept.
pub const REDACTED: &str = "[redacted]";

/// A key's words, lower case: split at anything not alphanumeric and at
/// lower-to-upper case changes (`apiToken` -> `api`, `token`).
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_numeric();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// True for names like `password`, `db_pass`, `apiToken`, `routing_key`,
/// `client_secret`, `Authorization`, `session_cookie`, `pin`.
pub fn is_secret_name(key: &str) -> bool {
    const WORDS: &[&str] = &[
        "pass",
        "pwd",
        "pw",
        "key",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "session",
        "signature",
        "sig",
        "private",
        "pin",
        "otp",
        "jwt",
        "hmac",
    ];
    const PARTS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "privatekey",
    ];
    words(key)
        .iter()
        .any(|word| WORDS.contains(&word.as_str()) || PARTS.iter().any(|part| word.contains(part)))
}

/// True for names that could hold something to dial: `uri`, `sip_uri`, `phone`,
/// `inventory_poc_primary_phone_a`, `callback`, `contact`, `dial_string`, `number`
/// (alone; `serial_number` and `contract_number` are not destinations), `tel`, `fax`.
pub fn is_destination_name(key: &str) -> bool {
    const WORDS: &[&str] = &[
        "uri",
        "sip",
        "sips",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "fax",
        "contact",
        "contacts",
        "destination",
        "dest",
        "pager",
        "extension",
        "msisdn",
        "e164",
    ];
    const PARTS: &[&str] = &["phone", "dial", "callback", "msisdn", "whatsapp"];
    let words = words(key);
    words == ["number"]
        || words.iter().any(|word| {
            WORDS.contains(&word.as_str()) || PARTS.iter().any(|part| word.contains(part))
        })
}

/// True for values that are credentials whatever their name: an HTTP
/// `Authorization` value (`Bearer <token>`, `Basic <base64>`) or a PEM private key.
pub fn looks_like_secret_value(value: &str) -> bool {
    let mut parts = value.split_whitespace();
    let scheme = parts.next().unwrap_or("");
    let credential = parts.next().unwrap_or("");
    let is_authorization = (scheme.eq_ignore_ascii_case("bearer")
        || scheme.eq_ignore_ascii_case("basic"))
        && credential.len() >= 8
        && parts.next().is_none();
    is_authorization || value.contains("PRIVATE KEY-----")
}
