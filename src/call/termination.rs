//! Every way a call ends, named once (livekit-sip style): feeds the record, the log and the exit code.

use serde::Serialize;
use std::fmt;

/// The outcome class of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx was received: someone (or something) picked up.
    Answered,
    /// 486 / 600 / 603-like busy signals.
    Busy,
    /// Ringing without answer until our ring timeout, or 408/480 from the far end.
    NoAnswer,
    /// Any other final response (3xx redirects included: hotline never follows them).
    Rejected,
    /// We cancelled for a reason other than the ring timeout (shutdown, incident resolved).
    Cancelled,
    /// Transport error, no response at all, bad SDP, authentication failure.
    Failed,
}

impl Outcome {
    /// The process exit status `hotline dial` uses for this outcome.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Answered => 0,
            Outcome::Busy => 3,
            Outcome::NoAnswer => 4,
            Outcome::Rejected | Outcome::Cancelled | Outcome::Failed => 5,
        }
    }
}

/// Which side ended an answered call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Local,
    Remote,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Termination {
    pub result: Outcome,
    /// The SIP status code that decided it, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    pub reason: String,
    /// Who hung up an answered call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hangup_by: Option<Party>,
}

impl Termination {
    /// A termination without a status code.
    pub fn new(result: Outcome, reason: impl Into<String>) -> Self {
        Self {
            result,
            code: None,
            reason: reason.into(),
            hangup_by: None,
        }
    }

    /// Classifies a final non-2xx response to our INVITE by its status code
    /// (the reason phrase is kept as the far end sent it).
    pub fn from_final(code: u16, reason: &str) -> Self {
        let result = match code {
            486 | 600 => Outcome::Busy,
            408 | 480 => Outcome::NoAnswer,
            487 => Outcome::Cancelled,
            _ => Outcome::Rejected,
        };
        let reason = if (300..400).contains(&code) {
            format!("{reason} (redirect not followed: destinations come only from the dialplan)")
        } else {
            reason.to_string()
        };
        Self {
            result,
            code: Some(code),
            reason,
            hangup_by: None,
        }
    }
}

/// Whose doing a call's end is: the scorecard, `/metrics` and the SLA verdict count only the
/// vendor's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The vendor's line answered, was busy, did not answer, or refused the call.
    Vendor,
    /// Ours: credentials challenged or refused (401/407), the trunk or network unreachable,
    /// hotline stopped during the call, the call not set up.
    Gateway,
    /// We withdrew the call before an answer (incident resolved, operator stop, shutdown).
    Withdrawn,
}

/// Reason texts that only our side produces (the call core, the ladder, crash recovery).
const GATEWAY_REASONS: &[&str] = &[
    "interrupted",
    "trunk unreachable",
    "transport error",
    "no response to INVITE",
    "authentication required",
    "call could not be set up",
    "call task failed",
    "no termination",
];

impl Side {
    /// Attributes an end from its parts (as stored: result, status code, reason).
    pub fn of(result: Outcome, code: Option<u16>, reason: &str) -> Side {
        if GATEWAY_REASONS.iter().any(|p| reason.starts_with(p)) {
            return Side::Gateway;
        }
        match (result, code) {
            (Outcome::Answered, _) => Side::Vendor,
            (_, Some(401 | 407)) => Side::Gateway,
            (Outcome::Cancelled, _) => Side::Withdrawn,
            _ => Side::Vendor,
        }
    }

    /// The label value in `/metrics` and the console.
    pub fn name(self) -> &'static str {
        match self {
            Side::Vendor => "vendor",
            Side::Gateway => "gateway",
            Side::Withdrawn => "withdrawn",
        }
    }
}

impl Termination {
    /// Whose doing this end is.
    pub fn side(&self) -> Side {
        Side::of(self.result, self.code, &self.reason)
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = serde_json::to_value(self.result).ok();
        let name = r.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
        match self.code {
            Some(c) => write!(f, "{name} ({c} {})", self.reason),
            None => write!(f, "{name} ({})", self.reason),
        }
    }
}
