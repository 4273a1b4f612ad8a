//! Timeline event kinds: what an auditor sees, in the order it happened.

use super::termination::Outcome;
use serde::Serialize;

/// One thing that happened on a call. Serialized as `{"kind": "...", ...fields}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    InviteSent {
        cseq: u32,
        authenticated: bool,
    },
    Retransmit {
        method: String,
        cseq: u32,
    },
    Provisional {
        code: u16,
        reason: String,
    },
    /// A 401/407: `realm` of the first challenge, `stale` if its nonce merely expired.
    Challenged {
        code: u16,
        realm: String,
        stale: bool,
    },
    /// A challenge we would not answer (foreign realm or source, no usable algorithm):
    /// no digest was sent.
    ChallengeRefused {
        code: u16,
        reason: String,
    },
    FinalResponse {
        code: u16,
        reason: String,
    },
    Answered {
        code: u16,
    },
    AckSent {
        cseq: u32,
    },
    EarlyMedia,
    CancelSent {
        reason: String,
    },
    ByeSent {
        reason: String,
    },
    ByeReceived,
    ByeResponse {
        code: u16,
    },
    ReinviteReceived {
        direction: String,
    },
    OptionsReceived,
    RequestRejected {
        method: String,
        code: u16,
    },
    /// A SIP response that answers none of our transactions (unknown branch) or came from an
    /// address we sent nothing to; dropped. Sampled: `count` is the running total.
    ResponseRejected {
        code: u16,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        why: String,
        count: u64,
    },
    /// RTP from a source other than the one the SDP named (or latched); dropped. Sampled.
    MediaRejected {
        from: String,
        why: String,
        count: u64,
    },
    MenuStep {
        index: usize,
        step: String,
    },
    MenuDone,
    DtmfSent {
        digit: char,
        duration_ms: u32,
    },
    DtmfReceived {
        digit: char,
        duration_ms: u32,
    },
    PlaybackStarted {
        source: String,
    },
    PlaybackFinished {
        source: String,
    },
    BriefingRepeated {
        reason: String,
    },
    MediaFirstTx {
        to: String,
    },
    MediaFirstRx {
        from: String,
    },
    MediaLatched {
        from: String,
    },
    /// Media runs as SRTP with keys from the SDP (RFC 4568); never the keys themselves.
    MediaSecured {
        suite: String,
    },
    MaxDuration,
    /// The operator bridge: a join link was minted for this call.
    JoinLinkMinted {
        listen_only: bool,
    },
    /// An operator joined (`via`: "webrtc" or "phone"); listen-only legs are never heard.
    OperatorJoined {
        leg: String,
        name: String,
        via: String,
        listen_only: bool,
    },
    OperatorLeft {
        leg: String,
        reason: String,
    },
    OperatorMuted {
        leg: String,
        muted: bool,
    },
    /// An operator stopped the briefing (the menu ends) to talk.
    OperatorTookOver {
        leg: String,
    },
    /// Whoever picked up owns it: the vendor's case number and engineer, stored on the incident.
    Ownership {
        leg: String,
        vendor_case: Option<String>,
        engineer: Option<String>,
    },
    /// The listener on the vendor channel: a sound began or ended (`sound`: silence, tone,
    /// music, speech), back-dated to its first or last frame.
    SoundStarted {
        sound: String,
    },
    SoundEnded {
        sound: String,
    },
    /// The speech that began here is a recording (`why`: known_prompt, repeat, menu, ...).
    Recording {
        why: String,
    },
    /// `wait = "prompt"` ended: the prompt finished, or the cap was reached.
    PromptEnded {
        capped: bool,
    },
    /// hotline said its probe line ("Hello, can you hear me?") into unknown speech's pause.
    ProbeSent,
    /// Speech began after the probe.
    ReplyHeard,
    /// A person is on the line; their first words began `onset_ms_before` earlier.
    HumanDetected {
        confidence: f32,
        evidence: Vec<String>,
        onset_ms_before: u64,
    },
    /// An operator labelled the line (ground truth). `listener_human`: whether a person had
    /// been detected then; `disputed`: the label says machine where a person was detected
    /// (the detection stays in the record, flagged).
    OperatorLabel {
        label: String,
        by: String,
        listener_human: bool,
        disputed: bool,
    },
    /// The listener's worker fell its queue's length behind and dropped received audio unheard
    /// (`dropped` frames so far on this call). Sampled.
    ListenerBehind {
        dropped: u64,
    },
    /// `wait = "human"` ran out.
    NoHuman {
        waited_ms: u64,
    },
    /// The SLA ran out before what it is measured to happened (`basis` human: no person on
    /// the line `within_ms` after the INVITE). The verdict is a miss from here on.
    SlaMissed {
        basis: super::record::SlaBasis,
        within_ms: u64,
    },
    Ended {
        result: Outcome,
    },
    /// hotline stopped during the call (crash, or kill); written by the next start.
    Interrupted {
        reason: String,
    },
    /// Our BYE got no final response (Timer F) or could not be sent.
    ByeFailed {
        reason: String,
    },
    /// RFC 4028: the 2xx set a session interval; `refresher` keeps it alive ("us" or
    /// "far end"), the other side ends the call if no refresh comes.
    SessionTimer {
        secs: u32,
        refresher: String,
    },
    /// A 422 (Session Interval Too Small): the INVITE goes again asking for `min_se`.
    IntervalTooSmall {
        min_se: u32,
    },
    /// We refreshed the session (`method`: INVITE or UPDATE).
    SessionRefreshSent {
        method: String,
        secs: u32,
    },
    /// A refresh succeeded (`by`: "us" or "far end"); the session runs `secs` from here.
    SessionRefreshed {
        by: String,
        secs: u32,
    },
    /// Our refresh was refused (`code`); the session may still expire.
    SessionRefreshFailed {
        code: u16,
    },
    /// The far end was the refresher and let the session expire: we hang up.
    SessionExpired {
        secs: u32,
    },
    /// The far end put us on hold (`direction`: ours after the re-INVITE, recvonly or
    /// inactive) or took us off it: the recording goes on, silent where no audio comes.
    Hold {
        direction: String,
    },
    Unhold,
    /// Inbound: the caller's INVITE arrived (the call's first stage).
    OfferReceived {
        cseq: u32,
    },
    /// Inbound: the caller's offer could not be answered (488 sent).
    OfferRefused {
        why: String,
    },
    /// Inbound: we sent 180 Ringing.
    RingingSent,
    /// Inbound: hotline answered (our 200 OK with the SDP answer).
    AnsweredLocal {
        code: u16,
    },
    /// Inbound: the ACK of our 200 arrived (the dialog is confirmed).
    AckReceived {
        cseq: u32,
    },
    /// Inbound: the caller cancelled before we answered (487 sent).
    CancelReceived,
    /// Inbound: no ACK for our 200 within Timer H.
    NoAck,
    /// Callback: the call was tied to an incident (`by`: how, most certain first).
    CallbackMatched {
        incident_id: String,
        by: String,
    },
    /// Callback: no incident could be tied to the call (it still rings the on-call).
    CallbackUnmatched,
    /// Callback: "enter your case number, then hash" was played.
    CaseNumberAsked,
    /// Callback: the caller keyed these digits (without the `#`).
    CaseNumberKeyed {
        digits: String,
    },
    /// Callback: operators are being rung (join link announced, `[[operators]]` phones).
    OperatorsRung {
        within_ms: u64,
    },
    /// Callback: no operator joined in time; the caller may leave a message.
    OperatorsNoAnswer,
    /// Callback: the message starts (after the beep) and may run this long.
    MessageStarted {
        max_ms: u64,
    },
}

impl EventKind {
    /// A digest challenge arrived (its first header names the realm and staleness).
    pub fn challenged(code: u16, challenges: &[super::digest::Challenge]) -> Self {
        let first = challenges.first();
        EventKind::Challenged {
            code,
            realm: first.map(|c| c.realm.clone()).unwrap_or_default(),
            stale: first.is_some_and(|c| c.stale),
        }
    }

    /// The `kind` tag as it appears in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::InviteSent { .. } => "invite_sent",
            EventKind::Retransmit { .. } => "retransmit",
            EventKind::Provisional { .. } => "provisional",
            EventKind::Challenged { .. } => "challenged",
            EventKind::ChallengeRefused { .. } => "challenge_refused",
            EventKind::FinalResponse { .. } => "final_response",
            EventKind::Answered { .. } => "answered",
            EventKind::AckSent { .. } => "ack_sent",
            EventKind::EarlyMedia => "early_media",
            EventKind::CancelSent { .. } => "cancel_sent",
            EventKind::ByeSent { .. } => "bye_sent",
            EventKind::ByeReceived => "bye_received",
            EventKind::ByeResponse { .. } => "bye_response",
            EventKind::ReinviteReceived { .. } => "reinvite_received",
            EventKind::OptionsReceived => "options_received",
            EventKind::RequestRejected { .. } => "request_rejected",
            EventKind::ResponseRejected { .. } => "response_rejected",
            EventKind::MediaRejected { .. } => "media_rejected",
            EventKind::MenuStep { .. } => "menu_step",
            EventKind::MenuDone => "menu_done",
            EventKind::DtmfSent { .. } => "dtmf_sent",
            EventKind::DtmfReceived { .. } => "dtmf_received",
            EventKind::PlaybackStarted { .. } => "playback_started",
            EventKind::PlaybackFinished { .. } => "playback_finished",
            EventKind::BriefingRepeated { .. } => "briefing_repeated",
            EventKind::MediaFirstTx { .. } => "media_first_tx",
            EventKind::MediaSecured { .. } => "media_secured",
            EventKind::MediaFirstRx { .. } => "media_first_rx",
            EventKind::MediaLatched { .. } => "media_latched",
            EventKind::MaxDuration => "max_duration",
            EventKind::JoinLinkMinted { .. } => "join_link_minted",
            EventKind::OperatorJoined { .. } => "operator_joined",
            EventKind::OperatorLeft { .. } => "operator_left",
            EventKind::OperatorMuted { .. } => "operator_muted",
            EventKind::OperatorTookOver { .. } => "operator_took_over",
            EventKind::Ownership { .. } => "ownership",
            EventKind::SoundStarted { .. } => "sound_started",
            EventKind::SoundEnded { .. } => "sound_ended",
            EventKind::Recording { .. } => "recording",
            EventKind::PromptEnded { .. } => "prompt_ended",
            EventKind::ProbeSent => "probe_sent",
            EventKind::ReplyHeard => "reply_heard",
            EventKind::HumanDetected { .. } => "human_detected",
            EventKind::OperatorLabel { .. } => "operator_label",
            EventKind::ListenerBehind { .. } => "listener_behind",
            EventKind::NoHuman { .. } => "no_human",
            EventKind::SlaMissed { .. } => "sla_missed",
            EventKind::Ended { .. } => "ended",
            EventKind::Interrupted { .. } => "interrupted",
            EventKind::ByeFailed { .. } => "bye_failed",
            EventKind::SessionTimer { .. } => "session_timer",
            EventKind::IntervalTooSmall { .. } => "interval_too_small",
            EventKind::SessionRefreshSent { .. } => "session_refresh_sent",
            EventKind::SessionRefreshed { .. } => "session_refreshed",
            EventKind::SessionRefreshFailed { .. } => "session_refresh_failed",
            EventKind::SessionExpired { .. } => "session_expired",
            EventKind::Hold { .. } => "hold",
            EventKind::Unhold => "unhold",
            EventKind::OfferReceived { .. } => "offer_received",
            EventKind::OfferRefused { .. } => "offer_refused",
            EventKind::RingingSent => "ringing_sent",
            EventKind::AnsweredLocal { .. } => "answered_local",
            EventKind::AckReceived { .. } => "ack_received",
            EventKind::CancelReceived => "cancel_received",
            EventKind::NoAck => "no_ack",
            EventKind::CallbackMatched { .. } => "callback_matched",
            EventKind::CallbackUnmatched => "callback_unmatched",
            EventKind::CaseNumberAsked => "case_number_asked",
            EventKind::CaseNumberKeyed { .. } => "case_number_keyed",
            EventKind::OperatorsRung { .. } => "operators_rung",
            EventKind::OperatorsNoAnswer => "operators_no_answer",
            EventKind::MessageStarted { .. } => "message_started",
        }
    }
}
