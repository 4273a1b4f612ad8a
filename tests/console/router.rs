//! Pages and roles through the router, on an in-memory store.

use crate::fixture::{ADMIN, AUDITOR, LEGACY, OPERATOR, WEBHOOK, fixture};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    form: Option<&str>,
) -> Reply {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match form {
        Some(f) => {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_string())
        }
        None => Body::empty(),
    };
    let res = app
        .clone()
        .oneshot(b.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn every_page_for_every_role() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let inc = f.incident.to_string();
    let call = &f.call_id;
    let pages = [
        "/console/incidents".to_string(),
        "/console/incidents?format=csv".into(),
        "/console/incidents?format=json".into(),
        "/console/incidents?vendor=Demo+Vendor+%28simulated%29&sla=met&result=done&from=2000-01-01&to=2100-01-01&q=db-01".into(),
        format!("/console/incidents/{inc}"),
        format!("/console/incidents/{inc}/evidence.zip"),
        format!("/console/calls/{call}"),
        format!("/console/calls/{call}/peaks.json"),
        "/console/vendors".into(),
        "/console/vendors?format=csv".into(),
        "/console/vendors?format=json".into(),
        "/console/access".into(),
        "/console/access?format=csv".into(),
        "/console/verify".into(),
        "/v1/incidents".into(),
        format!("/v1/incidents/{inc}"),
        format!("/v1/calls/{call}"),
        format!("/v1/calls/{call}/recording"),
    ];
    for p in &pages {
        for t in [ADMIN, OPERATOR, AUDITOR, LEGACY] {
            let r = send(&app, "GET", p, Some(t), None).await;
            assert_eq!(r.status, StatusCode::OK, "GET {p} as {t}: {}", r.text());
        }
        let r = send(&app, "GET", p, None, None).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "GET {p} without a token"
        );
        let r = send(&app, "GET", p, Some("not-a-token"), None).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "GET {p} with a bad token"
        );
        let r = send(&app, "GET", p, Some(WEBHOOK), None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "GET {p} as webhook");
    }
    // A webhook token may post to the hooks (a malformed body gets 400, not 401); others may not.
    let r = send(&app, "POST", "/v1/hooks/generic", Some(WEBHOOK), Some("{")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = send(
        &app,
        "POST",
        "/v1/hooks/generic",
        Some("not-a-token"),
        Some("{"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // The webhook token stands for a bearer only: a format without a table accepts nothing,
    // and a format with an HMAC still needs the signature (docs/webhooks.md).
    let r = send(
        &app,
        "POST",
        "/v1/hooks/alertmanager",
        Some(WEBHOOK),
        Some("{"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let r = send(&app, "POST", "/v1/hooks/grafana", Some(WEBHOOK), Some("{")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let signature = hotline::incident::sign_hmac(b"{", crate::fixture::GRAFANA_HMAC.as_bytes());
    let req = Request::builder()
        .method("POST")
        .uri("/v1/hooks/grafana")
        .header(header::AUTHORIZATION, format!("Bearer {WEBHOOK}"))
        .header("x-grafana-alerting-signature", signature)
        .body(Body::from("{"))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "signed: parsed, then refused as JSON"
    );
    // The console answers a missing token with the sign-in form; the API with JSON.
    let r = send(&app, "GET", "/console/incidents", None, None).await;
    assert!(r.text().contains("name='token'"), "{}", r.text());
    let r = send(&app, "GET", "/v1/incidents", None, None).await;
    assert!(r.text().contains("\"reason\""), "{}", r.text());
    // Health and metrics stay open; the login form too.
    for p in ["/healthz", "/metrics", "/console/login"] {
        assert_eq!(
            send(&app, "GET", p, None, None).await.status,
            StatusCode::OK,
            "{p}"
        );
    }
}

#[tokio::test]
async fn auditors_change_nothing() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let inc = f.incident.to_string();
    let posts = [
        (
            format!("/console/incidents/{inc}/notes"),
            Some("notes=by+auditor"),
        ),
        (
            format!("/console/incidents/{inc}/owner"),
            Some("vendor_case=X&engineer_name=Y"),
        ),
        (format!("/v1/incidents/{inc}/resolve"), None),
        ("/v1/dialplans/demo/dial".to_string(), None),
        // The operator bridge: minting join links and calling an operator's phone.
        (format!("/v1/calls/{}/join", f.call_id), None),
        (format!("/v1/calls/{}/phone", f.call_id), None),
    ];
    for (p, body) in &posts {
        let r = send(&app, "POST", p, Some(AUDITOR), *body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {p} as auditor");
        let r = send(&app, "POST", p, None, *body).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "POST {p} without a token"
        );
        let r = send(&app, "POST", p, Some(WEBHOOK), *body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {p} as webhook");
    }
    let v = f
        .svc
        .store()
        .incident(&f.incident)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(v.row.notes, None);
    assert_eq!(v.row.vendor_case, None);
    assert_eq!(format!("{:?}", v.row.status), "Firing");
}

#[tokio::test]
async fn operators_edit_notes_and_ownership_into_the_chain() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let inc = f.incident.to_string();
    let r = send(
        &app,
        "POST",
        &format!("/console/incidents/{inc}/notes"),
        Some(OPERATOR),
        Some("notes=Cause%3A+failed+RAID+member.+Fix%3A+swap+disk+3."),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = send(
        &app,
        "POST",
        &format!("/console/incidents/{inc}/owner"),
        Some(ADMIN),
        Some("vendor_case=HPE-5001234&engineer_name=Mei+Lin"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let v = f
        .svc
        .store()
        .incident(&f.incident)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(v.row.vendor_case.as_deref(), Some("HPE-5001234"));
    let edits = f.svc.store().chain_of(&inc).await.expect("chain");
    assert_eq!(edits.len(), 3, "notes + two ownership fields");
    assert!(
        edits[0].payload.contains("\"by\":\"oscar\""),
        "{}",
        edits[0].payload
    );

    // Notes are searchable and shown.
    let r = send(
        &app,
        "GET",
        "/console/incidents?q=raid+member",
        Some(AUDITOR),
        None,
    )
    .await;
    assert!(
        r.text().contains("Disk failure on db-01"),
        "search finds the notes"
    );
    let r = send(
        &app,
        "GET",
        "/console/incidents?q=no-such-words",
        Some(AUDITOR),
        None,
    )
    .await;
    assert!(r.text().contains("0 incident(s)"));
    let r = send(
        &app,
        "GET",
        &format!("/console/incidents/{inc}"),
        Some(AUDITOR),
        None,
    )
    .await;
    let page = r.text();
    for want in [
        "failed RAID member",
        "HPE-5001234",
        "Mei Lin",
        "This is Example Corp operations",
        "Read only for auditors",
        "verified",
        "demo-line",
    ] {
        assert!(page.contains(want), "incident page lacks {want:?}");
    }
    let report = hotline::audit::verify(f.svc.store(), &f.svc.config().recording.dir)
        .await
        .expect("verify");
    assert!(report.ok(), "{:?}", report.problems);
}

#[tokio::test]
async fn call_page_list_filters_and_exports() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let r = send(
        &app,
        "GET",
        &format!("/console/calls/{}", f.call_id),
        Some(AUDITOR),
        None,
    )
    .await;
    let page = r.text();
    for want in [
        "SLA met: answered in 1.50 s (limit 5.00 s)",
        "class='ok' title='chain entry 2'>verified",
        "id='player'",
        "src='/v1/calls/call-answer-0002/recording'",
        "title='playback_started at 2.00 s'",
        "data-t='2.000'",
        "invite_sent",
        "menu_done",
    ] {
        assert!(page.contains(want), "call page lacks {want:?}");
    }
    let r = send(
        &app,
        "GET",
        &format!("/console/calls/{}", f.first_call),
        Some(AUDITOR),
        None,
    )
    .await;
    assert!(
        r.text().contains("SLA missed: not answered"),
        "{}",
        r.text()
    );

    // Filters.
    let count = |t: String| t.matches("<tr><td>").count();
    for (q, n) in [
        ("sla=met", 1),
        ("sla=missed", 0),
        ("result=done", 1),
        ("result=exhausted", 0),
        ("dialplan=demo", 1),
        ("dialplan=hpe", 0),
        ("from=2000-01-01&to=2000-01-02", 0),
        ("q=CZ12345678", 1),
    ] {
        let r = send(
            &app,
            "GET",
            &format!("/console/incidents?{q}"),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(count(r.text()), n, "filter {q}");
    }
    let r = send(
        &app,
        "GET",
        "/console/incidents?sla=maybe",
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Exports.
    let r = send(
        &app,
        "GET",
        "/console/incidents?format=csv",
        Some(ADMIN),
        None,
    )
    .await;
    let csv = r.text();
    assert!(csv.starts_with("id,created_at,source,"), "{csv}");
    assert!(
        csv.contains("Demo Vendor (simulated)") && csv.contains(",1500,true,"),
        "{csv}"
    );
    let r = send(
        &app,
        "GET",
        "/console/vendors?format=json",
        Some(ADMIN),
        None,
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    let contact = &v["scorecard"][1];
    assert_eq!(contact["contact"], "demo-line");
    assert_eq!(contact["calls"], 2);
    assert_eq!(contact["answered"], 1);
    assert_eq!(contact["answer_rate"], 0.5);
    assert_eq!(contact["p50_answer_ms"], 1500);
    assert_eq!(contact["sla_compliance"], 0.5);
    let r = send(&app, "GET", "/console/vendors", Some(ADMIN), None).await;
    assert!(r.text().contains("<svg"), "chart");

    // Peaks: both channels, computed once and cached.
    let r = send(
        &app,
        "GET",
        &format!("/console/calls/{}/peaks.json", f.call_id),
        Some(ADMIN),
        None,
    )
    .await;
    let p: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(p["duration_ms"], 4300);
    let left: Vec<u64> = serde_json::from_value(p["left"].clone()).expect("left");
    let right: Vec<u64> = serde_json::from_value(p["right"].clone()).expect("right");
    assert_eq!(left.len(), 1000);
    assert!(left[100] == 0 && left[300] > 300 && right[300] == 0 && right[700] > 300);
    let bytes = std::fs::metadata(&f.wav).expect("wav").len();
    assert!(
        f.svc
            .store()
            .peaks(&f.call_id, bytes)
            .await
            .expect("cache")
            .is_some()
    );

    // Range on the recording.
    let req = axum::http::Request::builder()
        .uri(format!("/v1/calls/{}/recording", f.call_id))
        .header(header::AUTHORIZATION, format!("Bearer {AUDITOR}"))
        .header(header::RANGE, "bytes=44-1043")
        .body(Body::empty())
        .expect("req");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
}

#[tokio::test]
async fn evidence_bundle_holds_recordings_timelines_and_proof() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let r = send(
        &app,
        "GET",
        &format!("/console/incidents/{}/evidence.zip", f.incident),
        Some(AUDITOR),
        None,
    )
    .await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/zip");
    let z = &r.body;
    assert_eq!(&z[..4], b"PK\x03\x04");
    let eocd = &z[z.len() - 22..];
    assert_eq!(&eocd[..4], b"PK\x05\x06");
    let entries = u16::from_le_bytes([eocd[10], eocd[11]]);
    // README, incident, 2 calls x (wav, json, record), chain, verification, sums.
    assert_eq!(entries, 11);
    let text = String::from_utf8_lossy(z);
    for name in [
        "calls/call-answer-0002.wav",
        "calls/call-answer-0002.json",
        "calls/call-first-0001.record.json",
        "proof/chain.json",
        "proof/verification.json",
        "SHA256SUMS",
    ] {
        assert!(text.contains(name), "bundle lacks {name}");
    }
    // The WAV is stored as is: its bytes appear whole in the archive.
    let wav = std::fs::read(&f.wav).expect("wav");
    assert!(z.windows(wav.len()).any(|w| w == wav.as_slice()));
    assert!(
        text.contains("\"segment_ok\": true"),
        "proof says the chain holds"
    );
}

#[tokio::test]
async fn access_log_login_and_legacy_token() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    send(&app, "GET", "/console/incidents", Some(AUDITOR), None).await;
    send(
        &app,
        "POST",
        &format!("/v1/incidents/{}/resolve", f.incident),
        Some(AUDITOR),
        None,
    )
    .await;
    send(&app, "GET", "/v1/incidents", None, None).await;
    send(&app, "GET", "/v1/incidents", Some(LEGACY), None).await;
    let log = f.svc.store().access_log(10).await.expect("log");
    let lines: Vec<String> = log
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {} {} {} {}",
                e.token_name, e.role, e.method, e.path, e.status
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "audrey auditor GET /console/incidents 200".to_string(),
            format!(
                "audrey auditor POST /v1/incidents/{}/resolve 403",
                f.incident
            ),
            "- none GET /v1/incidents 401".into(),
            "api_token admin GET /v1/incidents 200".into(),
        ]
    );

    // Sign in: the cookie then opens the console.
    let r = send(
        &app,
        "POST",
        "/console/login",
        None,
        Some(&format!("token={OPERATOR}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r.headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let req = axum::http::Request::builder()
        .uri("/console/vendors")
        .header(header::COOKIE, cookie.split(';').next().expect("pair"))
        .body(Body::empty())
        .expect("req");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let pair = cookie.split(';').next().expect("pair").to_string();
    assert!(
        !pair.contains(OPERATOR),
        "the cookie holds a session id, not the token: {pair}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");

    // Signing out ends the session on the server: a copy of the cookie no longer opens
    // anything.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/console/logout")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .expect("req");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let req = axum::http::Request::builder()
        .uri("/console/vendors")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .expect("req");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "revoked on sign-out"
    );
    assert_eq!(f.svc.sessions().len(), 0);

    // Behind a TLS-terminating proxy the cookie is Secure.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/console/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .body(Body::from(format!("token={OPERATOR}")))
        .expect("req");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let secure = res.headers()[header::SET_COOKIE].to_str().expect("ascii");
    assert!(secure.contains("; Secure;"), "{secure}");

    let r = send(
        &app,
        "POST",
        "/console/login",
        None,
        Some(&format!("token={WEBHOOK}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&app, "POST", "/console/login", None, Some("token=wrong")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Security review (low): a cross-site POST is refused even with a valid session, and
/// every response carries the anti-framing, no-sniff, referrer and CSP headers.
#[tokio::test]
async fn cross_site_writes_are_refused_and_pages_carry_security_headers() {
    let f = fixture(true).await;
    let app = hotline::web::router(f.svc.clone());
    let inc = f.incident.to_string();
    for (origin, want) in [
        ("https://evil.example", StatusCode::FORBIDDEN),
        ("http://hotline.test", StatusCode::SEE_OTHER),
    ] {
        let req = Request::builder()
            .method("POST")
            .uri(format!("/console/incidents/{inc}/notes"))
            .header(header::HOST, "hotline.test")
            .header(header::ORIGIN, origin)
            .header(header::AUTHORIZATION, format!("Bearer {OPERATOR}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("notes=hello"))
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), want, "Origin {origin}");
    }
    let r = send(&app, "GET", "/console/incidents", Some(AUDITOR), None).await;
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(
        r.headers["content-security-policy"]
            .to_str()
            .unwrap_or("")
            .contains("frame-ancestors 'none'")
    );
}
