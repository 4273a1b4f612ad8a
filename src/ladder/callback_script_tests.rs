use super::*;

fn open() -> Vec<OpenIncident> {
    vec![
        OpenIncident {
            incident_id: "inc_a".into(),
            dialplan: "acme".into(),
            case_numbers: vec!["CS-0042".into()],
        },
        OpenIncident {
            incident_id: "inc_b".into(),
            dialplan: "acme".into(),
            case_numbers: Vec::new(),
        },
    ]
}

fn script(first: CallerMatch) -> CallbackScript {
    CallbackScript::new(ScriptParams {
        first,
        open: open(),
        ring_for: Duration::from_secs(20),
        digits_within: Duration::from_secs(5),
        message_max: Duration::from_secs(30),
    })
}

fn drain(s: &mut CallbackScript) -> Vec<ScriptOut> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

#[test]
fn a_matched_caller_hears_the_line_and_operators_are_rung_until_one_joins() {
    let t0 = Instant::now();
    let mut s = script(CallerMatch::Matched {
        incident_id: "inc_a".into(),
        by: MatchedBy::Contact("l1".into()),
    });
    let out = drain(&mut s);
    assert!(
        matches!(&out[0], ScriptOut::Event(EventKind::CallbackMatched { incident_id, .. }) if incident_id == "inc_a")
    );
    s.answered(t0);
    assert_eq!(drain(&mut s), vec![ScriptOut::Play(GREETING)]);
    s.playback_finished(t0 + Duration::from_secs(3));
    assert_eq!(
        drain(&mut s),
        vec![ScriptOut::Event(EventKind::OperatorsRung {
            within_ms: 20_000
        })]
    );
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(23)));
    s.operator_joined();
    assert_eq!(drain(&mut s), vec![ScriptOut::StopPlayback]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_case_number_keyed_in_ties_the_call_and_a_wrong_one_leaves_it_unmatched() {
    let t0 = Instant::now();
    let mut s = script(CallerMatch::AskCaseNumber { vendor: None });
    s.answered(t0);
    drain(&mut s);
    s.playback_finished(t0);
    assert_eq!(
        drain(&mut s),
        vec![
            ScriptOut::Event(EventKind::CaseNumberAsked),
            ScriptOut::Play(CASE_PROMPT)
        ]
    );
    // Keyed over the prompt: it stops.
    s.digit(t0, '0');
    for d in "042#".chars() {
        s.digit(t0, d);
    }
    let out = drain(&mut s);
    assert_eq!(out[0], ScriptOut::StopPlayback);
    assert!(out.contains(&ScriptOut::Event(EventKind::CallbackMatched {
        incident_id: "inc_a".into(),
        by: "case number CS-0042 keyed in".into()
    })));
    assert_eq!(s.matched().map(|m| m.0.as_str()), Some("inc_a"));

    // Two open incidents, wrong digits, no vendor: unmatched once the time runs out.
    let mut s = script(CallerMatch::AskCaseNumber { vendor: None });
    s.answered(t0);
    s.playback_finished(t0);
    s.playback_finished(t0);
    s.digit(t0, '9');
    drain(&mut s);
    s.handle_timeout(t0 + Duration::from_secs(5));
    let out = drain(&mut s);
    assert!(out.contains(&ScriptOut::Event(EventKind::CallbackUnmatched)));
    assert!(s.matched().is_none());
}

#[test]
fn nobody_joining_offers_a_message_that_ends_at_its_limit() {
    let t0 = Instant::now();
    let mut s = script(CallerMatch::Unmatched);
    s.answered(t0);
    s.playback_finished(t0);
    drain(&mut s);
    s.handle_timeout(t0 + Duration::from_secs(19));
    assert!(drain(&mut s).is_empty());
    let t1 = t0 + Duration::from_secs(20);
    s.handle_timeout(t1);
    assert_eq!(
        drain(&mut s),
        vec![
            ScriptOut::Event(EventKind::OperatorsNoAnswer),
            ScriptOut::Play(NO_ANSWER)
        ]
    );
    s.playback_finished(t1);
    assert_eq!(drain(&mut s), vec![ScriptOut::Play(BEEP)]);
    s.playback_finished(t1);
    assert_eq!(
        drain(&mut s),
        vec![ScriptOut::Event(EventKind::MessageStarted {
            max_ms: 30_000
        })]
    );
    s.handle_timeout(t1 + Duration::from_secs(30));
    assert_eq!(
        drain(&mut s),
        vec![ScriptOut::Hangup("message complete".into())]
    );
}
