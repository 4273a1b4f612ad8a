//! HTTP speech servers: OpenAI-compatible `POST /v1/audio/speech`, and Piper's HTTP server.

use std::time::Duration;

use super::{BoxFuture, Engine, Speech, SpeechRequest};
use crate::briefing::BriefingError;
use crate::briefing::audio::decode_wav;

/// Largest response accepted (about 10 minutes of 22 kHz 16-bit audio).
const MAX_BYTES: usize = 32 * 1024 * 1024;

fn client(timeout: Duration) -> Result<reqwest::Client, BriefingError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| BriefingError::Config(format!("http client: {e}")))
}

/// Sends `request`, reads a WAV body of at most [`MAX_BYTES`] and decodes it.
async fn fetch(
    engine: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<Speech, BriefingError> {
    let err = |message: String| BriefingError::Http { engine, message };
    let mut response = request.send().await.map_err(|e| err(without_url(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(err(format!("server answered {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| err(without_url(&e)))? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(err(format!("response larger than {MAX_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    decode_wav(&body)
}

/// A reqwest error without the URL (which may carry credentials in query strings).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "request failed"
    };
    kind.to_string()
}

/// An OpenAI-compatible speech server: `POST {url}/v1/audio/speech` with
/// `{model, input, voice, response_format: "wav"}`.
pub struct OpenAi {
    client: reqwest::Client,
    endpoint: String,
    model: String,
    voice: String,
    api_key: Option<String>,
}

impl OpenAi {
    /// `url` is the server's base URL (or the full `/v1/audio/speech` URL).
    pub fn new(
        url: &str,
        model: Option<&str>,
        voice: Option<&str>,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<Self, BriefingError> {
        let base = url.trim_end_matches('/');
        let endpoint = if base.ends_with("/audio/speech") {
            base.to_string()
        } else if base.ends_with("/v1") {
            format!("{base}/audio/speech")
        } else {
            format!("{base}/v1/audio/speech")
        };
        Ok(Self {
            client: client(timeout)?,
            endpoint,
            model: model.unwrap_or("tts-1").to_string(),
            voice: voice.unwrap_or("alloy").to_string(),
            api_key,
        })
    }
}

impl Engine for OpenAi {
    fn id(&self) -> String {
        format!("openai:{}:{}:{}", self.endpoint, self.model, self.voice)
    }

    fn synthesize<'a>(
        &'a self,
        request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "model": self.model,
                "input": request.text,
                "voice": self.voice,
                "response_format": "wav",
            });
            let mut req = self
                .client
                .post(&self.endpoint)
                .header("content-type", "application/json")
                .body(body.to_string());
            if let Some(key) = &self.api_key {
                req = req.bearer_auth(key);
            }
            fetch("openai", req).await
        })
    }
}

/// A Piper HTTP server (`python -m piper.http_server`): `POST {url}` with the text as the
/// body, WAV back.
pub struct Piper {
    client: reqwest::Client,
    url: String,
}

impl Piper {
    /// `url` is where the server listens, e.g. `http://127.0.0.1:5000`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, BriefingError> {
        Ok(Self {
            client: client(timeout)?,
            url: url.to_string(),
        })
    }
}

impl Engine for Piper {
    fn id(&self) -> String {
        format!("piper:{}", self.url)
    }

    fn synthesize<'a>(
        &'a self,
        request: &'a SpeechRequest,
    ) -> BoxFuture<'a, Result<Speech, BriefingError>> {
        Box::pin(async move {
            let req = self
                .client
                .post(&self.url)
                .header("content-type", "text/plain; charset=utf-8")
                .body(request.text.clone());
            fetch("piper", req).await
        })
    }
}
