//! espeak-ng through libespeak-ng, synthesizing to memory.
//!
//! libespeak-ng keeps global state and is not thread-safe, so one dedicated thread owns it
//! and takes requests over a channel; callers wait on a oneshot reply.

use std::cell::RefCell;
use std::ffi::{CString, c_char, c_int, c_short, c_uint, c_void};
use std::sync::OnceLock;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{BoxFuture, Engine, Speech, SpeechRequest};
use crate::briefing::BriefingError;
use crate::briefing::script::{LATIN_VOICE, ssml};

/// Opaque `espeak_EVENT`: only passed through.
#[repr(C)]
struct EspeakEvent {
    _private: [u8; 0],
}

type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut EspeakEvent) -> c_int;

/// `AUDIO_OUTPUT_SYNCHRONOUS`: audio to the callback, `espeak_Synth` returns when done.
const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const ESPEAK_CHARS_UTF8: c_uint = 1;
const ESPEAK_SSML: c_uint = 0x10;
const POS_CHARACTER: c_int = 1;
const ESPEAK_RATE: c_int = 1;
const ESPEAK_VOLUME: c_int = 2;
const EE_OK: c_int = 0;

/// Words per minute: a little slower than espeak's 175 for a phone line.
const RATE_WPM: c_int = 160;
/// Amplitude (espeak's default 100 can clip); the level is normalized afterwards anyway.
const VOLUME: c_int = 60;

#[link(name = "espeak-ng")]
unsafe extern "C" {
    fn espeak_Initialize(
        output: c_int,
        buflength: c_int,
        path: *const c_char,
        options: c_int,
    ) -> c_int;
    fn espeak_SetSynthCallback(callback: Option<SynthCallback>);
    fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
    fn espeak_SetParameter(parameter: c_int, value: c_int, relative: c_int) -> c_int;
    fn espeak_Synth(
        text: *const c_void,
        size: usize,
        position: c_uint,
        position_type: c_int,
        end_position: c_uint,
        flags: c_uint,
        unique_identifier: *mut c_uint,
        user_data: *mut c_void,
    ) -> c_int;
}

thread_local! {
    /// Samples of the synthesis in progress on the espeak thread.
    static SAMPLES: RefCell<Vec<i16>> = const { RefCell::new(Vec::new()) };
}

/// Called by libespeak-ng on the espeak thread with each block of audio.
unsafe extern "C" fn on_audio(wav: *mut c_short, count: c_int, _events: *mut EspeakEvent) -> c_int {
    if !wav.is_null() && count > 0 {
        // SAFETY: libespeak-ng passes `count` valid samples at `wav` for this call.
        let block = unsafe { std::slice::from_raw_parts(wav, count as usize) };
        SAMPLES.with(|s| s.borrow_mut().extend_from_slice(block));
    }
    0 // go on
}

/// How a job's result goes back: to an async caller or a blocking one.
type Reply = Box<dyn FnOnce(Result<Speech, BriefingError>) + Send>;

struct Job {
    ssml: String,
    voice: String,
    reply: Reply,
}

/// The espeak thread's inbox, started on first use; `Err` if libespeak-ng failed to start.
fn worker() -> Result<&'static mpsc::Sender<Job>, BriefingError> {
    static WORKER: OnceLock<Result<mpsc::Sender<Job>, String>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let (ready_tx, ready_rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("espeak-ng".into())
                .spawn(move || run(rx, ready_tx))
                .map_err(|e| format!("cannot start the espeak thread: {e}"))?;
            ready_rx
                .recv()
                .map_err(|_| "espeak thread died while starting".to_string())??;
            Ok(tx)
        })
        .as_ref()
        .map_err(|e| BriefingError::Espeak(e.clone()))
}

/// The espeak thread: initialize once, then serve jobs one at a time.
fn run(jobs: mpsc::Receiver<Job>, ready: mpsc::Sender<Result<(), String>>) {
    // SAFETY: called once, on this thread, which is the only one that touches libespeak-ng.
    let rate = unsafe { espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, std::ptr::null(), 0) };
    if rate <= 0 {
        let _ = ready.send(Err(format!(
            "initialization failed ({rate}); is espeak-ng-data installed?"
        )));
        return;
    }
    // SAFETY: as above; `on_audio` has the signature libespeak-ng expects.
    unsafe {
        espeak_SetSynthCallback(Some(on_audio));
        espeak_SetParameter(ESPEAK_RATE, RATE_WPM, 0);
        espeak_SetParameter(ESPEAK_VOLUME, VOLUME, 0);
    }
    let _ = ready.send(Ok(()));
    for job in jobs {
        let result = synth(&job.ssml, &job.voice, rate as u32);
        (job.reply)(result);
    }
}

/// One synthesis on the espeak thread.
fn synth(ssml: &str, voice: &str, rate: u32) -> Result<Speech, BriefingError> {
    let voice =
        CString::new(voice).map_err(|_| BriefingError::Espeak("voice name has NUL".into()))?;
    let text = CString::new(ssml).map_err(|_| BriefingError::Espeak("text has NUL".into()))?;
    SAMPLES.with(|s| s.borrow_mut().clear());
    // SAFETY: only this thread calls libespeak-ng; both strings are NUL-terminated and
    // outlive the synchronous call.
    let status = unsafe {
        if espeak_SetVoiceByName(voice.as_ptr()) != EE_OK {
            return Err(BriefingError::Espeak(format!("unknown voice {voice:?}")));
        }
        espeak_Synth(
            text.as_ptr().cast(),
            text.as_bytes_with_nul().len(),
            0,
            POS_CHARACTER,
            0,
            ESPEAK_CHARS_UTF8 | ESPEAK_SSML,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if status != EE_OK {
        return Err(BriefingError::Espeak(format!(
            "synthesis failed ({status})"
        )));
    }
    let samples = SAMPLES.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if samples.is_empty() {
        return Err(BriefingError::Silent);
    }
    Ok(Speech {
        samples: crate::media::resample::to_f32(&samples),
        rate,
    })
}

/// espeak-ng, linked in. Han runs use `cmn-latn-pinyin`, Latin runs the configured English
/// voice (default `en-us`).
#[derive(Debug, Clone)]
pub struct Espeak {
    voice: String,
}

impl Espeak {
    /// An espeak engine with `voice` for Latin text (default `en-us`).
    pub fn new(voice: Option<&str>) -> Self {
        Self {
            voice: voice.unwrap_or(LATIN_VOICE).to_string(),
        }
    }

    fn submit(&self, request: &SpeechRequest, reply: Reply) -> Result<(), BriefingError> {
        let job = Job {
            ssml: ssml(&request.text, request.language, &self.voice),
            voice: self.voice.clone(),
            reply,
        };
        worker()?
            .send(job)
            .map_err(|_| BriefingError::Espeak("espeak thread stopped".into()))
    }

    /// Synthesizes on the calling thread's behalf, blocking until done (for code outside
    /// an async context, such as built-in prompts).
    pub fn synthesize_blocking(&self, request: &SpeechRequest) -> Result<Speech, BriefingError> {
        let (tx, rx) = mpsc::channel();
        self.submit(
            request,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        )?;
        rx.recv().map_err(|_| BriefingError::Cancelled)?
    }
}

impl Engine for Espeak {
    fn id(&self) -> String {
        format!("espeak:{}", self.voice)
    }

    fn synthesize<'a>(
        &'a self,
        request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.submit(
                request,
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            )?;
            rx.await.map_err(|_| BriefingError::Cancelled)?
        })
    }
}
