use hotline::config::{IntakeConfig, SourceAuth};
use hotline::incident::{AuthError, Format, sign_hmac, verify_bearer, verify_hmac};

const TOKEN: &str = "s3cr3t-t0ken-0123456789";
const SECRET: &[u8] = b"hmac-secret-0123456789";
const BODY: &[u8] = br#"{"alerts":[]}"#;

#[test]
fn bearer_accepts_only_the_exact_token() {
    assert_eq!(
        verify_bearer(Some(&format!("Bearer {TOKEN}")), TOKEN),
        Ok(())
    );
    assert_eq!(
        verify_bearer(Some(&format!("bearer  {TOKEN} ")), TOKEN),
        Ok(())
    );
    assert_eq!(verify_bearer(None, TOKEN), Err(AuthError::Missing));
    for wrong in [
        format!("Bearer {TOKEN}x"),
        format!("Bearer {}", &TOKEN[1..]),
        "Bearer x".to_string(),
        format!("Bearer {}", TOKEN.to_uppercase()),
    ] {
        assert_eq!(
            verify_bearer(Some(&wrong), TOKEN),
            Err(AuthError::Mismatch),
            "{wrong}"
        );
    }
    for malformed in [
        TOKEN.to_string(),
        format!("Basic {TOKEN}"),
        "Bearer ".to_string(),
        String::new(),
    ] {
        assert!(
            matches!(
                verify_bearer(Some(&malformed), TOKEN),
                Err(AuthError::Malformed(_))
            ),
            "{malformed:?}"
        );
    }
    // An empty expected token accepts nothing, not even an empty one.
    assert_eq!(
        verify_bearer(Some("Bearer x"), ""),
        Err(AuthError::NotConfigured)
    );
}

#[test]
fn hmac_accepts_bare_and_prefixed_hex_of_the_exact_body() {
    let signature = sign_hmac(BODY, SECRET);
    assert_eq!(signature.len(), 64);
    assert_eq!(verify_hmac(BODY, Some(&signature), SECRET), Ok(()));
    assert_eq!(
        verify_hmac(BODY, Some(&format!("sha256={signature}")), SECRET),
        Ok(())
    );
    assert_eq!(
        verify_hmac(
            BODY,
            Some(&format!("SHA256={}", signature.to_uppercase())),
            SECRET
        ),
        Ok(())
    );
    assert_eq!(
        verify_hmac(b"{\"alerts\":[ ]}", Some(&signature), SECRET),
        Err(AuthError::Mismatch)
    );
    assert_eq!(
        verify_hmac(BODY, Some(&signature), b"another-secret-0123"),
        Err(AuthError::Mismatch)
    );
    assert_eq!(verify_hmac(BODY, None, SECRET), Err(AuthError::Missing));
    assert_eq!(
        verify_hmac(BODY, Some(&signature), b""),
        Err(AuthError::NotConfigured)
    );
    for malformed in ["zz", "sha256=", &signature[..62], "sha1=abcd", "é"] {
        assert!(
            matches!(
                verify_hmac(BODY, Some(malformed), SECRET),
                Err(AuthError::Malformed(_))
            ),
            "{malformed:?}"
        );
    }
}

#[test]
fn known_answer_rfc_4231_case_2() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert_eq!(
        sign_hmac(b"what do ya want for nothing?", b"Jefe"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn sources_without_auth_accept_nothing() {
    let config: IntakeConfig = toml::from_str(&format!(
        "[auth.alertmanager]\nbearer = \"{TOKEN}\"\n\
         [auth.grafana]\nhmac_secret = \"{}\"\n\
         [auth.generic]\nbearer = \"{TOKEN}\"\nhmac_secret = \"{}\"\nhmac_header = \"X-Sig\"\n",
        std::str::from_utf8(SECRET).unwrap(),
        std::str::from_utf8(SECRET).unwrap(),
    ))
    .unwrap();
    let bearer = format!("Bearer {TOKEN}");
    let signature = sign_hmac(BODY, SECRET);
    let headers = |name: &str| -> Option<&str> {
        match name.to_ascii_lowercase().as_str() {
            "authorization" => Some(bearer.as_str()),
            "x-grafana-alerting-signature" | "x-sig" => Some(signature.as_str()),
            _ => None,
        }
    };
    let auth = &config.auth;
    assert_eq!(auth.verify(Format::Alertmanager, BODY, headers), Ok(()));
    assert_eq!(auth.verify(Format::Grafana, BODY, headers), Ok(()));
    assert_eq!(auth.verify(Format::Generic, BODY, headers), Ok(()));
    assert_eq!(
        auth.verify(Format::Zabbix, BODY, headers),
        Err(AuthError::NotConfigured)
    );
    assert_eq!(
        auth.verify(Format::Grafana, b"tampered", headers),
        Err(AuthError::Mismatch)
    );
    // Both configured: both required.
    let only_bearer =
        |name: &str| -> Option<&str> { (name == "authorization").then_some(bearer.as_str()) };
    assert_eq!(
        auth.verify(Format::Generic, BODY, only_bearer),
        Err(AuthError::Missing)
    );
}

#[test]
fn programmatic_construction_checks_secrets() {
    assert!(SourceAuth::bearer("short").is_err());
    let auth = SourceAuth::hmac("hmac-secret-0123456789", None).unwrap();
    assert_eq!(
        auth.signature_header(Format::Grafana),
        "X-Grafana-Alerting-Signature"
    );
    assert_eq!(auth.signature_header(Format::Zabbix), "X-Hotline-Signature");
    let signature = sign_hmac(BODY, SECRET);
    assert_eq!(auth.verify(BODY, None, Some(&signature)), Ok(()));
}
