//! hotline: dials a failed asset's vendor over SIP, walks its menu, briefs, records, times.
//!
//! Module map (each folder imports only from floors below it):
//! - [`call`]: one call as a pure, time-injected state machine (no I/O).
//! - [`listen`]: what the far end is doing (silence, tone, music, prompt, person): a pure
//!   streaming stage fed 20 ms frames, with the Silero VAD run by tract.
//! - [`media`]: G.711, RTP, RFC 4733 DTMF, SDP, reorder window, audio sources (pure).
//! - [`recording`]: crash-safe two-channel WAV, repair, JSON sidecar.
//! - [`config`], [`dialplan`]: `hotline.toml` and `dialplans/*.toml` as typed values.
//! - [`incident`]: the one incident model; webhook bodies -> incidents, webhook auth (pure).
//! - [`sip`]: the only place that names the SIP stack; wire <-> `call` types, transports.
//! - [`store`]: SQLite database of incidents, deliveries, calls, ladder steps, tickets.
//! - [`audit`]: the integrity hash chain (seal, verify), evidence zip, waveform peaks.
//! - [`app`]: wires sockets and tasks: one task per call, the CLI commands.

pub mod cli;
pub mod runtime;
pub mod audit;
pub mod briefing;
pub mod call;
pub mod config;
pub mod dialplan;
pub mod incident;
pub mod ladder;
pub mod listen;
pub mod media;
pub mod recording;
pub mod sip;
pub mod store;
pub mod web;
