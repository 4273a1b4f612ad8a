//! The briefing as an audio source that never makes the vendor wait: the pre-synthesized
//! greeting plays at once, the briefing follows as soon as synthesis is done (silence in
//! between if it is not ready yet; the greeting alone if synthesis fails or takes too long).

use super::call_task::SourceFactory;
use crate::briefing::BriefingHandle;
use crate::media::FRAME_SAMPLES;
use crate::media::source::AudioSource;
use std::sync::Arc;

/// Frames of silence we wait for a late briefing after the greeting (10 s).
const MAX_WAIT_FRAMES: u32 = 500;

struct BriefingSource {
    greeting: Option<Arc<[i16]>>,
    handle: BriefingHandle,
    body: Option<Arc<[i16]>>,
    pos: usize,
    in_greeting: bool,
    waited: u32,
}

fn copy(src: &[i16], pos: &mut usize, out: &mut [i16; FRAME_SAMPLES]) -> bool {
    let rest = &src[(*pos).min(src.len())..];
    let n = rest.len().min(FRAME_SAMPLES);
    out[..n].copy_from_slice(&rest[..n]);
    out[n..].fill(0);
    *pos += n;
    n > 0
}

impl AudioSource for BriefingSource {
    fn next_frame(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> bool {
        if self.in_greeting {
            if let Some(g) = &self.greeting
                && copy(g, &mut self.pos, out)
            {
                return true;
            }
            self.in_greeting = false;
            self.pos = 0;
        }
        if self.body.is_none() {
            match self.handle.try_ready() {
                Some(Ok(pcm)) => self.body = Some(pcm),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "briefing synthesis failed; greeting only");
                    return false;
                }
                None if self.waited < MAX_WAIT_FRAMES => {
                    self.waited += 1;
                    out.fill(0);
                    return true;
                }
                None => {
                    tracing::warn!("briefing not ready after 10 s; greeting only");
                    return false;
                }
            }
        }
        match &self.body {
            Some(b) => copy(b, &mut self.pos, out),
            None => false,
        }
    }
}

/// The briefing's audio for a call: what `play = "briefing"` plays and, when the briefing
/// has them, the details a `2` from the vendor plays.
#[derive(Clone)]
pub struct BriefingAudio {
    pub main: SourceFactory,
    pub details: Option<SourceFactory>,
}

impl BriefingAudio {
    /// Audio with no details (a file, the bridge's mix).
    pub fn only(main: SourceFactory) -> Self {
        Self {
            main,
            details: None,
        }
    }
}

/// The audio of a prepared briefing: the greeting-covered briefing, and its details.
pub fn briefing_audio(greeting: Option<Arc<[i16]>>, handle: BriefingHandle) -> BriefingAudio {
    let details = handle.details().cloned().map(|d| {
        Arc::new(move || {
            Box::new(BriefingSource {
                greeting: None,
                handle: d.clone(),
                body: None,
                pos: 0,
                in_greeting: false,
                waited: 0,
            }) as Box<dyn AudioSource>
        }) as SourceFactory
    });
    BriefingAudio {
        main: briefing_source(greeting, handle),
        details,
    }
}

/// A factory: each play (first time, `*`, silence repeat) starts again from the greeting if
/// the briefing was not ready when the call started, else straight from the briefing.
pub fn briefing_source(greeting: Option<Arc<[i16]>>, handle: BriefingHandle) -> SourceFactory {
    Arc::new(move || {
        // Once the briefing is ready, a repeat does not need the greeting in front.
        let ready = matches!(handle.try_ready(), Some(Ok(_)));
        Box::new(BriefingSource {
            greeting: if ready { None } else { greeting.clone() },
            handle: handle.clone(),
            body: None,
            pos: 0,
            in_greeting: !ready,
            waited: 0,
        }) as Box<dyn AudioSource>
    })
}
