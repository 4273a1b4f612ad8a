//! Digest challenges on the wire (RFC 3261 §22, RFC 7616, RFC 8760): parses
//! `WWW-Authenticate` / `Proxy-Authenticate` into [`Challenge`]s and computes the
//! `Authorization` / `Proxy-Authorization` value for an [`Authorization`] the core chose.

use crate::call::{Authorization, Challenge, DigestAlgorithm, DigestQop};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Parses one challenge header value. Not `Digest`, or no realm/nonce: an error (never a panic).
pub fn parse_challenge(value: &str, proxy: bool) -> Result<Challenge, String> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("digest") {
        return Err(format!("not a digest challenge: {scheme}"));
    }
    let params = auth_params(rest)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let realm = get("realm").ok_or("challenge without realm")?.to_string();
    let nonce = get("nonce").ok_or("challenge without nonce")?.to_string();
    // RFC 7616 §3.3: qop is a quoted list; prefer auth (no body hash) when both are offered.
    let qop = get("qop").and_then(|q| {
        let opts: Vec<String> = q
            .split(',')
            .map(|o| o.trim().to_ascii_lowercase())
            .collect();
        if opts.iter().any(|o| o == "auth") {
            Some(DigestQop::Auth)
        } else if opts.iter().any(|o| o == "auth-int") {
            Some(DigestQop::AuthInt)
        } else {
            None
        }
    });
    Ok(Challenge {
        proxy,
        realm,
        nonce,
        opaque: get("opaque").map(str::to_string),
        algorithm: DigestAlgorithm::from_token(get("algorithm")),
        qop,
        stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// `name=token` / `name="quoted \" string"` pairs separated by commas.
fn auth_params(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_string();
        if chars.next() != Some('=') || name.is_empty() {
            return Err(format!("bad challenge parameter \"{name}\""));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted string in challenge".into()),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.push((name, value));
    }
}

fn hash(alg: &DigestAlgorithm, data: &str) -> String {
    match alg {
        DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => {
            hex::encode(Sha256::digest(data.as_bytes()))
        }
        _ => hex::encode(Md5::digest(data.as_bytes())),
    }
}

/// What one digest response is computed over.
pub struct DigestInput<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    /// The message body (only hashed for qop=auth-int).
    pub body: &'a [u8],
    pub cnonce: &'a str,
    pub nc: u32,
}

/// The `response` value (RFC 7616 §3.4.1-3.4.3; RFC 2617 §3.2.2 when there is no qop).
pub fn response(ch: &Challenge, i: &DigestInput<'_>) -> String {
    let alg = &ch.algorithm;
    let mut ha1 = hash(alg, &format!("{}:{}:{}", i.username, ch.realm, i.password));
    if matches!(alg, DigestAlgorithm::Md5Sess | DigestAlgorithm::Sha256Sess) {
        ha1 = hash(alg, &format!("{ha1}:{}:{}", ch.nonce, i.cnonce));
    }
    let ha2 = match ch.qop {
        Some(DigestQop::AuthInt) => {
            let body = String::from_utf8_lossy(i.body);
            format!("{}:{}:{}", i.method, i.uri, hash(alg, &body))
        }
        _ => format!("{}:{}", i.method, i.uri),
    };
    let ha2 = hash(alg, &ha2);
    match ch.qop {
        Some(q) => {
            let q = if q == DigestQop::Auth {
                "auth"
            } else {
                "auth-int"
            };
            let nc = i.nc;
            hash(
                alg,
                &format!("{ha1}:{}:{nc:08x}:{}:{q}:{ha2}", ch.nonce, i.cnonce),
            )
        }
        None => hash(alg, &format!("{ha1}:{}:{ha2}", ch.nonce)),
    }
}

/// A fresh cnonce per (nonce, nc) from the caller's random `key`: a retransmission of the
/// same request carries the same credentials, each new request under a nonce a new cnonce,
/// and the server cannot predict it.
pub fn cnonce(key: &str, nonce: &str, nc: u32) -> String {
    let h = Sha256::digest(format!("{key}:{nonce}:{nc}").as_bytes());
    hex::encode(&h[..8])
}

/// The header value answering `a` for `method` on `uri`.
pub fn header_value(
    a: &Authorization,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    key: &str,
) -> String {
    let ch = &a.challenge;
    let cn = cnonce(key, &ch.nonce, a.nc);
    let input = DigestInput {
        username,
        password,
        method,
        uri,
        body,
        cnonce: &cn,
        nc: a.nc,
    };
    let resp = response(ch, &input);
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut v = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{resp}\", algorithm={}",
        q(username),
        q(&ch.realm),
        q(&ch.nonce),
        q(uri),
        ch.algorithm.token()
    );
    if let Some(o) = &ch.opaque {
        v.push_str(&format!(", opaque=\"{}\"", q(o)));
    }
    if let Some(qop) = ch.qop {
        let name = if qop == DigestQop::Auth {
            "auth"
        } else {
            "auth-int"
        };
        v.push_str(&format!(", qop={name}, nc={:08x}, cnonce=\"{cn}\"", a.nc));
    }
    v
}

/// The (header name, value) answering each of `auth` for `method` on `uri`: what a request
/// carries after a 401/407.
pub fn answers<'a>(
    auth: &'a [Authorization],
    (username, password): (&'a str, &'a str),
    method: &'a str,
    uri: &'a str,
    body: &'a [u8],
    key: &'a str,
) -> impl Iterator<Item = (&'static str, String)> + 'a {
    auth.iter().map(move |a| {
        let v = header_value(a, username, password, method, uri, body, key);
        (header_name(a), v)
    })
}

/// The header name for `a`: Proxy-Authorization answers a 407, Authorization a 401.
pub fn header_name(a: &Authorization) -> &'static str {
    if a.challenge.proxy {
        "Proxy-Authorization"
    } else {
        "Authorization"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5: Mufasa / "Circle Of Life" at testrealm@host.com, GET /dir/index.html,
    /// qop=auth, nc=00000001, cnonce="0a4f113b".
    #[test]
    fn rfc2617_section_3_5_md5_known_answer() {
        let ch = parse_challenge(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
            false,
        )
        .expect("valid");
        assert_eq!(
            (ch.algorithm.clone(), ch.qop),
            (DigestAlgorithm::Md5, Some(DigestQop::Auth))
        );
        let i = DigestInput {
            username: "Mufasa",
            password: "Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "0a4f113b",
            nc: 1,
        };
        assert_eq!(response(&ch, &i), "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 7616 §3.9.1: Mufasa / "Circle of Life" at http-auth@example.org, GET
    /// /dir/index.html, qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ".
    #[test]
    fn rfc7616_section_3_9_1_known_answers() {
        let header = |alg: &str| {
            format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                 algorithm={alg}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            )
        };
        let i = DigestInput {
            username: "Mufasa",
            password: "Circle of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            nc: 1,
        };
        let sha = parse_challenge(&header("SHA-256"), false).expect("valid");
        assert_eq!(sha.algorithm, DigestAlgorithm::Sha256);
        assert_eq!(
            response(&sha, &i),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let md5 = parse_challenge(&header("MD5"), false).expect("valid");
        assert_eq!(response(&md5, &i), "8ca523f5e9506fed4657c9700eebdbec");
    }

    /// RFC 2069 style (no qop): response = H(HA1:nonce:HA2), checked against the RFC 2617
    /// §3.5 HA1/HA2 values computed by hand (md5sum of the literal strings).
    #[test]
    fn no_qop_md5_known_answer() {
        let ch = parse_challenge(
            "Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
            false,
        )
        .expect("valid");
        assert_eq!(ch.qop, None);
        let i = DigestInput {
            username: "Mufasa",
            password: "Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: b"",
            cnonce: "",
            nc: 0,
        };
        // md5("939e7578ed9e3c518a452acee763bce9:dcd98b7102dd2f0e8b11d0f600bfb0c093:39aff3a2bab6126f332b942af96d3366")
        assert_eq!(response(&ch, &i), "670fd8c2df070c60b045671b8b24ff02");
    }

    #[test]
    fn header_counts_nc_and_changes_cnonce() {
        let ch = parse_challenge(
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth\", opaque=\"o\", stale=TRUE",
            true,
        )
        .expect("valid");
        assert!(ch.stale);
        let a1 = Authorization {
            challenge: ch.clone(),
            nc: 1,
        };
        let a2 = Authorization {
            challenge: ch,
            nc: 2,
        };
        assert_eq!(header_name(&a1), "Proxy-Authorization");
        let v1 = header_value(&a1, "u", "p", "INVITE", "sip:b@x", b"", "k");
        let v2 = header_value(&a2, "u", "p", "REGISTER", "sip:x", b"", "k");
        assert!(
            v1.contains("algorithm=MD5, opaque=\"o\", qop=auth, nc=00000001"),
            "{v1}"
        );
        assert!(v2.contains("nc=00000002"), "{v2}");
        assert_ne!(cnonce("k", "n", 1), cnonce("k", "n", 2));
        assert_eq!(
            v1,
            header_value(&a1, "u", "p", "INVITE", "sip:b@x", b"", "k")
        );
    }

    #[test]
    fn garbage_challenges_are_errors() {
        for bad in [
            "Basic realm=\"x\"",
            "Digest",
            "Digest realm=\"x\"",
            "Digest realm=\"x, nonce=\"n",
            "Digest =x, nonce=n, realm=r",
            "",
            "Digest realm",
        ] {
            assert!(parse_challenge(bad, false).is_err(), "{bad}");
        }
        let ok = parse_challenge("digest REALM=r,NONCE=n,algorithm=sha-256-sess", false);
        assert_eq!(ok.expect("valid").algorithm, DigestAlgorithm::Sha256Sess);
    }
}
