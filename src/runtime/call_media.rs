//! The call task's media side: the 20 ms pacing (each due frame sent, the bridge mixed in),
//! media events onto the timeline and into the core, what the listener heard, and the core's
//! media commands (start, play, DTMF, probing, labels, stop).

use super::*;

/// The call's receive/send tap: the recorder, the listener, a bridged phone's forward.
pub(super) struct RecTap {
    pub(super) rec: Option<Recorder>,
    pub(super) error: Option<String>,
    /// A bridged operator phone: the far end's decoded audio also goes to the mixer.
    pub(super) forward_rx: Option<mpsc::Sender<Vec<i16>>>,
    /// What the vendor is doing (music, prompt, person), fed every received packet.
    pub(super) listen: Option<CallListener>,
}

impl RecTap {
    fn write(&mut self, ch: Channel, pos: u64, s: &[i16]) {
        if let Some(r) = &mut self.rec
            && let Err(e) = r.write(ch, pos, s)
        {
            // Keep the call going; the recording stops and the record says why.
            self.error = Some(e.to_string());
            self.rec = None;
        }
    }
}

impl Tap for RecTap {
    fn tx(&mut self, pos: u64, s: &[i16]) {
        self.write(Channel::Tx, pos, s);
    }
    fn rx(&mut self, pos: u64, s: &[i16]) {
        self.write(Channel::Rx, pos, s);
        if let Some(l) = &mut self.listen {
            l.feed(pos, s);
        }
        if let Some(f) = &self.forward_rx {
            // Never wait on the mixer: a full queue drops the packet.
            let _ = f.try_send(s.to_vec());
        }
    }
}

impl Driver {
    /// Sends every frame that is due.
    pub(super) async fn pace(&mut self, now: Instant) {
        while let Some(due) = self.pacer.poll(now) {
            let mut tap = BridgeTap {
                rec: &mut self.tap,
                bridge: None,
            };
            let bridge = &mut self.bridge;
            let pkt = self.media.tick_with(&mut tap, |frame| {
                if let Some(b) = bridge {
                    b.mix(frame);
                }
            });
            match (due, pkt) {
                (Due::Send(scheduled), Some((dest, bytes))) => {
                    let _ = self.rtp.send_to(bytes, dest).await;
                    let at = Instant::now();
                    self.pacer.sent(scheduled, at);
                    if self.first_rtp_us.is_none()
                        && let Some(a) = self.answered_at
                    {
                        self.first_rtp_us =
                            Some(at.saturating_duration_since(a).as_micros() as u64);
                    }
                    self.media_events(at);
                }
                _ => {
                    self.pacer.not_sent();
                    self.media_events(Instant::now());
                }
            }
        }
    }

    pub(super) fn media_events(&mut self, at: Instant) {
        while let Some(e) = self.media.poll_event() {
            let kind = match e {
                MediaEvent::FirstTx { to } => EventKind::MediaFirstTx { to: to.to_string() },
                MediaEvent::FirstRx { from } => EventKind::MediaFirstRx {
                    from: from.to_string(),
                },
                MediaEvent::Latched { from } => EventKind::MediaLatched {
                    from: from.to_string(),
                },
                MediaEvent::Rejected { from, count } => {
                    tracing::warn!(%from, count, "rtp from a stranger: dropped");
                    EventKind::MediaRejected {
                        from: from.to_string(),
                        why: "not the source the SDP named".into(),
                        count,
                    }
                }
                MediaEvent::DtmfSent { digit, duration_ms } => {
                    EventKind::DtmfSent { digit, duration_ms }
                }
                MediaEvent::DtmfReceived { digit, duration_ms } => {
                    self.push(at, EventKind::DtmfReceived { digit, duration_ms });
                    self.call.handle_input(at, Input::DtmfReceived(digit));
                    continue;
                }
                MediaEvent::RemoteActivity => {
                    self.call.handle_input(at, Input::RemoteActivity);
                    continue;
                }
                MediaEvent::PlaybackStarted { source } => EventKind::PlaybackStarted { source },
                MediaEvent::PlaybackFinished { source } => {
                    if source == PROBE
                        && let Some(l) = &mut self.tap.listen
                    {
                        l.probe_finished(at);
                    }
                    self.push(at, EventKind::PlaybackFinished { source });
                    self.call.handle_input(at, Input::PlaybackFinished);
                    continue;
                }
                MediaEvent::DtmfFinished => {
                    self.call.handle_input(at, Input::DtmfFinished);
                    continue;
                }
            };
            self.push(at, kind);
        }
    }

    /// What the listener heard: onto the timeline, and into the call core.
    pub(super) fn heard(&mut self, now: Instant) {
        let Some(l) = &mut self.tap.listen else {
            return;
        };
        for (entry, input) in l.drain() {
            if let Some((at, kind)) = entry {
                self.push(at, kind);
            }
            if let Some(input) = input {
                self.call.handle_input(now, input);
            }
        }
    }

    pub(super) fn media_command(&mut self, cmd: MediaCommand) {
        match cmd {
            MediaCommand::Start {
                remote,
                codec,
                codec_pt,
                dtmf_pt,
                srtp,
                rtcp,
                ..
            } => {
                if let Err(e) = self.media.set_srtp(srtp.as_ref()) {
                    self.call
                        .handle_input(Instant::now(), Input::TransportError(e.to_string()));
                    return;
                }
                self.media.start(Peer {
                    remote,
                    codec,
                    codec_pt,
                    dtmf_pt,
                });
                // The first packet goes out now, not on the next tick: audio starts within
                // one packet time of the answer.
                let now = Instant::now();
                self.pacer.start(now);
                self.rtcp.start(now, self.rtp.local_addr().ok(), rtcp);
                if self.listen && self.tap.listen.is_none() {
                    // Position 0 of the media clock is now.
                    let library = self
                        .prompts
                        .as_deref()
                        .map(load_prompts)
                        .unwrap_or_default();
                    self.tap.listen = CallListener::new(now, library);
                }
            }
            MediaCommand::Direction(dir) => self.media.set_direction(dir),
            MediaCommand::SendDtmf {
                digits,
                duration_ms,
            } => self.media.send_dtmf(&digits, duration_ms),
            MediaCommand::Play { source } => match self.sources.get(&source) {
                Some(make) => {
                    if source == PROBE
                        && let Some(l) = &mut self.tap.listen
                    {
                        l.probe_started(Instant::now());
                    }
                    self.media.play(&source, make())
                }
                None => {
                    tracing::warn!(source, "nothing to play under this name");
                    self.call
                        .handle_input(Instant::now(), Input::PlaybackFinished);
                }
            },
            MediaCommand::StopPlayback => {
                self.media.stop_playback();
            }
            MediaCommand::Probing(on) => {
                if let Some(l) = &mut self.tap.listen {
                    l.set_probing(on);
                }
            }
            MediaCommand::Labelled(label) => {
                if let Some(l) = &mut self.tap.listen {
                    l.labelled(Instant::now(), label);
                }
            }
            MediaCommand::Stop => {
                self.media.stop();
                self.pacer.stop();
                self.rtcp.stop();
            }
        }
    }
}
