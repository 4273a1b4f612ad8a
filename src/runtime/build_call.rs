//! Building a call: contact + menu + audio -> `CallSetup`, the RTP socket and the SIP endpoint.
//! Shared by `hotline dial`, the ladder task and the operator phone legs; audio is ready
//! before the INVITE leaves.

use super::briefing_source::BriefingAudio;
use super::call_task::{CallSetup, SourceFactory, pcm_source};
use crate::call::{AuthPolicy, CallId, CallParams, CallRecord, Clock, MenuStep, PROBE, Tag};
use crate::config::{self, Config};
use crate::dialplan::{Contact, Dialplan, MenuStep as PlanStep, PlaySource};
use crate::media::source::{AudioSource, ToneSource, load_wav};
use crate::media::srtp::{LocalSrtp, MasterKey};
use crate::recording::sidecar::recording_path;
use crate::sip::{Credentials, Endpoint, SipContext, Transport};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

/// Why a call could not even be attempted (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Setup(String),
}

/// DTMF digit length for menu steps.
const DTMF_MS: u32 = 120;

pub(super) fn host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn play_name(src: &PlaySource) -> String {
    match src {
        PlaySource::Briefing => "briefing".into(),
        PlaySource::Prompt(n) => format!("prompt:{n}"),
        PlaySource::Wav(p) => p.display().to_string(),
    }
}

/// Audio for a `play` step, ready before the INVITE leaves (nothing is synthesized after the
/// answer).
fn load_source(src: &PlaySource, briefing: Option<SourceFactory>) -> Result<SourceFactory, String> {
    match src {
        PlaySource::Briefing => briefing.ok_or_else(|| {
            "menu plays the briefing: pass --incident FILE (or --play FILE.wav)".to_string()
        }),
        PlaySource::Wav(p) => load_wav(p)
            .map(|pcm| pcm_source(Arc::from(pcm)))
            .map_err(|e| format!("{}: {e}", p.display())),
        PlaySource::Prompt(name) => builtin_prompt(name).map(pcm_source),
    }
}

/// Built-in prompts: `beep` (a 1 kHz, 400 ms tone), otherwise spoken with espeak-ng.
fn builtin_prompt(name: &str) -> Result<Arc<[i16]>, String> {
    if name == "beep" {
        let mut t = ToneSource::new(1000.0, 8000, 400);
        let mut out = Vec::new();
        let mut frame = [0i16; 160];
        while t.next_frame(&mut frame) {
            out.extend_from_slice(&frame);
        }
        return Ok(out.into());
    }
    let text = name.replace(['-', '_'], " ");
    super::speech::say(&text)
        .map(Arc::from)
        .ok_or_else(|| format!("prompt \"{name}\": espeak-ng is not available"))
}

/// Binds an RTP socket on an even port of the range (RFC 3550 §11), starting at a random one.
pub(super) async fn bind_rtp(ip: IpAddr, start: u16, end: u16) -> Result<UdpSocket, String> {
    let span = (end - start) / 2 + 1;
    let first = rand::random::<u16>() % span;
    for i in 0..span {
        let port = start + ((first + i) % span) * 2;
        if port > end {
            continue;
        }
        if let Ok(s) = UdpSocket::bind((ip, port)).await {
            return Ok(s);
        }
    }
    Err(format!("no free rtp port in {start}-{end}"))
}

/// One call to place: which contact, with what.
pub struct CallRequest<'a> {
    pub plan: &'a Dialplan,
    pub contact: &'a Contact,
    /// Menu placeholder values.
    pub vars: &'a HashMap<String, String>,
    /// Audio for `play = "briefing"` (and the details a `2` plays).
    pub briefing: Option<BriefingAudio>,
    pub max_duration: Duration,
    /// The contact's SLA `answer_within` when it caps ringing (a ladder moves on at an SLA
    /// miss); named in the reason when it is the shorter limit.
    pub ring_cap: Option<Duration>,
    /// Play the briefing after the menu when the menu has no `play = "briefing"` step
    /// (`hotline dial --play/--incident`); a ladder follows the dialplan's menu as written.
    pub append_briefing: bool,
    /// The trunk to go out on (a ladder's failover picks it); None: the contact's /
    /// dialplan's preferred one (`Config::trunk_for`).
    pub trunk: Option<&'a config::Trunk>,
}

/// The SIP transport the config asks for.
pub fn transport_of(cfg: &Config) -> Transport {
    match cfg.sip.transport {
        config::Transport::Udp => Transport::Udp,
        config::Transport::Tcp => Transport::Tcp,
        config::Transport::Tls => Transport::Tls,
    }
}

/// Binds the SIP endpoint `[sip]` asks for (TLS with its `[sip.tls]` trust).
pub async fn bind_endpoint(
    cfg: &Config,
    transport: Transport,
    user_agent: &str,
) -> Result<Endpoint, String> {
    let bound = match transport {
        Transport::Tls => {
            let tls = crate::sip::TlsClient::new(&tls_settings(cfg)).map_err(|e| e.to_string())?;
            Endpoint::bind_tls(cfg.sip.bind, user_agent, tls).await
        }
        other => Endpoint::bind(cfg.sip.bind, other, user_agent).await,
    };
    bound.map_err(|e| format!("cannot bind sip {}: {e}", cfg.sip.bind))
}

/// `[sip.tls]` as the SIP edge takes it.
pub fn tls_settings(cfg: &Config) -> crate::sip::TlsSettings {
    let t = cfg.sip.tls.as_ref();
    crate::sip::TlsSettings {
        ca_file: t.and_then(|t| t.ca_file.clone()),
        server_name: t.and_then(|t| t.server_name.clone()),
    }
}

/// Our SRTP side for one call: the policy and fresh keys from the CSPRNG (`None` when off).
fn local_srtp(mode: crate::media::srtp::SrtpMode) -> Result<Option<LocalSrtp>, DialError> {
    if mode == crate::media::srtp::SrtpMode::Off {
        return Ok(None);
    }
    let key = || MasterKey::generate().map_err(DialError::Setup);
    Ok(Some(LocalSrtp {
        mode,
        keys: [key()?, key()?],
    }))
}

/// The User-Agent the config asks for.
pub fn user_agent_of(cfg: &Config) -> String {
    cfg.sip
        .user_agent
        .clone()
        .unwrap_or_else(|| format!("hotline/{}", env!("CARGO_PKG_VERSION")))
}

/// Builds a call to a whitelisted contact: menu expanded, audio loaded (nothing is synthesized
/// after the answer), RTP socket bound, record and recording path ready.
pub async fn build_call(
    cfg: &Config,
    ep: &Endpoint,
    req: CallRequest<'_>,
) -> Result<(CallSetup, UdpSocket), DialError> {
    let CallRequest {
        plan,
        contact,
        vars,
        briefing,
        max_duration,
        ring_cap,
        append_briefing,
        trunk: picked,
    } = req;
    let mut sources: HashMap<String, SourceFactory> = HashMap::new();
    let mut menu = Vec::new();
    let mut plays_briefing = false;
    for step in &contact.menu {
        menu.push(match step {
            PlanStep::Wait(d) => MenuStep::Wait(*d),
            PlanStep::Dtmf(t) => {
                let digits = t.expand(vars).map_err(|e| {
                    DialError::Config(format!(
                        "{}: contact {}: {e} (pass --var name=value)",
                        plan.path.display(),
                        contact.id.as_str()
                    ))
                })?;
                if digits.len() > crate::dialplan::MAX_DTMF_LEN {
                    tracing::warn!(
                        contact = contact.id.as_str(),
                        digits = digits.len(),
                        "a menu step keys in more than {} digits (a long contract number?)",
                        crate::dialplan::MAX_DTMF_LEN
                    );
                }
                MenuStep::Dtmf {
                    digits,
                    duration_ms: DTMF_MS,
                }
            }
            PlanStep::Play(src) => {
                let name = play_name(src);
                if !sources.contains_key(&name) {
                    let pcm = load_source(src, briefing.as_ref().map(|b| b.main.clone()))
                        .map_err(|e| DialError::Config(format!("{}: {e}", plan.path.display())))?;
                    sources.insert(name.clone(), pcm);
                }
                plays_briefing |= matches!(src, PlaySource::Briefing);
                MenuStep::Play(name)
            }
            PlanStep::Hangup => MenuStep::Hangup,
            PlanStep::WaitPrompt(cap) => MenuStep::WaitPrompt(*cap),
            PlanStep::WaitHuman(timeout) => {
                if !sources.contains_key(PROBE) {
                    sources.insert(PROBE.into(), probe_line());
                }
                MenuStep::WaitHuman(*timeout)
            }
        });
    }
    if let Some(b) = &briefing
        && append_briefing
        && !plays_briefing
    {
        // --play with a menu that never plays: play it after the menu (before a hangup).
        sources.insert("briefing".into(), b.main.clone());
        let at = if menu.last() == Some(&MenuStep::Hangup) {
            menu.len() - 1
        } else {
            menu.len()
        };
        menu.insert(at, MenuStep::Play("briefing".into()));
    }
    // The briefing's details, for a `2` while it plays (the default briefing has them).
    if let Some(d) = briefing.as_ref().and_then(|b| b.details.clone())
        && sources.contains_key(crate::call::BRIEFING)
    {
        sources.insert(crate::call::BRIEFING_DETAILS.into(), d);
    }
    // The listener's model loads once per process (~0.1 s): before the INVITE, never between
    // the 200 OK and the first RTP packet.
    if let Ok(Err(e)) =
        tokio::task::spawn_blocking(crate::listen::silero::SileroModel::shared).await
    {
        tracing::warn!(error = %e, "listener unavailable: vad model did not load");
    }
    // The trunk this call goes out on (`[[trunks]]` by the contact's / dialplan's
    // preference; without any, `[sip]`): proxy, domain, number format, credentials.
    let chosen = match picked {
        Some(t) => t.clone(),
        None => cfg.trunk_for(&plan.trunks_for(contact)),
    };
    let trunk = chosen.number_domain().map(str::to_string);
    let request_uri = match (&contact.destination, &trunk) {
        (crate::dialplan::Destination::E164(number), Some(_)) => chosen
            .number_uri(number)
            .expect("a trunk with a number domain writes a number uri"),
        _ => contact
            .destination
            .request_uri(trunk.as_deref())
            .map_err(|e| DialError::Config(e.to_string()))?,
    };
    let from_user = chosen
        .caller_id
        .user
        .clone()
        .unwrap_or_else(|| cfg.sip.from_user.clone());
    let transport = ep.transport();
    let user_agent = user_agent_of(cfg);
    let dest = match &chosen.proxy {
        Some(p) => ep.resolve(p.as_str()).await,
        None => ep.resolve(&request_uri).await,
    }
    .map_err(DialError::Setup)?;
    let advertise = cfg.media.advertise;
    let rtp = bind_rtp(
        ep.local_addr().ip(),
        cfg.media.rtp_ports.start,
        cfg.media.rtp_ports.end,
    )
    .await
    .map_err(DialError::Setup)?;
    let rtp_port = rtp
        .local_addr()
        .map_err(|e| DialError::Setup(e.to_string()))?
        .port();
    let call_id = format!("{:032x}", rand::random::<u128>());
    let via = SocketAddr::new(advertise, ep.local_addr().port());
    let tp = transport.uri_param();
    let from_host = trunk.clone().unwrap_or_else(|| host(advertise));
    let sip = SipContext {
        call_id: CallId(call_id.clone()),
        local_tag: Tag(format!("{:016x}", rand::random::<u64>())),
        from_uri: format!("sip:{from_user}@{from_host}"),
        from_display: chosen.caller_id.display.clone(),
        asserted_identity: chosen
            .caller_id
            .asserted
            .as_ref()
            .map(|u| u.as_str().to_string()),
        request_uri: request_uri.clone(),
        // RFC 3261 §8.1.1.8: a sips: Request-URI needs a sips: Contact.
        contact: if request_uri.to_ascii_lowercase().starts_with("sips:") {
            format!("sips:{from_user}@{via}")
        } else {
            format!("sip:{from_user}@{via}{tp}")
        },
        via,
        transport,
        user_agent,
        credentials: chosen.auth.as_ref().map(|a| Credentials {
            username: a.username.clone(),
            password: a.password.expose().to_string(),
        }),
        cnonce: format!("{:016x}", rand::random::<u64>()),
    };
    let answer_within = contact.answer_within_or(cfg.sla.answer_within);
    let now = chrono::Utc::now();
    let date = (
        chrono::Datelike::year(&now),
        chrono::Datelike::month(&now),
        chrono::Datelike::day(&now),
    );
    let recording = recording_path(&cfg.recording.dir, date, &call_id)
        .map_err(|e| DialError::Setup(e.to_string()))?;
    let mut record = CallRecord::new(
        &call_id,
        plan.id.as_str(),
        contact.id.as_str(),
        &request_uri,
        answer_within,
        &recording.display().to_string(),
        Clock::now(),
    );
    record.trunk = Some(chosen.name.clone());
    let human_basis = menu.iter().any(|s| matches!(s, MenuStep::WaitHuman(_)));
    if human_basis {
        record.judge_on_human();
    }
    let params = CallParams {
        call_id: CallId(call_id),
        local_tag: sip.local_tag.clone(),
        reliable: transport.reliable(),
        local_media: SocketAddr::new(advertise, rtp_port),
        session_id: rand::random::<u32>() as u64,
        ring_timeout: ring_cap.map_or(contact.ring_timeout, |c| c.min(contact.ring_timeout)),
        ring_limit: match ring_cap {
            Some(c) if c < contact.ring_timeout => crate::call::RingLimit::AnswerWithin,
            _ => crate::call::RingLimit::RingTimeout,
        },
        max_duration,
        menu,
        auth: chosen.auth.as_ref().map(|a| AuthPolicy {
            realms: a.realm.clone(),
            trunk: dest,
        }),
        briefing: crate::call::BriefingPolicy {
            repeats: plan.briefing.repeats,
            repeat_on_star: plan.briefing.repeat_on_star,
            details_on_2: sources.contains_key(crate::call::BRIEFING_DETAILS),
            ..Default::default()
        },
        srtp: local_srtp(chosen.srtp)?,
        // 96 random bits: branches cannot be guessed from anything a reader can see.
        branch_key: format!("{:024x}", rand::random::<u128>() >> 32),
        human_sla: human_basis.then_some(answer_within),
        session_expires: Some(crate::call::SESSION_EXPIRES),
    };
    let setup = CallSetup {
        sip,
        params,
        dest,
        force_proxy: chosen.proxy.is_some(),
        record,
        recording_path: recording,
        sources,
        linger: false,
        forward_rx: None,
        dialogs: None,
        prompts: Some(
            cfg.recording
                .dir
                .join("prompts")
                .join(plan.id.as_str())
                .join(format!("{}.bin", contact.id.as_str())),
        ),
        listen: true,
        live: None,
        on_answer: None,
    };
    Ok((setup, rtp))
}

/// What hotline says into unknown speech during a hold; a person answers it. Short, so the
/// decision comes within seconds of the person's first words.
pub const PROBE_LINE: &str = "Hello, can you hear me?";

/// The probe line as 8 kHz speech (spoken once per process).
fn probe_line() -> SourceFactory {
    static PCM: std::sync::OnceLock<Arc<[i16]>> = std::sync::OnceLock::new();
    let pcm = PCM.get_or_init(|| {
        crate::runtime::speech::say(PROBE_LINE)
            .unwrap_or_else(|| vec![0; 8000])
            .into()
    });
    pcm_source(pcm.clone())
}
