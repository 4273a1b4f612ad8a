//! The operator bridge: the on-call engineer joins a live vendor call from a browser.
//!
//! - [`Registry`]: live calls by call id, join tokens (random, single use, expiring with the
//!   call or after `[bridge] join_ttl`) and the legs that redeemed them. Shared by the call
//!   tasks (which open and close their entry) and the HTTP routes (`web::join`).
//! - [`CallBridge`] (call_side.rs): the piece a call task owns once answered: the pure
//!   [`crate::media::mixer::Mixer`] run inside the call's own 20 ms tick, one bounded
//!   channel pair per leg (`try_send` only: a slow or gone browser never stalls the vendor).
//! - webrtc.rs: one browser leg (webrtc 0.21, PCMU both ways), its own task.

mod call_side;
pub mod phone;
pub mod webrtc;

pub use call_side::{Action, BridgeSetup, BridgeTap, CallBridge};

use crate::call::TimelineEvent;
use crate::media::mixer::{Frame, LegId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Frames toward a leg the call task may queue before dropping (100 ms).
pub const LEG_OUT_FRAMES: usize = 5;
/// Decoded packets from a leg queued toward the call task before dropping.
pub const LEG_IN_PACKETS: usize = 16;

/// What a leg or the HTTP side asks of a call task.
pub enum BridgeCmd {
    Join {
        leg: LegId,
        name: String,
        via: &'static str,
        listen_only: bool,
        /// Decoded audio from the operator.
        audio_in: mpsc::Receiver<Vec<i16>>,
        /// What the operator hears, one frame per tick.
        audio_out: mpsc::Sender<Frame>,
    },
    Leave {
        leg: LegId,
        reason: String,
    },
    Mute {
        leg: LegId,
        muted: bool,
    },
    /// RFC 4733 digits toward the vendor through the call's media session.
    Dtmf {
        leg: LegId,
        digits: String,
    },
    /// Stop the briefing (and the menu walk) to talk.
    TakeOver {
        leg: LegId,
    },
    /// Play the briefing again (an operator asked for it on the page).
    ReplayBriefing {
        leg: LegId,
    },
    /// Hang up the vendor call.
    Hangup {
        leg: LegId,
    },
    /// Ownership already stored on the incident; the timeline notes it.
    Ownership {
        leg: LegId,
        vendor_case: Option<String>,
        engineer: Option<String>,
    },
    /// An operator labelled the line ("a person is here" / "still a machine"); already
    /// stored with the call and chained.
    Label {
        label: crate::call::Label,
        by: String,
    },
    /// A writer minted a join link; the timeline notes it (without the token).
    LinkMinted {
        listen_only: bool,
    },
}

/// Why a join token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("unknown join link")]
    Unknown,
    #[error("this join link was already used")]
    Used,
    #[error("this join link has expired")]
    Expired,
    #[error("the call has ended")]
    CallEnded,
}

/// A live call as the HTTP side sees it.
#[derive(Clone)]
pub struct LiveCall {
    pub call_id: String,
    pub incident: Option<String>,
    pub cmds: mpsc::Sender<BridgeCmd>,
    /// The call's timeline so far (updated by the call task on every event).
    pub timeline: watch::Receiver<Arc<Vec<TimelineEvent>>>,
}

/// A redeemed token: one leg of one call.
#[derive(Clone)]
pub struct LegSession {
    pub call: LiveCall,
    pub leg: LegId,
    pub listen_only: bool,
    /// Signalled by an explicit leave (page closed, leave button).
    pub leave: Arc<tokio::sync::Notify>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenState {
    Fresh,
    Used,
    CallEnded,
}

struct Token {
    call_id: String,
    listen_only: bool,
    expires: Instant,
    state: TokenState,
}

#[derive(Default)]
struct Inner {
    calls: HashMap<String, LiveCall>,
    tokens: HashMap<String, Token>,
    legs: HashMap<String, LegSession>,
    next_leg: u32,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
    ttl: Duration,
    /// Told of every call that becomes joinable, by call id (the log and the notify
    /// webhook point operators at the console page; a link's token is never announced:
    /// it is a write capability, handed only to the writer who minted it).
    announce: Option<Announce>,
}

/// Told of news about a live call: (call id, what happened).
type Announce = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// A fresh random token: 128 bits, URL-safe hex.
fn random_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Registry {
    /// A registry whose links live at most `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::default(),
            ttl,
            announce: None,
        }
    }

    /// Tells `f` of news about live calls: (call id, what happened).
    pub fn with_announce(mut self, f: impl Fn(&str, &str) + Send + Sync + 'static) -> Self {
        self.announce = Some(Arc::new(f));
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A call was answered: it can be joined.
    pub fn open_call(&self, call: LiveCall) {
        let id = call.call_id.clone();
        self.lock().calls.insert(id.clone(), call);
        if let Some(f) = &self.announce {
            f(&id, "answered");
        }
    }

    /// The call ended: its links are refused from now on, its legs forgotten.
    pub fn close_call(&self, call_id: &str) {
        let mut g = self.lock();
        g.calls.remove(call_id);
        for t in g.tokens.values_mut().filter(|t| t.call_id == call_id) {
            t.state = TokenState::CallEnded;
        }
        g.legs.retain(|_, l| l.call.call_id != call_id);
    }

    /// A live call by id.
    pub fn call(&self, call_id: &str) -> Option<LiveCall> {
        self.lock().calls.get(call_id).cloned()
    }

    /// Mints a single-use link for a live call; `None` if it is not live. The token goes
    /// only to the caller (the writer who asked); the call's timeline notes the minting.
    pub fn mint(&self, call_id: &str, listen_only: bool) -> Option<String> {
        let now = Instant::now();
        let token = random_token();
        let cmds = {
            let mut g = self.lock();
            let cmds = g.calls.get(call_id)?.cmds.clone();
            // Forget links long dead (kept a while so a late click gets the right refusal).
            g.tokens
                .retain(|_, t| now < t.expires + Duration::from_secs(24 * 3600));
            g.tokens.insert(
                token.clone(),
                Token {
                    call_id: call_id.to_string(),
                    listen_only,
                    expires: now + self.ttl,
                    state: TokenState::Fresh,
                },
            );
            cmds
        };
        // Best effort: a full queue only loses the timeline mark, never the link.
        let _ = cmds.try_send(BridgeCmd::LinkMinted { listen_only });
        Some(token)
    }

    /// Tells the log and the notify webhook `news` about a live call (with its console page,
    /// never a link: a link is minted only for the writer who asks for it).
    pub fn announce(&self, call_id: &str, news: &str) {
        if let Some(f) = &self.announce {
            f(call_id, news);
        }
    }

    /// How many unused, unexpired links a live call has (never the tokens themselves).
    pub fn open_links(&self, call_id: &str) -> usize {
        let now = Instant::now();
        self.lock()
            .tokens
            .values()
            .filter(|t| t.call_id == call_id && t.state == TokenState::Fresh && now < t.expires)
            .count()
    }

    /// The call a known token is (or was) for, whatever its state: the page explains an
    /// ended call with its outcome.
    pub fn token_call(&self, token: &str) -> Option<String> {
        self.lock().tokens.get(token).map(|t| t.call_id.clone())
    }

    /// Checks a token without using it (the join page).
    pub fn check(&self, token: &str) -> Result<bool, JoinError> {
        Self::check_locked(&self.lock(), token)
    }

    fn check_locked(g: &Inner, token: &str) -> Result<bool, JoinError> {
        let t = g.tokens.get(token).ok_or(JoinError::Unknown)?;
        match t.state {
            TokenState::Used => Err(JoinError::Used),
            TokenState::CallEnded => Err(JoinError::CallEnded),
            TokenState::Fresh if Instant::now() >= t.expires => Err(JoinError::Expired),
            TokenState::Fresh if !g.calls.contains_key(&t.call_id) => Err(JoinError::CallEnded),
            TokenState::Fresh => Ok(t.listen_only),
        }
    }

    /// Uses a token: returns the new leg's session and its secret (the leg's own key for
    /// its later requests).
    pub fn redeem(&self, token: &str) -> Result<(String, LegSession), JoinError> {
        // One lock for the check and the use: two racing redeemers cannot both win.
        let mut g = self.lock();
        Self::check_locked(&g, token)?;
        let (call_id, listen_only) = {
            let t = g.tokens.get_mut(token).ok_or(JoinError::Unknown)?;
            t.state = TokenState::Used;
            (t.call_id.clone(), t.listen_only)
        };
        let call = g.calls.get(&call_id).cloned().ok_or(JoinError::CallEnded)?;
        g.next_leg += 1;
        let s = LegSession {
            call,
            leg: LegId(g.next_leg),
            listen_only,
            leave: Arc::default(),
        };
        let secret = random_token();
        g.legs.insert(secret.clone(), s.clone());
        Ok((secret, s))
    }

    /// A new leg id on a live call (for a leg that needs no join link: an operator phone).
    pub fn new_leg(&self, call_id: &str) -> Option<(LiveCall, LegId)> {
        let mut g = self.lock();
        let call = g.calls.get(call_id).cloned()?;
        g.next_leg += 1;
        Some((call, LegId(g.next_leg)))
    }

    /// A leg by its secret.
    pub fn leg(&self, secret: &str) -> Option<LegSession> {
        self.lock().legs.get(secret).cloned()
    }

    /// Forgets a leg.
    pub fn drop_leg(&self, secret: &str) {
        self.lock().legs.remove(secret);
    }

    /// Legs currently on a call.
    pub fn legs_of(&self, call_id: &str) -> usize {
        self.lock()
            .legs
            .values()
            .filter(|l| l.call.call_id == call_id)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(reg: &Registry, id: &str) -> mpsc::Receiver<BridgeCmd> {
        let (tx, rx) = mpsc::channel(4);
        let (_wtx, wrx) = watch::channel(Arc::new(vec![]));
        reg.open_call(LiveCall {
            call_id: id.into(),
            incident: None,
            cmds: tx,
            timeline: wrx,
        });
        rx
    }

    #[test]
    fn a_token_is_single_use() {
        let reg = Registry::new(Duration::from_secs(60));
        let _rx = live(&reg, "c1");
        let t = reg.mint("c1", false).expect("live");
        assert_eq!(reg.check(&t), Ok(false));
        let (secret, s) = reg.redeem(&t).expect("fresh");
        assert!(reg.leg(&secret).is_some());
        assert_eq!(s.leg, LegId(1));
        assert_eq!(reg.redeem(&t).err(), Some(JoinError::Used));
        assert_eq!(reg.check("nope").err(), Some(JoinError::Unknown));
    }

    #[test]
    fn tokens_expire_and_die_with_the_call() {
        let reg = Registry::new(Duration::ZERO);
        let _rx = live(&reg, "c1");
        let t = reg.mint("c1", true).expect("live");
        assert_eq!(reg.redeem(&t).err(), Some(JoinError::Expired));
        let reg = Registry::new(Duration::from_secs(60));
        let _rx = live(&reg, "c2");
        let t = reg.mint("c2", true).expect("live");
        assert_eq!(reg.open_links("c2"), 1);
        reg.close_call("c2");
        assert_eq!(reg.redeem(&t).err(), Some(JoinError::CallEnded));
        assert!(
            reg.mint("c2", false).is_none(),
            "no links for an ended call"
        );
        assert_eq!(reg.open_links("c2"), 0);
    }

    #[test]
    fn racing_redeemers_get_one_leg() {
        let reg = Registry::new(Duration::from_secs(60));
        let _rx = live(&reg, "c1");
        let t = reg.mint("c1", false).expect("live");
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| reg.redeem(&t).is_ok() as usize))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        assert_eq!(wins, 1);
    }

    #[test]
    fn minting_announces_nothing_and_marks_the_timeline() {
        let heard = Arc::new(Mutex::new(Vec::<String>::new()));
        let h = heard.clone();
        let reg = Registry::new(Duration::from_secs(60))
            .with_announce(move |id, _| h.lock().expect("test lock").push(id.to_string()));
        let mut rx = live(&reg, "c1");
        let t = reg.mint("c1", true).expect("live");
        let said = heard.lock().expect("test lock").clone();
        assert_eq!(
            said,
            vec!["c1".to_string()],
            "the call is announced, by id only"
        );
        assert!(said.iter().all(|s| !s.contains(&t)));
        assert!(matches!(
            rx.try_recv(),
            Ok(BridgeCmd::LinkMinted { listen_only: true })
        ));
    }

    #[test]
    fn a_person_on_the_line_is_announced_without_a_link() {
        let said = Arc::new(Mutex::new(Vec::new()));
        let log = said.clone();
        let reg = Registry::new(Duration::from_secs(60)).with_announce(move |id, news| {
            log.lock().expect("lock").push(format!("{id}: {news}"));
        });
        let setup = super::BridgeSetup {
            registry: reg.clone(),
            incident: None,
        };
        let bridge = super::CallBridge::open(setup, "c9", &[]);
        said.lock().expect("lock").clear();
        bridge.person_on_line("hpe-hotline");
        let said = said.lock().expect("lock");
        assert_eq!(
            *said,
            vec!["c9: a person is on the line at hpe-hotline now".to_string()]
        );
        assert_eq!(
            reg.open_links("c9"),
            0,
            "no link minted for nobody in particular"
        );
    }
}
