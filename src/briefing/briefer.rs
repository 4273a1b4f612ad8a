//! [`Briefer`]: the briefing engine's front door for the call side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::audio::to_phone;
use super::cache::{CacheKey, SpeechCache};
use super::engine::{Engine, Espeak, Fallback, OpenAi, Piper, SpeechRequest};
use super::{BriefingError, text};
use crate::config::{BriefingConfig, EngineKind, Language};
use crate::dialplan::{Dialplan, PlanBriefing};
use crate::incident::Incident;

/// Clips kept in the speech cache.
const CACHE_CLIPS: usize = 256;

/// The outcome of a synthesis, shareable between every caller waiting for it.
pub type Ready = Result<Arc<[i16]>, Arc<BriefingError>>;

/// Turns incidents into briefings and speech, with a cache shared by every call.
/// Cheap to clone.
#[derive(Clone)]
pub struct Briefer {
    inner: Arc<Inner>,
}

struct Inner {
    config: BriefingConfig,
    engines: HashMap<EngineKind, Arc<dyn Engine>>,
    cache: SpeechCache,
    greetings: Mutex<HashMap<Language, Arc<[i16]>>>,
}

impl Briefer {
    /// Builds the engines `config` names: espeak-ng always; an HTTP engine (with espeak-ng
    /// as its fallback) when `url` is set. Fails if the default engine is HTTP without a
    /// `url`.
    pub fn new(config: &BriefingConfig) -> Result<Self, BriefingError> {
        let espeak: Arc<dyn Engine> = Arc::new(Espeak::new(
            config
                .voice
                .as_deref()
                .filter(|_| config.engine == EngineKind::Espeak),
        ));
        let mut engines: HashMap<EngineKind, Arc<dyn Engine>> = HashMap::new();
        engines.insert(EngineKind::Espeak, espeak.clone());
        if let Some(url) = &config.url {
            let api_key = config
                .api_key_env
                .as_ref()
                .and_then(|name| std::env::var(name).ok());
            let openai = OpenAi::new(
                url,
                config.model.as_deref(),
                config.voice.as_deref(),
                api_key,
                config.timeout,
            )?;
            let piper = Piper::new(url, config.timeout)?;
            engines.insert(
                EngineKind::Openai,
                Arc::new(Fallback::new(Arc::new(openai), espeak.clone())),
            );
            engines.insert(
                EngineKind::Piper,
                Arc::new(Fallback::new(Arc::new(piper), espeak.clone())),
            );
        } else if config.engine != EngineKind::Espeak {
            return Err(BriefingError::Config(format!(
                "engine \"{}\" needs url",
                config.engine.as_str()
            )));
        }
        Ok(Self::with_engines(config.clone(), engines))
    }

    /// A briefer with the given engines (tests, or custom engines). A dialplan asking for
    /// an engine that is missing here gets the config's default engine, or else espeak.
    pub fn with_engines(
        config: BriefingConfig,
        engines: HashMap<EngineKind, Arc<dyn Engine>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                engines,
                cache: SpeechCache::new(CACHE_CLIPS),
                greetings: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The engine for `kind` (or the dialplan-less default).
    fn engine(&self, kind: Option<EngineKind>) -> Arc<dyn Engine> {
        let engines = &self.inner.engines;
        kind.and_then(|k| engines.get(&k))
            .or_else(|| engines.get(&self.inner.config.engine))
            .or_else(|| engines.get(&EngineKind::Espeak))
            .or_else(|| engines.values().next())
            .cloned()
            .unwrap_or_else(|| Arc::new(Espeak::new(None)))
    }

    /// Synthesizes the greetings in both languages so [`Briefer::greeting`] has them. Call
    /// once at start-up, before any call.
    pub async fn warm_up(&self) -> Result<(), BriefingError> {
        for lang in [Language::En, Language::Zh] {
            let text = text::greeting(&self.inner.config, lang);
            let pcm = self.speak(&text, lang, None).await?;
            self.inner
                .greetings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(lang, pcm);
        }
        Ok(())
    }

    /// The pre-synthesized greeting ("This is <caller> with an automated incident report"),
    /// to play at once when the briefing is not ready at the answer; `None` before
    /// [`Briefer::warm_up`] succeeded.
    pub fn greeting(&self, language: Language) -> Option<Arc<[i16]>> {
        self.inner
            .greetings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&language)
            .cloned()
    }

    /// The briefing text for `incident` under a dialplan's `[briefing]` table.
    pub fn text(&self, incident: &Incident, plan: &PlanBriefing) -> String {
        text::render(
            incident,
            &self.inner.config,
            plan.language,
            plan.template.as_ref(),
        )
    }

    /// The briefing text for a group of incidents on one asset (one call for all of them).
    pub fn text_group(&self, incidents: &[Incident], plan: &PlanBriefing) -> String {
        text::render_group(
            incidents,
            &self.inner.config,
            plan.language,
            plan.template.as_ref(),
        )
    }

    /// [`Briefer::prepare`] for a group: one briefing listing every fault.
    pub fn prepare_group(&self, incidents: &[Incident], dialplan: &Dialplan) -> BriefingHandle {
        let text = self.text_group(incidents, &dialplan.briefing);
        let details = self.details(incidents, &dialplan.briefing);
        self.prepare_text(text, details, &dialplan.briefing)
    }

    /// The details the default briefing offers on 2 (`None` under a dialplan's template).
    fn details(&self, incidents: &[Incident], plan: &PlanBriefing) -> Option<String> {
        text::render_details(
            incidents,
            &self.inner.config,
            plan.language,
            plan.template.as_ref(),
        )
    }

    /// Speaks `text` with the engine `kind` (or the default), through the cache.
    pub async fn speak(
        &self,
        text: &str,
        language: Language,
        kind: Option<EngineKind>,
    ) -> Result<Arc<[i16]>, BriefingError> {
        let engine = self.engine(kind);
        let key = CacheKey {
            engine: engine.id(),
            language,
            text: text.to_string(),
        };
        self.inner
            .cache
            .get_or_make(&key, || async {
                let request = SpeechRequest {
                    text: text.to_string(),
                    language,
                };
                let speech = engine.synthesize(&request).await?;
                let pcm = tokio::task::spawn_blocking(move || to_phone(&speech))
                    .await
                    .map_err(|_| BriefingError::Cancelled)??;
                Ok(Arc::from(pcm))
            })
            .await
    }

    /// Starts synthesizing the briefing for `incident` on `dialplan` at once (a tokio task)
    /// and returns a handle to wait on or poll. Calls for the same text share one synthesis.
    pub fn prepare(&self, incident: &Incident, dialplan: &Dialplan) -> BriefingHandle {
        self.prepare_with(incident, &dialplan.briefing)
    }

    /// [`Briefer::prepare`] with a `[briefing]` table instead of a whole dialplan.
    pub fn prepare_with(&self, incident: &Incident, plan: &PlanBriefing) -> BriefingHandle {
        let details = self.details(std::slice::from_ref(incident), plan);
        self.prepare_text(self.text(incident, plan), details, plan)
    }

    /// Synthesis of the briefing, then of its details (each on its own task; the short part
    /// is asked for first, so it is ready first).
    fn prepare_text(
        &self,
        text: String,
        details: Option<String>,
        plan: &PlanBriefing,
    ) -> BriefingHandle {
        let mut handle = self.synthesize(text, plan);
        handle.details = details.map(|d| Box::new(self.synthesize(d, plan)));
        handle
    }

    fn synthesize(&self, text: String, plan: &PlanBriefing) -> BriefingHandle {
        let text: Arc<str> = Arc::from(text);
        let (tx, rx) = watch::channel(None);
        let this = self.clone();
        let (spoken, language, engine) = (text.clone(), plan.language, plan.engine);
        tokio::spawn(async move {
            let result = this
                .speak(&spoken, language, engine)
                .await
                .map_err(Arc::new);
            if let Err(error) = &result {
                tracing::error!(%error, "briefing synthesis failed");
            }
            let _ = tx.send(Some(result));
        });
        BriefingHandle {
            text,
            language: plan.language,
            rx,
            details: None,
        }
    }
}

/// A briefing being synthesized: its text now, its audio when ready.
#[derive(Clone)]
pub struct BriefingHandle {
    text: Arc<str>,
    language: Language,
    rx: watch::Receiver<Option<Ready>>,
    /// What the vendor hears on 2 (the default template's second part).
    details: Option<Box<BriefingHandle>>,
}

impl BriefingHandle {
    /// The briefing text (what is being spoken).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The details offered on 2, if this briefing has them.
    pub fn details(&self) -> Option<&BriefingHandle> {
        self.details.as_deref()
    }

    /// Everything that may be spoken, as kept with the incident: the briefing, then its
    /// details after a line saying so.
    pub fn spoken(&self) -> String {
        match &self.details {
            Some(d) => format!("{}\n(on 2:)\n{}", self.text, d.text),
            None => self.text.to_string(),
        }
    }

    /// The briefing's language (to pick the matching greeting).
    pub fn language(&self) -> Language {
        self.language
    }

    /// The audio if synthesis has finished (8 kHz mono), without waiting.
    pub fn try_ready(&self) -> Option<Ready> {
        self.rx.borrow().clone()
    }

    /// Waits for the audio.
    pub async fn ready(&mut self) -> Ready {
        match self.rx.wait_for(Option::is_some).await {
            Ok(value) => value
                .clone()
                .unwrap_or(Err(Arc::new(BriefingError::Cancelled))),
            Err(_) => Err(Arc::new(BriefingError::Cancelled)),
        }
    }
}
