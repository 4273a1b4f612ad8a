//! Callback screening, matching and the response clock, without a socket.

use super::*;
use crate::config::CallbackConfig;
use chrono::TimeZone;

fn cfg(with_auth: bool) -> CallbackConfig {
    let auth = if with_auth {
        "\n[auth]\nrealm = \"hotline\"\nusername = \"vendor\"\npassword = \"correct horse battery\"\n"
    } else {
        ""
    };
    toml::from_str(&format!(
        "number = \"+15550100200\"\nallow_from = [\"10.0.0.5\"]\nring_operators = [\"alice\"]\n\
         ring_for = \"20s\"\n{auth}"
    ))
    .expect("valid [callback]")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal")
}

#[test]
fn callback_table_defaults() {
    let c = cfg(false);
    assert_eq!(c.ring_for, Duration::from_secs(20));
    assert_eq!(c.message_max, Duration::from_secs(120));
    assert_eq!(c.digits_within, Duration::from_secs(10));
    assert!(toml::from_str::<CallbackConfig>("number = \"\"").is_err());
    assert!(toml::from_str::<CallbackConfig>("number = \"1\"\nbogus = 1").is_err());
}

#[test]
fn only_the_callback_number_from_a_trunk_is_taken() {
    let c = cfg(false);
    let none = Credentials::None;
    assert_eq!(
        screen(Some(&c), "+15550100200", ip("10.0.0.5"), none),
        Screen::Admit
    );
    assert_eq!(
        screen(Some(&c), "15550100200", ip("10.0.0.5"), none),
        Screen::Admit
    );
    assert_eq!(
        screen(Some(&c), "100", ip("10.0.0.5"), none),
        Screen::Refuse {
            status: 404,
            why: Refusal::WrongNumber
        }
    );
    assert_eq!(
        screen(Some(&c), "+15550100200", ip("127.0.0.1"), none),
        Screen::Refuse {
            status: 403,
            why: Refusal::NotFromTrunk
        }
    );
    // Credentials do not help without inbound auth configured.
    assert_eq!(
        screen(
            Some(&c),
            "+15550100200",
            ip("127.0.0.1"),
            Credentials::Valid
        ),
        Screen::Refuse {
            status: 403,
            why: Refusal::NotFromTrunk
        }
    );
    assert_eq!(
        screen(None, "+15550100200", ip("10.0.0.5"), none),
        Screen::Refuse {
            status: 404,
            why: Refusal::NoCallbackLine
        }
    );
}

#[test]
fn inbound_auth_challenges_callers_outside_the_trunk() {
    let c = cfg(true);
    let from = ip("192.0.2.7");
    assert_eq!(
        screen(Some(&c), "+15550100200", from, Credentials::None),
        Screen::Challenge
    );
    assert_eq!(
        screen(Some(&c), "+15550100200", from, Credentials::Valid),
        Screen::Admit
    );
    assert_eq!(
        screen(Some(&c), "+15550100200", from, Credentials::Invalid),
        Screen::Refuse {
            status: 403,
            why: Refusal::BadCredentials
        }
    );
    // The number is checked first: a scan of other extensions never sees a challenge.
    assert!(matches!(
        screen(Some(&c), "101", from, Credentials::None),
        Screen::Refuse { status: 404, .. }
    ));
}

fn plans() -> Dialplans {
    crate::dialplan::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans"))
        .expect("the shipped dialplans load")
}

fn open(id: &str, plan: &str, cases: &[&str]) -> OpenIncident {
    OpenIncident {
        incident_id: id.into(),
        dialplan: plan.into(),
        case_numbers: cases.iter().map(|c| c.to_string()).collect(),
    }
}

#[test]
fn a_contacts_number_matches_its_vendors_open_incident() {
    let p = plans();
    let o = [open("inc-1", "dell", &[]), open("inc-2", "hpe", &[])];
    assert_eq!(
        match_caller("+15550100177", &p, &o),
        CallerMatch::Matched {
            incident_id: "inc-1".into(),
            by: MatchedBy::Contact("dell-prosupport".into())
        }
    );
    // The same number as a SIP URI user part.
    assert!(matches!(
        match_caller("sip:+15550100177@10.0.0.5", &p, &o),
        CallerMatch::Matched { .. }
    ));
    // A longer number that merely contains it does not match.
    assert_eq!(
        match_caller("+155501001771", &p, &o),
        CallerMatch::Unmatched
    );
}

#[test]
fn two_open_incidents_ask_for_the_case_number() {
    let p = plans();
    let o = [
        open("inc-1", "dell", &["CS-0042"]),
        open("inc-3", "dell", &["88812"]),
    ];
    let m = match_caller("+15550100177", &p, &o);
    assert_eq!(
        m,
        CallerMatch::AskCaseNumber {
            vendor: Some("dell".into())
        }
    );
    assert_eq!(
        match_case("88812", Some("dell"), &o),
        CallerMatch::Matched {
            incident_id: "inc-3".into(),
            by: MatchedBy::CaseNumber("88812".into())
        }
    );
    assert_eq!(
        match_case("0042", Some("dell"), &o),
        CallerMatch::Matched {
            incident_id: "inc-1".into(),
            by: MatchedBy::CaseNumber("CS-0042".into())
        }
    );
    // A wrong number, two candidates: unmatched (rings the on-call).
    assert_eq!(match_case("1", Some("dell"), &o), CallerMatch::Unmatched);
}

#[test]
fn unknown_caller_falls_back_to_the_only_open_incident() {
    let p = plans();
    let one = [open("inc-9", "hpe", &[])];
    assert_eq!(
        match_caller("+15559999999", &p, &one),
        CallerMatch::Matched {
            incident_id: "inc-9".into(),
            by: MatchedBy::OnlyOpen
        }
    );
    let two = [open("inc-9", "hpe", &[]), open("inc-1", "dell", &[])];
    assert_eq!(
        match_caller("+15559999999", &p, &two),
        CallerMatch::Unmatched
    );
    assert_eq!(match_caller("anonymous", &p, &[]), CallerMatch::Unmatched);
    // With case numbers stored, an unknown caller is asked; no digits -> the fallback.
    let cased = [open("inc-9", "hpe", &["777"])];
    assert_eq!(
        match_caller("+15559999999", &p, &cased),
        CallerMatch::AskCaseNumber { vendor: None }
    );
    assert!(matches!(
        match_case("", None, &cased),
        CallerMatch::Matched {
            by: MatchedBy::OnlyOpen,
            ..
        }
    ));
}

#[test]
fn response_clock() {
    let t0 = Utc
        .with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
        .single()
        .expect("valid");
    let min = |m: i64| t0 + chrono::Duration::minutes(m);
    let within = Duration::from_secs(15 * 60);
    assert_eq!(response_verdict(None, None, within, min(30)), None);
    assert_eq!(
        response_verdict(Some(t0), None, within, min(5)),
        Some(ResponseVerdict::Waiting { deadline: min(15) })
    );
    assert_eq!(
        response_verdict(Some(t0), Some(min(12)), within, min(30)),
        Some(ResponseVerdict::Met {
            after: Duration::from_secs(12 * 60)
        })
    );
    assert_eq!(
        response_verdict(Some(t0), Some(min(16)), within, min(30)),
        Some(ResponseVerdict::Missed {
            after: Some(Duration::from_secs(16 * 60))
        })
    );
    assert_eq!(
        response_verdict(Some(t0), None, within, min(16)),
        Some(ResponseVerdict::Missed { after: None })
    );
    // Exactly at the deadline still counts.
    assert_eq!(
        response_verdict(Some(t0), Some(min(15)), within, min(30)).map(|v| v.as_str()),
        Some("met")
    );
}
