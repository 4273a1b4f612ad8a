//! What a call task is given: [`CallSetup`] (from `build_call`) and its I/O half [`CallIo`]
//! (also what a call to the callback line starts from), and the audio sources a menu plays.

use crate::call::{CallParams, CallRecord};
use crate::media::session::SharedPcm;
use crate::media::source::AudioSource;
use crate::sip::SipContext;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Makes a fresh audio source each time a menu step plays it.
pub type SourceFactory = Arc<dyn Fn() -> Box<dyn AudioSource> + Send + Sync>;

/// A factory playing a shared 8 kHz buffer (synthesized or loaded once, before the call).
pub fn pcm_source(pcm: Arc<[i16]>) -> SourceFactory {
    Arc::new(move || Box::new(SharedPcm::new(pcm.clone())) as Box<dyn AudioSource>)
}

/// Everything needed to run one call.
pub struct CallSetup {
    pub sip: SipContext,
    pub params: CallParams,
    /// Where out-of-dialog requests go: the outbound proxy, or the dialled URI's host.
    pub dest: SocketAddr,
    /// Send every request via the proxy, even in-dialog ones.
    pub force_proxy: bool,
    pub record: CallRecord,
    pub recording_path: PathBuf,
    /// Audio the menu can play, by `play` name (each play makes a fresh source).
    pub sources: HashMap<String, SourceFactory>,
    /// Stay alive after the end to absorb retransmissions (Timer D); false for the CLI.
    pub linger: bool,
    /// Forward the far end's decoded audio here (an operator phone bridged into a call).
    pub forward_rx: Option<mpsc::Sender<Vec<i16>>>,
    /// Persist the dialog here once answered (and close it at the end), so that the next
    /// start can send the BYE if this process dies mid-call (`hotline serve`; `None` for the
    /// CLI).
    pub dialogs: Option<crate::store::Store>,
    /// The contact's prompt library file (recordings heard on earlier calls), loaded for the
    /// listener and saved back with this call's recordings at the end.
    pub prompts: Option<PathBuf>,
    /// Run the listener on the vendor channel (on for every call; off only to measure its
    /// cost in `benches/calls.rs`).
    pub listen: bool,
    /// Publish the live state (store row, incident event stream) while the call runs
    /// (`hotline serve`; `None` for the CLI).
    pub live: Option<crate::runtime::live::LiveSetup>,
    /// Told the moment the call is answered (an operator's phone leg: whoever answers first
    /// is bridged).
    pub on_answer: Option<tokio::sync::oneshot::Sender<std::time::Instant>>,
}

/// A [`CallSetup`] without the outbound core's parameters: what the task itself needs, for
/// our own calls and a caller's alike (see [`CallSetup`] for each field).
pub struct CallIo {
    pub sip: SipContext,
    pub dest: SocketAddr,
    pub force_proxy: bool,
    pub record: CallRecord,
    pub recording_path: PathBuf,
    pub sources: HashMap<String, SourceFactory>,
    pub linger: bool,
    pub forward_rx: Option<mpsc::Sender<Vec<i16>>>,
    pub dialogs: Option<crate::store::Store>,
    pub prompts: Option<PathBuf>,
    pub listen: bool,
    pub live: Option<crate::runtime::live::LiveSetup>,
    /// Told the moment the call is answered (an operator's phone leg: whoever answers first
    /// is bridged).
    pub on_answer: Option<tokio::sync::oneshot::Sender<std::time::Instant>>,
}

impl CallSetup {
    pub(super) fn split(self) -> (CallParams, CallIo) {
        let io = CallIo {
            sip: self.sip,
            dest: self.dest,
            force_proxy: self.force_proxy,
            record: self.record,
            recording_path: self.recording_path,
            sources: self.sources,
            linger: self.linger,
            forward_rx: self.forward_rx,
            dialogs: self.dialogs,
            prompts: self.prompts,
            listen: self.listen,
            live: self.live,
            on_answer: self.on_answer,
        };
        (self.params, io)
    }
}
