//! RFC 4028 session timers: the header values and the arithmetic. Pure; the call core
//! (`machine/session.rs`) arms the timers, `crate::sip` reads and writes the headers.

use std::time::Duration;

/// The session interval we ask for in our INVITE (`Session-Expires`), seconds: RFC 4028 §4
/// recommends 1800.
pub const SESSION_EXPIRES: u32 = 1800;
/// The smallest interval we accept from the far end (`Min-SE`): the RFC's floor (§4).
pub const MIN_SE: u32 = 90;
/// A far end that names an interval under the RFC's 90 s floor is honoured down to this
/// (a refresh storm is never our doing).
pub const SHORTEST: u32 = 2;

/// The `refresher` parameter, as the wire has it: the UAC or UAS of the transaction that
/// negotiated the interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

impl Refresher {
    pub fn as_str(self) -> &'static str {
        match self {
            Refresher::Uac => "uac",
            Refresher::Uas => "uas",
        }
    }
}

/// A `Session-Expires` value: `1800;refresher=uac`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    pub secs: u32,
    pub refresher: Option<Refresher>,
}

impl SessionExpires {
    /// Parses a header value; `None` for anything malformed (the header is then ignored).
    pub fn parse(value: &str) -> Option<SessionExpires> {
        let mut parts = value.split(';');
        let secs: u32 = parts.next()?.trim().parse().ok()?;
        if secs == 0 {
            return None;
        }
        let mut refresher = None;
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("refresher")
            {
                refresher = match v.trim().to_ascii_lowercase().as_str() {
                    "uac" => Some(Refresher::Uac),
                    "uas" => Some(Refresher::Uas),
                    _ => None,
                };
            }
        }
        Some(SessionExpires { secs, refresher })
    }

    /// The header value.
    pub fn value(&self) -> String {
        match self.refresher {
            Some(r) => format!("{};refresher={}", self.secs, r.as_str()),
            None => self.secs.to_string(),
        }
    }
}

/// `Min-SE: 90` (parameters ignored).
pub fn parse_min_se(value: &str) -> Option<u32> {
    value.split(';').next()?.trim().parse().ok()
}

/// What a SIP message said about session timers (and UPDATE, the cheap refresh).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerHeaders {
    pub session_expires: Option<SessionExpires>,
    pub min_se: Option<u32>,
    /// `timer` in `Supported` or `Require`.
    pub supports_timer: bool,
    /// `UPDATE` in `Allow` (RFC 3311): a refresh may be an UPDATE without SDP.
    pub allows_update: bool,
}

/// The session-timer headers of a request we send (`Supported: timer` goes with them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerRequest {
    pub expires: SessionExpires,
    pub min_se: u32,
}

/// The session-timer headers of our 2xx to a far-end refresh (RFC 4028 §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerAnswer {
    pub expires: SessionExpires,
    /// `Require: timer`: the request said it supports timers.
    pub require: bool,
}

/// Who keeps the session alive, seen from our side of the dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keeper {
    Us,
    Them,
}

impl Keeper {
    pub fn as_str(self) -> &'static str {
        match self {
            Keeper::Us => "us",
            Keeper::Them => "far end",
        }
    }
}

/// The refresher sends its refresh half-way through the interval (§7.4, §10).
pub fn refresh_after(secs: u32) -> Duration {
    Duration::from_millis(u64::from(secs) * 500)
}

/// With no refresh, the other side sends a BYE this long after the last one: the interval
/// less min(32 s, a third of it) (§10).
pub fn bye_after(secs: u32) -> Duration {
    let secs = u64::from(secs) * 1000;
    Duration::from_millis(secs - (secs / 3).min(32_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_session_expires() {
        let se = SessionExpires::parse("1800;refresher=uac").expect("valid");
        assert_eq!(se.secs, 1800);
        assert_eq!(se.refresher, Some(Refresher::Uac));
        assert_eq!(se.value(), "1800;refresher=uac");
        let se = SessionExpires::parse(" 90 ; Refresher = UAS").expect("valid");
        assert_eq!((se.secs, se.refresher), (90, Some(Refresher::Uas)));
        assert_eq!(SessionExpires::parse("600").expect("valid").refresher, None);
        for bad in ["", "x", "-1", "0", "99999999999;refresher=uac"] {
            assert_eq!(SessionExpires::parse(bad), None, "{bad}");
        }
        assert_eq!(parse_min_se("1200"), Some(1200));
        assert_eq!(parse_min_se("abc"), None);
    }

    #[test]
    fn refresh_and_bye_times() {
        assert_eq!(refresh_after(1800), Duration::from_secs(900));
        // 1800 s: BYE 32 s before expiry; 90 s: 30 s before; 3 s: 1 s before.
        assert_eq!(bye_after(1800), Duration::from_secs(1768));
        assert_eq!(bye_after(90), Duration::from_secs(60));
        assert_eq!(bye_after(3), Duration::from_secs(2));
    }
}
