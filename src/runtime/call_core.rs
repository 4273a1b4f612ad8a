//! The pure core a call task drives: our own call ([`Call`]) or a call to the callback line
//! ([`InboundCall`] with its [`CallbackScript`]). The task's I/O (SIP, RTP, pacing, the
//! recorder, the bridge) is the same for both; only the state machine differs.

use crate::call::{
    Call, DialogState, EventKind, InboundCall, InboundInput, Input, MediaCommand, Output,
    Termination,
};
use crate::ladder::callback_script::{CallbackScript, ScriptOut};
use std::collections::VecDeque;
use std::time::Instant;

/// A vendor's call to hotline: the SIP core and what the caller hears.
pub struct InboundCore {
    pub call: InboundCall,
    pub script: CallbackScript,
    /// Outputs of the script waiting behind the call's own.
    queued: VecDeque<Output>,
}

impl InboundCore {
    pub fn new(call: InboundCall, script: CallbackScript) -> Self {
        Self {
            call,
            script,
            queued: VecDeque::new(),
        }
    }

    fn input(&mut self, now: Instant, input: Input) {
        let sip = match input {
            Input::Request(r) => InboundInput::Request(r),
            Input::Response(r) => InboundInput::Response(r),
            Input::TransportError(e) => InboundInput::TransportError(e),
            Input::Hangup(why) => InboundInput::Hangup(why),
            Input::CancelIfRinging(why) => {
                if self.call.is_confirmed() {
                    return;
                }
                InboundInput::Hangup(why)
            }
            Input::PlaybackFinished => return self.script.playback_finished(now),
            Input::DtmfReceived(d) => return self.script.digit(now, d),
            // A phone leg joins the mix when it is dialled, not when it answers: the
            // callback task says who answered first (or a browser leg joined) with TakeOver.
            Input::TakeOver => return self.script.operator_joined(),
            // Where replies go is the caller's business; the rest is for our own calls.
            _ => return,
        };
        self.call.handle_input(now, sip);
    }

    /// Moves the script's outputs behind the call's (a hang-up goes into the call).
    fn pump_script(&mut self, now: Instant) {
        while let Some(o) = self.script.poll_output() {
            match o {
                ScriptOut::Play(source) => {
                    self.queued.push_back(Output::Media(MediaCommand::Play {
                        source: source.to_string(),
                    }))
                }
                ScriptOut::StopPlayback => self
                    .queued
                    .push_back(Output::Media(MediaCommand::StopPlayback)),
                ScriptOut::Event(kind) => self.queued.push_back(Output::Event { at: now, kind }),
                ScriptOut::Hangup(why) => self.call.handle_input(now, InboundInput::Hangup(why)),
            }
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.call.poll_output() {
            match &o {
                Output::Event {
                    at,
                    kind: EventKind::AnsweredLocal { .. },
                } => {
                    self.script.answered(*at);
                    self.pump_script(*at);
                }
                Output::Terminated(_) => self.script.ended(),
                _ => {}
            }
            return Some(o);
        }
        self.pump_script(Instant::now());
        self.queued.pop_front().or_else(|| self.call.poll_output())
    }
}

/// The state machine of one call task.
pub enum Core {
    Outbound(Box<Call>),
    Inbound(Box<InboundCore>),
}

impl Core {
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match self {
            Core::Outbound(c) => c.handle_input(now, input),
            Core::Inbound(c) => {
                c.input(now, input);
                c.pump_script(now);
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self {
            Core::Outbound(c) => c.handle_timeout(now),
            Core::Inbound(c) => {
                c.call.handle_timeout(now);
                c.script.handle_timeout(now);
                c.pump_script(now);
            }
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        match self {
            Core::Outbound(c) => c.poll_output(),
            Core::Inbound(c) => c.poll_output(),
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Core::Outbound(c) => c.poll_timeout(),
            Core::Inbound(c) => [c.call.poll_timeout(), c.script.poll_timeout()]
                .into_iter()
                .flatten()
                .min(),
        }
    }

    pub fn is_finished(&self) -> bool {
        match self {
            Core::Outbound(c) => c.is_finished(),
            Core::Inbound(c) => c.call.is_finished(),
        }
    }

    pub fn termination(&self) -> Option<&Termination> {
        match self {
            Core::Outbound(c) => c.termination(),
            Core::Inbound(c) => c.call.termination(),
        }
    }

    /// The answered dialog to persist for an orphan BYE (our own calls only: after a
    /// restart a caller's dialog is left to the caller's session timer).
    pub fn dialog_state(&self) -> Option<DialogState> {
        match self {
            Core::Outbound(c) => c.dialog_state(),
            Core::Inbound(_) => None,
        }
    }

    pub fn rejected_responses(&self) -> u64 {
        match self {
            Core::Outbound(c) => c.rejected_responses(),
            Core::Inbound(_) => 0,
        }
    }
}
