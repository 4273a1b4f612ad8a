//! Trunk faults, failover order and health in simulated time.

use super::*;

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn which_ends_are_the_trunks_fault() {
    let unreachable = Termination::new(Outcome::Failed, "trunk unreachable: port unreachable");
    assert!(
        trunk_fault(&unreachable)
            .unwrap()
            .contains("port unreachable")
    );
    let no_trying = Termination::new(
        Outcome::Failed,
        "trunk unreachable: no response to INVITE within 2s",
    );
    assert!(trunk_fault(&no_trying).is_some());
    let overloaded = Termination::from_final(503, "Service Unavailable");
    assert_eq!(
        trunk_fault(&overloaded).as_deref(),
        Some("503 Service Unavailable")
    );
    for vendor in [
        Termination::from_final(486, "Busy Here"),
        Termination::from_final(404, "Not Found"),
        Termination::from_final(480, "Temporarily Unavailable"),
        Termination::new(Outcome::Answered, "remote hangup"),
        Termination::new(Outcome::Cancelled, "incident resolved"),
    ] {
        assert_eq!(trunk_fault(&vendor), None, "{vendor:?}");
    }
}

#[test]
fn failover_order_prefers_the_contact_and_puts_down_trunks_last() {
    let t0 = Instant::now();
    let all = names(&["a", "b", "c"]);
    let every = Duration::from_secs(30);
    let mut h = Health::new(
        t0,
        &[
            ("a".into(), Some(every)),
            ("b".into(), Some(every)),
            ("c".into(), Some(every)),
        ],
    );
    assert_eq!(failover_order(&[], &all, &h), all);
    assert_eq!(
        failover_order(&names(&["c", "a"]), &all, &h),
        names(&["c", "a"])
    );
    h.on_failure(t0, "a", "trunk unreachable: connection refused");
    assert_eq!(failover_order(&[], &all, &h), names(&["b", "c", "a"]));
    // Only down trunks left: still tried (a P0 is never dropped).
    assert_eq!(failover_order(&names(&["a"]), &all, &h), names(&["a"]));
    // It answers again: back in its place.
    h.on_reply(t0 + Duration::from_secs(1), "a", 200);
    assert_eq!(failover_order(&[], &all, &h), all);
}

#[test]
fn pings_rtt_timeouts_and_recovery() {
    let t0 = Instant::now();
    let mut h = Health::new(
        t0,
        &[
            ("a".into(), Some(Duration::from_secs(10))),
            ("b".into(), Some(Duration::from_secs(10))),
        ],
    );
    assert_eq!(h.poll_timeout(), Some(t0));
    assert_eq!(h.due(t0), names(&["a", "b"]));
    assert!(h.due(t0).is_empty(), "in flight");
    assert_eq!(h.poll_timeout(), Some(t0 + PING_TIMEOUT));
    // a answers 405 (OPTIONS not allowed is still alive) after 40 ms.
    assert!(h.on_reply(t0 + Duration::from_millis(40), "a", 405));
    let a = h.get("a").unwrap();
    assert_eq!(a.up, Some(true));
    assert_eq!(a.rtt, Some(Duration::from_millis(40)));
    // b never answers: down at the ping timeout.
    assert!(h.handle_timeout(t0 + Duration::from_secs(1)).is_empty());
    assert_eq!(h.handle_timeout(t0 + PING_TIMEOUT), names(&["b"]));
    assert!(h.is_down("b"));
    assert!(
        h.get("b")
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("OPTIONS")
    );
    // Next pings: a at its interval after the reply, b at the interval after the failure.
    assert_eq!(
        h.poll_timeout(),
        Some(t0 + Duration::from_millis(40) + Duration::from_secs(10))
    );
    let later = t0 + PING_TIMEOUT + Duration::from_secs(10);
    assert_eq!(h.due(later), names(&["a", "b"]));
    assert!(
        h.on_reply(later + Duration::from_millis(5), "b", 200),
        "b up again"
    );
    assert!(!h.is_down("b"));
    // A 503 reply is a failure.
    h.due(later + Duration::from_secs(20));
    assert!(h.on_reply(later + Duration::from_secs(20), "b", 503));
    assert!(h.is_down("b"));
}

#[test]
fn a_reload_adds_and_drops_trunks_and_keeps_what_is_known() {
    let t0 = Instant::now();
    let every = Duration::from_secs(30);
    let mut h = Health::new(t0, &[("a".into(), Some(every)), ("b".into(), Some(every))]);
    h.due(t0);
    h.on_failure(t0, "a", "port unreachable");
    h.sync(t0, &[("a".into(), Some(every)), ("c".into(), Some(every))]);
    assert!(h.is_down("a"), "what is known of a stays");
    assert!(h.get("b").is_none(), "b is gone");
    assert_eq!(h.due(t0), names(&["c"]), "c's first ping is due at once");
}

#[test]
fn a_trunk_without_pings_is_never_due_and_learns_from_its_calls() {
    let t0 = Instant::now();
    let mut h = Health::new(t0, &[("quiet".into(), None)]);
    assert!(h.due(t0).is_empty());
    assert_eq!(h.poll_timeout(), None);
    assert!(h.on_failure(t0, "quiet", "trunk unreachable: port unreachable"));
    assert!(h.is_down("quiet"));
    assert_eq!(h.poll_timeout(), None, "no ping scheduled after a fault");
    assert!(h.on_call_reply("quiet"), "a call got through: up again");
    assert!(!h.is_down("quiet"));
    assert_eq!(h.poll_timeout(), None);
}
