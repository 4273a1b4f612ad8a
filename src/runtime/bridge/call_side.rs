//! The bridge as the call task sees it: opened when the vendor answers, run inside the
//! call's own tick (no second clock), closed when the call ends.

use super::{BridgeCmd, LiveCall, Registry};
use crate::call::{EventKind, Input, TimelineEvent};
use crate::media::mixer::{Frame, LegId, Mixer};
use crate::media::session::Tap;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What the call task gives the bridge when placing a call.
#[derive(Clone)]
pub struct BridgeSetup {
    pub registry: Registry,
    pub incident: Option<String>,
}

struct LegIo {
    audio_in: mpsc::Receiver<Vec<i16>>,
    audio_out: mpsc::Sender<Frame>,
}

/// One call's bridge. See the module docs.
pub struct CallBridge {
    registry: Registry,
    call_id: String,
    mixer: Mixer,
    legs: HashMap<LegId, LegIo>,
    cmds: mpsc::Receiver<BridgeCmd>,
    timeline: watch::Sender<Arc<Vec<TimelineEvent>>>,
    /// Frames a leg could not take in time (its channel full): dropped, never waited for.
    pub frames_dropped: u64,
}

/// What the call task does for a bridge command (beyond the mixer).
pub enum Action {
    /// Push this event on the timeline.
    Event(EventKind),
    /// Push this event and feed this input to the call core.
    EventAndInput(EventKind, Input),
    /// Feed this input to the call core.
    Input(Input),
    /// Send these digits through the media session.
    Dtmf(String),
}

impl CallBridge {
    /// Opens the bridge of an answered call: registered (announced as joinable); links are
    /// minted only on request by a writer (`POST /v1/calls/{id}/join`, the console).
    pub fn open(setup: BridgeSetup, call_id: &str, timeline: &[TimelineEvent]) -> Self {
        let (tx, rx) = mpsc::channel(32);
        let (wtx, wrx) = watch::channel(Arc::new(timeline.to_vec()));
        setup.registry.open_call(LiveCall {
            call_id: call_id.to_string(),
            incident: setup.incident,
            cmds: tx,
            timeline: wrx,
        });
        Self {
            registry: setup.registry,
            call_id: call_id.to_string(),
            mixer: Mixer::new(),
            legs: HashMap::new(),
            cmds: rx,
            timeline: wtx,
            frames_dropped: 0,
        }
    }

    /// The next command (for the call task's `select!`).
    pub async fn recv(&mut self) -> Option<BridgeCmd> {
        self.cmds.recv().await
    }

    /// The listener heard a person pick up: announced (log, notify webhook) as the moment to
    /// join, with the call's console page; operators mint their own link there (a link is a
    /// write capability, never broadcast: security review finding 1).
    pub fn person_on_line(&self, contact: &str) {
        self.registry.announce(
            &self.call_id,
            &format!("a person is on the line at {contact} now"),
        );
    }

    /// Publishes the timeline to the join pages.
    pub fn publish(&self, timeline: &[TimelineEvent]) {
        self.timeline.send_replace(Arc::new(timeline.to_vec()));
    }

    /// Applies one command to the mixer; returns what the call task must do.
    pub fn command(&mut self, cmd: BridgeCmd) -> Option<Action> {
        match cmd {
            BridgeCmd::Join {
                leg,
                name,
                via,
                listen_only,
                audio_in,
                audio_out,
            } => {
                self.mixer.add(leg, !listen_only);
                self.legs.insert(
                    leg,
                    LegIo {
                        audio_in,
                        audio_out,
                    },
                );
                let ev = EventKind::OperatorJoined {
                    leg: leg.to_string(),
                    name,
                    via: via.to_string(),
                    listen_only,
                };
                Some(if listen_only {
                    Action::Event(ev)
                } else {
                    Action::EventAndInput(ev, Input::OperatorJoined)
                })
            }
            BridgeCmd::Leave { leg, reason } => {
                self.legs.remove(&leg);
                self.mixer.remove(leg).then(|| {
                    Action::Event(EventKind::OperatorLeft {
                        leg: leg.to_string(),
                        reason,
                    })
                })
            }
            BridgeCmd::Mute { leg, muted } => {
                self.legs.contains_key(&leg).then_some(())?;
                self.mixer.set_talking(leg, !muted);
                Some(Action::Event(EventKind::OperatorMuted {
                    leg: leg.to_string(),
                    muted,
                }))
            }
            BridgeCmd::Dtmf { digits, .. } => Some(Action::Dtmf(digits)),
            BridgeCmd::TakeOver { leg } => Some(Action::EventAndInput(
                EventKind::OperatorTookOver {
                    leg: leg.to_string(),
                },
                Input::TakeOver,
            )),
            BridgeCmd::ReplayBriefing { leg } => Some(Action::Input(Input::ReplayBriefing(
                format!("operator {leg} asked"),
            ))),
            BridgeCmd::Hangup { leg } => Some(Action::Input(Input::Hangup(format!(
                "operator {leg} hung up"
            )))),
            BridgeCmd::Label { label, by } => Some(Action::Input(Input::Labelled { label, by })),
            BridgeCmd::LinkMinted { listen_only } => {
                Some(Action::Event(EventKind::JoinLinkMinted { listen_only }))
            }
            BridgeCmd::Ownership {
                leg,
                vendor_case,
                engineer,
            } => Some(Action::Event(EventKind::Ownership {
                leg: leg.to_string(),
                vendor_case,
                engineer,
            })),
        }
    }

    /// One tick: takes what each leg sent, mixes `frame` (hotline's, becoming the vendor's)
    /// and hands each leg its frame without waiting.
    pub fn mix(&mut self, frame: &mut Frame) {
        for (id, io) in &mut self.legs {
            while let Ok(samples) = io.audio_in.try_recv() {
                self.mixer.push_leg(*id, &samples);
            }
        }
        self.mixer.mix(frame);
        for (id, io) in &self.legs {
            if let Some(out) = self.mixer.output(*id)
                && io.audio_out.try_send(*out).is_err()
            {
                self.frames_dropped += 1;
            }
        }
    }

    /// Legs on the bridge now.
    pub fn legs(&self) -> usize {
        self.legs.len()
    }

    /// The mixer's counters (drops, queueing delay).
    pub fn stats(&self) -> crate::media::mixer::MixerStats {
        self.mixer.stats()
    }
}

impl Drop for CallBridge {
    fn drop(&mut self) {
        // Links refused from now on; dropping `legs` closes every leg's audio channel,
        // which ends the leg tasks.
        self.registry.close_call(&self.call_id);
    }
}

/// The recorder's tap plus the bridge: the vendor's audio also feeds the mixer.
pub struct BridgeTap<'a, T: Tap> {
    pub rec: &'a mut T,
    pub bridge: Option<&'a mut CallBridge>,
}

impl<T: Tap> Tap for BridgeTap<'_, T> {
    fn tx(&mut self, pos: u64, samples: &[i16]) {
        self.rec.tx(pos, samples);
    }
    fn rx(&mut self, pos: u64, samples: &[i16]) {
        self.rec.rx(pos, samples);
        if let Some(b) = &mut self.bridge {
            b.mixer.push_vendor(samples);
        }
    }
}
