//! The person decision, driven from `Listener::push`: a speech segment starts (known prompt,
//! unknown speech, the reply to the probe) and ends, the hold music resumes, the time-driven
//! steps (probe wanted, reply window, no reply), and each closed segment learned or kept.

use super::*;

impl Listener {
    pub(super) fn speech_started(
        &mut self,
        onset: Instant,
        frames: u32,
        before: (Sound, Duration),
        ev: &mut Vec<Event>,
    ) {
        self.close_segment();
        let frames_back = frames.min(self.frame);
        let during_probe = matches!(self.decision, Decision::Probing);
        self.seg = Some(Segment {
            onset,
            start_frame: self.frame - frames_back,
            end_frame: None,
            landmarks: Vec::new(),
            matcher: Matcher::default(),
            recorded: None,
            voiced: frames,
            during_probe,
            after: before,
        });
        match self.decision {
            Decision::Probing => self.probe_talked_over = true,
            Decision::AwaitReply(probe_end) if !self.probe_talked_over => {
                ev.push(Event::ReplyHeard { onset });
                let gap = onset.saturating_duration_since(probe_end);
                self.decision = Decision::Reply(onset, gap);
            }
            _ => {}
        }
    }

    pub(super) fn speech_ended(&mut self, at: Instant, ev: &mut Vec<Event>) {
        let Some(seg) = &self.seg else { return };

        let (onset, recorded, during_probe, after) =
            (seg.onset, seg.recorded, seg.during_probe, seg.after);
        if let Some(why) = recorded {
            ev.push(Event::Recorded { onset, at, why });
            self.chain = None;
            self.decision = Decision::Listening;
            return;
        }
        if !self.probing {
            if let Some(seg) = &mut self.seg {
                seg.recorded = Some(Recorded::Menu);
            }
            ev.push(Event::Recorded {
                onset,
                at,
                why: Recorded::Menu,
            });
            return;
        }
        if during_probe && self.probe_talked_over {
            // Began during the probe: no reply; a person stops to listen, a recording goes on.
            let long = at.saturating_duration_since(onset) > Duration::from_millis(1500);
            if !long {
                // A short "yes?" under the probe: keep waiting for the reply after it.
                self.probe_talked_over = false;
                return;
            }
            if long {
                if let Some(seg) = &mut self.seg {
                    seg.recorded = Some(Recorded::TalkedOverProbe);
                }
                ev.push(Event::Recorded {
                    onset,
                    at,
                    why: Recorded::TalkedOverProbe,
                });
                self.chain = None;
                self.decision = Decision::Listening;
                return;
            }
        }
        match self.decision {
            Decision::Decided => {}
            // hotline began its probe inside this speech's closing pause, before the hangover
            // confirmed the end: the probe already answers this speech. (Offline, the probe's
            // first frame and the frame that ends the hangover can land in either order: the
            // vendor's channel is placed on the media clock to within a frame.)
            Decision::Probing => {
                if self.chain.is_none() {
                    self.chain = Some((onset, after));
                }
            }
            _ => {
                if self.chain.is_none() {
                    self.chain = Some((onset, after));
                }
                self.decision = Decision::WantProbe;
                ev.push(Event::ProbeWanted { at });
            }
        }
    }

    pub(super) fn music_resumed(&mut self, at: Instant, ev: &mut Vec<Event>) {
        if matches!(self.decision, Decision::Decided) {
            return;
        }
        if let Some(seg) = &mut self.seg
            && seg.recorded.is_none()
            && self.chain.is_some()
        {
            seg.recorded = Some(Recorded::MusicResumed);
            ev.push(Event::Recorded {
                onset: seg.onset,
                at,
                why: Recorded::MusicResumed,
            });
        }
        self.chain = None;
        self.decision = Decision::Listening;
    }

    /// Time-driven steps of the person decision.
    pub(super) fn decide(&mut self, now: Instant, ev: &mut Vec<Event>) {
        match self.decision {
            Decision::AwaitReply(end)
                if now.saturating_duration_since(end) > self.th.reply_window =>
            {
                if let Some(seg) = &mut self.seg
                    && seg.recorded.is_none()
                {
                    seg.recorded = Some(Recorded::NoReply);
                    ev.push(Event::Recorded {
                        onset: seg.onset,
                        at: now,
                        why: Recorded::NoReply,
                    });
                }
                self.chain = None;
                self.decision = Decision::Listening;
            }
            Decision::Reply(onset, gap) => {
                let Some(seg) = &self.seg else { return };
                if let Some(why) = seg.recorded {
                    ev.push(Event::Recorded {
                        onset: seg.onset,
                        at: now,
                        why,
                    });
                    self.chain = None;
                    self.decision = Decision::Listening;
                    return;
                }
                if FRAME_DUR * seg.voiced < self.th.reply_confirm {
                    return;
                }
                let (first, after) = self
                    .chain
                    .unwrap_or((onset, (Sound::Silence, Duration::ZERO)));
                let mut evidence = vec![Evidence::NovelSpeech { known: self.known }];
                let mut confidence: f32 = 0.9;
                if matches!(after.0, Sound::Music | Sound::Tone) {
                    evidence.push(Evidence::AfterHold {
                        ms: after.1.as_millis() as u64,
                    });
                    confidence += 0.03;
                }
                evidence.push(Evidence::QuietDuringProbe);
                evidence.push(Evidence::ReplyToProbe {
                    gap_ms: gap.as_millis() as u64,
                });
                if self.known > 0 {
                    confidence += 0.04;
                }
                self.person = Some(first);
                ev.push(Event::Human {
                    onset: first,
                    at: now,
                    confidence: confidence.min(0.99),
                    evidence,
                });
                self.decision = Decision::Decided;
            }
            _ => {}
        }
    }

    /// The finished segment goes into this call's library (a loop is then a repeat), unless
    /// it was the person.
    pub(super) fn close_segment(&mut self) {
        let Some(seg) = self.seg.take() else { return };
        // Only recordings are learned (never the person), and only once; a segment shorter
        // than the fingerprint fan-out cannot be matched reliably.
        let learn = matches!(seg.recorded, Some(r) if r != Recorded::KnownPrompt)
            && !matches!(self.decision, Decision::Decided);
        if seg.landmarks.len() < 2 * FAN_FRAMES {
            return;
        }
        if learn {
            self.lib.add(&seg.landmarks, Origin::ThisCall);
        } else if seg.recorded.is_none() {
            if self.unlearned.len() == operator::UNLEARNED_KEPT {
                self.unlearned.pop_front();
            }
            self.unlearned.push_back((seg.onset, seg.landmarks));
        }
    }
}
