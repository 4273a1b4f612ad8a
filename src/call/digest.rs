//! Which digest challenge to answer, and with what nonce count (RFC 3261 §22, RFC 7616,
//! RFC 8760). Pure: the SIP edge parses challenges into [`Challenge`]s and turns an
//! [`Authorization`] into a header; this module only decides.

use std::net::SocketAddr;

/// A digest `algorithm` token (RFC 8760 §2.2). An absent parameter means MD5 (RFC 3261 §22.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
    /// Offered but not supported (e.g. `SHA-512-256`), kept to say so.
    Unsupported(String),
}

impl DigestAlgorithm {
    /// Parses the token case-insensitively; `None` (absent) is MD5.
    pub fn from_token(token: Option<&str>) -> Self {
        let Some(t) = token else {
            return Self::Md5;
        };
        match t.to_ascii_uppercase().as_str() {
            "MD5" => Self::Md5,
            "MD5-SESS" => Self::Md5Sess,
            "SHA-256" => Self::Sha256,
            "SHA-256-SESS" => Self::Sha256Sess,
            _ => Self::Unsupported(t.to_string()),
        }
    }

    /// The token as written in an `Authorization` header.
    pub fn token(&self) -> &str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
            Self::Unsupported(t) => t,
        }
    }

    /// Preference among supported ones: SHA-256 over MD5; the plain form over `-sess`
    /// (same hash, fewer interoperability surprises). `None` = not supported.
    fn strength(&self) -> Option<u8> {
        match self {
            Self::Sha256 => Some(4),
            Self::Sha256Sess => Some(3),
            Self::Md5 => Some(2),
            Self::Md5Sess => Some(1),
            Self::Unsupported(_) => None,
        }
    }
}

/// The quality of protection we answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestQop {
    Auth,
    AuthInt,
}

/// One digest challenge from a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// True for 407 / Proxy-Authenticate: answered with Proxy-Authorization.
    pub proxy: bool,
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: DigestAlgorithm,
    /// `auth` when offered (RFC 7616 §3.3), else `auth-int`; `None` = RFC 2069 style.
    pub qop: Option<DigestQop>,
    /// `stale=true`: our credentials were right but the nonce expired (RFC 7616 §3.3).
    pub stale: bool,
}

/// Credentials to put on one request: answer `challenge` with nonce count `nc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    pub challenge: Challenge,
    /// Nonce count, 1 for the first request under a nonce (RFC 7616 §3.4: `nc=00000001`).
    pub nc: u32,
}

/// Whose challenges we answer (issue 21 finding 5: never hand a digest of the trunk password
/// to whoever asks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthPolicy {
    /// `[sip.auth] realm`: answer only these realms. Empty: any realm, but only from `trunk`.
    pub realms: Vec<String>,
    /// Where our requests go (the proxy, or the dialled host).
    pub trunk: SocketAddr,
}

/// Why no digest was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// The challenge is not one we may or can answer (foreign realm or source, algorithm).
    Refused(String),
    /// We answered and were challenged again: the credentials are wrong.
    Rejected(String),
}

impl AuthFailure {
    /// The text for the termination reason / log.
    pub fn reason(&self) -> &str {
        match self {
            AuthFailure::Refused(r) | AuthFailure::Rejected(r) => r,
        }
    }
}

/// At most this many realms are answered for one request (RFC 3261 §22.3 allows several).
const MAX_REALMS: usize = 4;

#[derive(Clone, Debug)]
struct Entry {
    challenge: Challenge,
    /// Requests sent under this nonce so far.
    nc: u32,
    /// We answered a challenge for this realm in the current request.
    challenged: bool,
    /// The one `stale=true` retry of the current request was used.
    stale_retried: bool,
}

/// The nonces we hold, per (proxy?, realm), across the requests of one call or one
/// registration: lets a refresh reuse a nonce with the next nc, and tells a stale nonce
/// from wrong credentials.
#[derive(Clone, Debug, Default)]
pub struct DigestSession {
    entries: Vec<Entry>,
}

impl DigestSession {
    /// Starts a new request: credentials for every nonce held (nc counts on), sent before
    /// any challenge (RFC 7616 §3.4 nonce reuse, e.g. a REGISTER refresh).
    pub fn begin_request(&mut self) -> Vec<Authorization> {
        self.new_request();
        (0..self.entries.len()).map(|i| self.next(i)).collect()
    }

    /// Starts a new request that goes out without credentials (an in-dialog request may go
    /// to the far end rather than the trunk): a challenge to it is answered afresh, and under
    /// a nonce we already used the nc counts on.
    pub fn new_request(&mut self) {
        for e in &mut self.entries {
            e.challenged = false;
            e.stale_retried = false;
        }
    }

    /// A 401/407 to the current request offered `challenges`, received from `source`.
    /// Returns the credentials for the retry, or why there must be none.
    pub fn on_challenge(
        &mut self,
        challenges: &[Challenge],
        source: Option<SocketAddr>,
        policy: &AuthPolicy,
    ) -> Result<Vec<Authorization>, AuthFailure> {
        let Some(first) = challenges.first() else {
            return Err(AuthFailure::Refused("challenge without a digest".into()));
        };
        if policy.realms.is_empty() && source != Some(policy.trunk) {
            let from = source.map_or("an unknown source".to_string(), |s| s.to_string());
            return Err(AuthFailure::Refused(format!(
                "challenge from {from}, not the trunk {} (no [sip.auth] realm configured)",
                policy.trunk
            )));
        }
        let allowed: Vec<&Challenge> = challenges
            .iter()
            .filter(|c| policy.realms.is_empty() || policy.realms.contains(&c.realm))
            .collect();
        if allowed.is_empty() {
            return Err(AuthFailure::Refused(format!(
                "challenge from foreign realm \"{}\"",
                first.realm
            )));
        }
        // The strongest supported algorithm per (header kind, realm); the first offered wins a tie.
        let mut chosen: Vec<&Challenge> = Vec::new();
        for c in &allowed {
            let same = |d: &&Challenge| d.proxy == c.proxy && d.realm == c.realm;
            if chosen.iter().any(same) {
                continue;
            }
            let best = allowed
                .iter()
                .filter(|d| same(d))
                .filter(|d| d.algorithm.strength().is_some())
                .max_by_key(|d| {
                    let pos = allowed.iter().position(|x| std::ptr::eq(*x, **d));
                    (d.algorithm.strength(), std::cmp::Reverse(pos))
                });
            match best {
                Some(b) => chosen.push(b),
                None => {
                    let offered: Vec<&str> = allowed
                        .iter()
                        .filter(|d| same(d))
                        .map(|d| d.algorithm.token())
                        .collect();
                    return Err(AuthFailure::Refused(format!(
                        "no supported digest algorithm offered by realm \"{}\" ({})",
                        c.realm,
                        offered.join(", ")
                    )));
                }
            }
        }
        let mut answer = Vec::new();
        for c in chosen {
            let i = match self
                .entries
                .iter()
                .position(|e| e.challenge.proxy == c.proxy && e.challenge.realm == c.realm)
            {
                Some(i) => {
                    let e = &mut self.entries[i];
                    if e.challenged {
                        // RFC 7616 §3.3: stale means the password was right; retry once.
                        if !c.stale || e.stale_retried {
                            return Err(AuthFailure::Rejected(format!(
                                "credentials rejected by realm \"{}\" (challenged again after answering)",
                                c.realm
                            )));
                        }
                        e.stale_retried = true;
                    }
                    // A nonce we reused unasked, or a stale one: start over under the new
                    // nonce (RFC 7616 §3.4: under the same nonce the nc only grows).
                    if e.challenge.nonce != c.nonce {
                        e.nc = 0;
                    }
                    e.challenge = (*c).clone();
                    e.challenged = true;
                    i
                }
                None => {
                    if self.entries.len() >= MAX_REALMS {
                        return Err(AuthFailure::Refused("too many digest realms".into()));
                    }
                    self.entries.push(Entry {
                        challenge: (*c).clone(),
                        nc: 0,
                        challenged: true,
                        stale_retried: false,
                    });
                    self.entries.len() - 1
                }
            };
            answer.push(i);
        }
        // Realms not challenged this time keep counting: their credentials go along again.
        let others: Vec<usize> = (0..self.entries.len())
            .filter(|i| !answer.contains(i))
            .collect();
        Ok(answer
            .into_iter()
            .chain(others)
            .map(|i| self.next(i))
            .collect())
    }

    fn next(&mut self, i: usize) -> Authorization {
        let e = &mut self.entries[i];
        e.nc = e.nc.saturating_add(1);
        Authorization {
            challenge: e.challenge.clone(),
            nc: e.nc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(realm: &str, nonce: &str, alg: Option<&str>) -> Challenge {
        Challenge {
            proxy: false,
            realm: realm.into(),
            nonce: nonce.into(),
            opaque: None,
            algorithm: DigestAlgorithm::from_token(alg),
            qop: Some(DigestQop::Auth),
            stale: false,
        }
    }

    fn trunk() -> SocketAddr {
        "127.0.0.1:5060".parse().expect("literal")
    }

    fn open() -> AuthPolicy {
        AuthPolicy {
            realms: vec![],
            trunk: trunk(),
        }
    }

    #[test]
    fn absent_algorithm_is_md5_and_tokens_have_the_dash() {
        assert_eq!(DigestAlgorithm::from_token(None), DigestAlgorithm::Md5);
        let s = DigestAlgorithm::from_token(Some("sha-256"));
        assert_eq!((s.clone(), s.token()), (DigestAlgorithm::Sha256, "SHA-256"));
        assert_eq!(
            DigestAlgorithm::from_token(Some("SHA256")),
            DigestAlgorithm::Unsupported("SHA256".into())
        );
    }

    #[test]
    fn strongest_offered_algorithm_wins() {
        let mut s = DigestSession::default();
        let offered = [
            ch("r", "n1", None),
            ch("r", "n2", Some("SHA-256")),
            ch("r", "n3", Some("SHA-512-256")),
        ];
        let a = s
            .on_challenge(&offered, Some(trunk()), &open())
            .expect("ok");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].challenge.algorithm, DigestAlgorithm::Sha256);
        assert_eq!(a[0].nc, 1);
    }

    #[test]
    fn only_unsupported_algorithms_are_refused_clearly() {
        let mut s = DigestSession::default();
        let e = s
            .on_challenge(&[ch("r", "n", Some("SHA-512-256"))], Some(trunk()), &open())
            .expect_err("refused");
        assert_eq!(
            e,
            AuthFailure::Refused(
                "no supported digest algorithm offered by realm \"r\" (SHA-512-256)".into()
            )
        );
    }

    #[test]
    fn foreign_realm_and_foreign_source_are_refused() {
        let mut s = DigestSession::default();
        let policy = AuthPolicy {
            realms: vec!["trunk.example".into(), "b.example".into()],
            trunk: trunk(),
        };
        let e = s
            .on_challenge(&[ch("attacker.example", "n", None)], Some(trunk()), &policy)
            .expect_err("foreign");
        assert_eq!(
            e.reason(),
            "challenge from foreign realm \"attacker.example\""
        );
        // A listed realm is answered from anywhere (the realm is the check).
        let ok = s.on_challenge(
            &[ch("b.example", "n", None)],
            Some("10.0.0.9:5060".parse().expect("literal")),
            &policy,
        );
        assert!(ok.is_ok());
        // No realm configured: only the trunk's own challenges.
        let e = DigestSession::default()
            .on_challenge(
                &[ch("any", "n", None)],
                Some("127.0.0.1:5099".parse().expect("literal")),
                &open(),
            )
            .expect_err("not the trunk");
        assert!(
            e.reason().contains("127.0.0.1:5099, not the trunk"),
            "{e:?}"
        );
    }

    #[test]
    fn second_challenge_is_rejection_unless_stale_once() {
        let mut s = DigestSession::default();
        s.on_challenge(&[ch("r", "n1", None)], Some(trunk()), &open())
            .expect("first");
        let mut stale = ch("r", "n2", None);
        stale.stale = true;
        let a = s
            .on_challenge(&[stale.clone()], Some(trunk()), &open())
            .expect("stale retry");
        assert_eq!((a[0].challenge.nonce.as_str(), a[0].nc), ("n2", 1));
        // A second stale for the same request is no longer believed.
        let e = s
            .on_challenge(&[stale], Some(trunk()), &open())
            .expect_err("loop");
        assert!(matches!(e, AuthFailure::Rejected(_)));
        let mut s = DigestSession::default();
        s.on_challenge(&[ch("r", "n1", None)], Some(trunk()), &open())
            .expect("first");
        let e = s
            .on_challenge(&[ch("r", "n3", None)], Some(trunk()), &open())
            .expect_err("rejected");
        assert!(e.reason().starts_with("credentials rejected"), "{e:?}");
    }

    #[test]
    fn reused_nonce_counts_on_and_a_new_challenge_restarts() {
        let mut s = DigestSession::default();
        assert!(s.begin_request().is_empty());
        s.on_challenge(&[ch("r", "n1", None)], Some(trunk()), &open())
            .expect("first");
        let refresh = s.begin_request();
        assert_eq!(
            (refresh[0].challenge.nonce.as_str(), refresh[0].nc),
            ("n1", 2)
        );
        assert_eq!(s.begin_request()[0].nc, 3);
        // The server no longer takes n1 (no stale flag): our unasked reuse is not a rejection.
        let a = s
            .on_challenge(&[ch("r", "n4", None)], Some(trunk()), &open())
            .expect("fresh");
        assert_eq!((a[0].challenge.nonce.as_str(), a[0].nc), ("n4", 1));
        // A later request challenged under the nonce in use: the nc goes on, never back to 1.
        s.new_request();
        let a = s
            .on_challenge(&[ch("r", "n4", None)], Some(trunk()), &open())
            .expect("same nonce");
        assert_eq!((a[0].challenge.nonce.as_str(), a[0].nc), ("n4", 2));
    }
}
