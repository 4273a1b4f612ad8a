//! The menu a call walks after answer: typed steps, already expanded from the dialplan.

use std::time::Duration;

/// One step of a vendor's phone menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuStep {
    /// Wait (listen to the prompt).
    Wait(Duration),
    /// Wait until the vendor's current prompt has ended (the listener: speech, then a
    /// pause), at most this long.
    WaitPrompt(Duration),
    /// Hold until the listener hears a person (probing unknown speech), at most this long;
    /// then hang up.
    WaitHuman(Duration),
    /// Send DTMF digits (already expanded and validated).
    Dtmf { digits: String, duration_ms: u32 },
    /// Play an audio source (`briefing`, a prompt or a file; resolved by the media side).
    Play(String),
    /// Hang up.
    Hangup,
}

impl MenuStep {
    /// Short text for the timeline.
    pub fn describe(&self) -> String {
        match self {
            MenuStep::Wait(d) => format!("wait {}ms", d.as_millis()),
            MenuStep::WaitPrompt(d) => format!("wait prompt (cap {}ms)", d.as_millis()),
            MenuStep::WaitHuman(d) => format!("wait human (timeout {}ms)", d.as_millis()),
            MenuStep::Dtmf { digits, .. } => format!("dtmf {digits}"),
            MenuStep::Play(s) => format!("play {s}"),
            MenuStep::Hangup => "hangup".to_string(),
        }
    }
}

/// Where the walk through the menu is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuProgress {
    /// The next step to start.
    Next(usize),
    /// Waiting for the step at this index to finish (timer, DTMF or playback).
    Running(usize),
    /// All steps done.
    Done,
}
