//! What goes into and comes out of the call core. SIP-neutral: the SIP edge (`crate::sip`)
//! translates wire messages to and from these.

use super::digest::{Authorization, Challenge};
use super::event::EventKind;
use super::ids::{Branch, Method, RequestHandle, Tag};
use super::session_timer::{TimerAnswer, TimerHeaders, TimerRequest};
use super::termination::Termination;
use crate::media::sdp::Direction;

/// A response to one of our requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// CSeq number and method: which of our transactions this answers.
    pub cseq: u32,
    pub method: Method,
    /// Top Via branch.
    pub branch: Option<Branch>,
    pub to_tag: Option<Tag>,
    /// The Contact URI (the dialog's remote target), as text.
    pub contact: Option<String>,
    /// Record-Route header values, in received order.
    pub record_route: Vec<String>,
    /// An `application/sdp` body.
    pub sdp: Option<String>,
    /// Every digest challenge of a 401/407 (one per WWW-/Proxy-Authenticate header).
    pub challenges: Vec<Challenge>,
    /// Where the response came from (set by the endpoint; checked before answering a challenge).
    pub source: Option<std::net::SocketAddr>,
    /// Session-timer headers (RFC 4028) and whether `Allow` names UPDATE.
    pub timer: TimerHeaders,
}

/// A request from the far end within our call (same Call-ID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub cseq: u32,
    pub branch: Branch,
    /// The To tag: must be ours for an in-dialog request.
    pub to_tag: Option<Tag>,
    pub handle: RequestHandle,
    pub sdp: Option<String>,
    /// Session-timer headers (RFC 4028): a far-end refresh.
    pub timer: TimerHeaders,
}

/// What the listener on the vendor channel reports (`crate::listen`, via the call task).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    SpeechStarted,
    SpeechEnded,
    /// Unknown speech paused during a hold: say the probe line now.
    ProbeWanted,
    /// A person is on the line; their first words began at `onset`.
    Human {
        onset: std::time::Instant,
        /// Percent.
        confidence: u8,
        evidence: Vec<String>,
    },
}

/// What an operator on the bridge says is on the vendor's side of the line (ground truth for
/// the listener's person decision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// "a person is here".
    Person,
    /// "still a machine" (music, a recording, an IVR).
    Machine,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Person => "person",
            Label::Machine => "machine",
        }
    }

    /// `"person"` or `"machine"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(Label::Person),
            "machine" => Some(Label::Machine),
            _ => None,
        }
    }
}

/// Inputs to [`super::Call::handle_input`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Response(Response),
    Request(Request),
    /// The transport could not deliver a request (ICMP unreachable, TCP refused or reset).
    TransportError(String),
    /// Where our requests go said it is not there (ICMP port unreachable for it, or its TCP
    /// connection closed). Ends the attempt only while nothing has been heard back.
    TrunkUnreachable(String),
    /// The media side finished sending the DTMF digits of the current menu step.
    DtmfFinished,
    /// The media side finished playing the current audio.
    PlaybackFinished,
    /// The far end sent a DTMF digit (RFC 4733).
    DtmfReceived(char),
    /// The far end is speaking (energy on the received audio).
    RemoteActivity,
    /// Hang up (or cancel) now: shutdown, operator, incident resolved.
    Hangup(String),
    /// Cancel if not yet answered; an answered call is left alone.
    CancelIfRinging(String),
    /// An operator joined the call through the bridge: the menu's closing `hangup` step no
    /// longer hangs up (the people on the line end the call).
    OperatorJoined,
    /// An operator takes over: what plays stops and the menu walk ends here.
    TakeOver,
    /// Play the briefing again now (an operator asked; the reason goes on the timeline).
    ReplayBriefing(String),
    /// The listener heard something (menu steps `wait = "prompt"` / `"human"` act on it).
    Heard(Heard),
    /// An operator on the bridge labelled the line (`by`: who, as the store has it).
    Labelled {
        label: Label,
        by: String,
    },
}

/// A request the edge must build and send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutRequest {
    pub method: Method,
    pub cseq: u32,
    pub branch: Branch,
    /// The remote tag once the dialog (or early dialog) exists.
    pub to_tag: Option<Tag>,
    /// Request-URI for in-dialog requests (the remote target); `None` = the dialled URI.
    pub target: Option<String>,
    /// Route set from Record-Route (reversed per RFC 3261 §12.1.2).
    pub routes: Vec<String>,
    pub sdp: Option<String>,
    /// Credentials to send (one per realm), computed by the edge from the configured password.
    pub auth: Vec<Authorization>,
    /// Reason header text (RFC 3326) for CANCEL and BYE.
    pub reason: Option<String>,
    /// Session-timer headers (RFC 4028) with `Supported: timer`: our INVITE and refreshes.
    pub timer: Option<TimerRequest>,
}

/// A response the edge must build for an inbound request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutResponse {
    pub handle: RequestHandle,
    pub status: u16,
    pub reason: &'static str,
    pub sdp: Option<String>,
    /// `Session-Expires` (and `Require: timer`) in our 2xx to a far-end refresh.
    pub timer: Option<TimerAnswer>,
}

/// A message to put on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    Request(OutRequest),
    Response(OutResponse),
}

/// What the media side must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaCommand {
    /// Start (or re-target) RTP from an SDP answer. `early` for 183 early media.
    Start {
        early: bool,
        remote: std::net::SocketAddr,
        codec: crate::media::g711::Codec,
        codec_pt: crate::media::rtp::PayloadType,
        dtmf_pt: Option<crate::media::rtp::PayloadType>,
        /// SDES-SRTP keys; `None`: plain RTP (and RTCP).
        srtp: Option<crate::media::srtp::SrtpKeys>,
        /// Where RTCP goes (RFC 3550 §11, RFC 5761, RFC 3605).
        rtcp: crate::media::rtcp::RtcpPeer,
    },
    /// The far end changed direction (hold/unhold); `Direction` is ours after negotiation.
    Direction(Direction),
    /// Send these digits as RFC 4733 events, each for `duration_ms`, one after another.
    SendDtmf { digits: String, duration_ms: u32 },
    /// Play this source (a menu `play` value) until it ends.
    Play { source: String },
    /// Stop what is playing (the menu walk has ended; sending goes on).
    StopPlayback,
    /// The listener's hold mode: on, unknown speech after a pause asks for the probe line;
    /// off, speech is the IVR.
    Probing(bool),
    /// Tell the listener what an operator labelled the line (it learns a wrong person as a
    /// recording, or stops deciding once told a person is there).
    Labelled(Label),
    /// Stop sending and receiving.
    Stop,
}

/// Outputs from [`super::Call::poll_output`].
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send a message. `note` is logged on the timeline at the moment the bytes leave.
    Send {
        msg: Outgoing,
        note: Option<EventKind>,
    },
    Media(MediaCommand),
    /// Something happened at `at` (an input's receive time, or a timer's).
    Event {
        at: std::time::Instant,
        kind: EventKind,
    },
    /// The call has a final outcome (emitted once). The core may linger to absorb retransmissions.
    Terminated(Termination),
}

/// A confirmed dialog as the far end knows it (RFC 3261 §12.1.2): with the call's Call-ID,
/// local tag and URIs, enough to send the BYE that ends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogState {
    pub remote_tag: Tag,
    /// The remote target (their Contact); `None`: the dialled URI.
    pub target: Option<String>,
    /// The route set, in the order Route headers are sent.
    pub routes: Vec<String>,
    /// Our next CSeq number in the dialog.
    pub next_cseq: u32,
}
