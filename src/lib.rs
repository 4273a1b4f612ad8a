//! hotline: dials a failed asset's vendor over SIP, walks its menu, briefs, records, times.
//!
//! Module map, bottom floor first (each folder imports only from floors below it; the order is
//! in docs/ARCHITECTURE.md and enforced by tests/layers.rs):
//! - [`media`]: G.711, RTP, RFC 4733 DTMF, SDP, reorder window, audio sources (pure).
//! - [`recording`]: crash-safe two-channel WAV, repair, JSON sidecar.
//! - [`listen`]: what the far end is doing (silence, tone, music, prompt, person): a pure
//!   streaming stage fed 20 ms frames, with the Silero VAD run by tract.
//! - [`call`]: one call as a pure, time-injected state machine (no I/O).
//! - [`incident`]: the one incident model; webhook bodies -> incidents, webhook auth (pure).
//! - [`config`], [`dialplan`]: `hotline.toml` and `dialplans/*.toml` as typed values.
//! - [`ladder`]: escalation across a dialplan's contacts, pure and time-injected like `call`.
//! - [`briefing`]: incident -> text -> 8 kHz speech.
//! - [`sip`]: the only place that names the SIP stack; wire <-> `call` types, transports.
//! - [`store`]: SQLite database of incidents, deliveries, calls, ladder steps, tickets.
//! - [`audit`]: the integrity hash chain (seal, verify), evidence zip, waveform peaks.
//! - [`runtime`]: wires sockets and tasks: the service, one task per ladder and per call,
//!   the operator bridge, shutdown and recovery.
//! - [`web`]: the HTTP routes (hooks, API, console, join pages, metrics) over the runtime.
//! - [`cli`]: the `hotline` commands (dial, serve, brief, demo, listen, sim-vendor).

pub mod audit;
pub mod briefing;
pub mod call;
pub mod cli;
pub mod config;
pub mod dialplan;
pub mod incident;
pub mod ladder;
pub mod listen;
pub mod media;
pub mod recording;
pub mod runtime;
pub mod sip;
pub mod store;
pub mod web;
