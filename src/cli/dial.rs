//! `hotline dial`: one call to one whitelisted contact, its record as JSON on stdout.

use crate::call::CallRecord;
use crate::config::{self, Config};
use crate::dialplan;
use crate::media::source::load_wav;
use crate::runtime::{
    BriefingAudio, CallRequest, CallSetup, DialError, SourceFactory, bind_endpoint, build_call,
    menu_vars, pcm_source, run_call, transport_of, user_agent_of,
};
use crate::sip::Endpoint;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Arguments of `hotline dial`.
#[derive(Clone, Debug)]
pub struct DialArgs {
    pub config: PathBuf,
    pub dialplan: String,
    pub contact: Option<String>,
    pub play: Option<PathBuf>,
    pub max_duration: Duration,
    pub vars: HashMap<String, String>,
    /// Incident file (the model, or any webhook format) to brief from.
    pub incident: Option<PathBuf>,
    /// Overrides `[sip] bind` (e.g. `127.0.0.1:0` next to a running `hotline serve`).
    pub sip: Option<SocketAddr>,
}

/// A call ready to place.
pub struct Prepared {
    pub config: Config,
    pub setup: CallSetup,
    pub endpoint: Endpoint,
    pub rtp: UdpSocket,
}

/// Loads config and dialplan, binds sockets and builds the call. `briefing` is audio for
/// `play = "briefing"` (else the `--play` file, else the briefing engine on `--incident`).
pub async fn prepare(
    args: &DialArgs,
    briefing: Option<SourceFactory>,
    endpoint: Option<Endpoint>,
) -> Result<Prepared, DialError> {
    let mut cfg = config::load(&args.config).map_err(|e| DialError::Config(e.to_string()))?;
    if let Some(sip) = args.sip {
        cfg.sip.bind = sip;
    }
    // Drill calls from the command line stay out of the store and the integrity chain: their
    // recordings go to their own folder, which `hotline verify` does not cover.
    cfg.recording.dir = cfg.recording.dir.join(crate::audit::CLI_DIR);
    let plans =
        dialplan::load_dir(&cfg.dialplans.dir).map_err(|e| DialError::Config(e.to_string()))?;
    let plan = plans.get(&args.dialplan).ok_or_else(|| {
        DialError::Config(format!(
            "no dialplan \"{}\" in {}",
            args.dialplan,
            cfg.dialplans.dir.display()
        ))
    })?;
    let contact = match &args.contact {
        Some(id) => plan
            .contacts
            .iter()
            .find(|c| c.id.as_str() == id)
            .ok_or_else(|| {
                DialError::Config(format!(
                    "{}: no contact \"{id}\" in dialplan \"{}\"",
                    plan.path.display(),
                    args.dialplan
                ))
            })?,
        // load_dir guarantees a dialplan has at least one contact.
        None => &plan.contacts[0],
    };
    let mut vars = HashMap::new();
    let briefing = match (&args.play, briefing, &args.incident) {
        (Some(p), _, _) => Some(BriefingAudio::only(pcm_source(Arc::from(
            load_wav(p).map_err(|e| DialError::Config(format!("{}: {e}", p.display())))?,
        )))),
        (None, Some(b), _) => Some(BriefingAudio::only(b)),
        (None, None, Some(file)) => {
            let incident = super::load_incident(file, &cfg.intake.labels)
                .map_err(|e| DialError::Config(e.to_string()))?;
            vars = menu_vars(&incident, &plan.vars).values;
            let briefer = crate::briefing::Briefer::new(&cfg.briefing)
                .map_err(|e| DialError::Config(format!("{}: {e}", args.config.display())))?;
            if let Err(e) = briefer.warm_up().await {
                tracing::warn!(error = %e, "no pre-synthesized greeting");
            }
            let handle = briefer.prepare(&incident, plan);
            tracing::info!(text = handle.text(), "briefing");
            let greeting = briefer.greeting(handle.language());
            Some(crate::runtime::briefing_audio(greeting, handle))
        }
        (None, None, None) => None,
    };
    // --var wins over values taken from the incident.
    vars.extend(args.vars.clone());
    let transport = transport_of(&cfg);
    let user_agent = user_agent_of(&cfg);
    let ep = match endpoint {
        Some(ep) => ep,
        None => bind_endpoint(&cfg, transport, &user_agent)
            .await
            .map_err(DialError::Setup)?,
    };
    let req = CallRequest {
        plan,
        contact,
        vars: &vars,
        briefing,
        max_duration: args.max_duration,
        ring_cap: None,
        append_briefing: true,
        trunk: None,
    };
    let (setup, rtp) = build_call(&cfg, &ep, req).await?;
    Ok(Prepared {
        config: cfg,
        setup,
        endpoint: ep,
        rtp,
    })
}

/// Places the call and returns its record. Ctrl-C hangs up cleanly; a second one exits.
pub async fn dial(args: DialArgs) -> Result<CallRecord, DialError> {
    let p = prepare(&args, None, None).await?;
    crate::runtime::store_lock::recover_unless_served(&p.config.recording.dir);
    if let Some(reg) = &p.config.sip.register {
        // The registrar is reached through the proxy when there is one.
        let dest = match &p.config.sip.proxy {
            Some(_) => p.setup.dest,
            None => p
                .endpoint
                .resolve(reg.registrar.as_str())
                .await
                .map_err(DialError::Setup)?,
        };
        let cfg = crate::sip::RegisterConfig {
            registrar: reg.registrar.as_str().to_string(),
            dest,
            aor: p.setup.sip.from_uri.clone(),
            contact: p.setup.sip.contact.clone(),
            expires: reg.expires,
            credentials: p.setup.sip.credentials.clone(),
            realms: p
                .config
                .sip
                .auth
                .as_ref()
                .map(|a| a.realm.clone())
                .unwrap_or_default(),
            user_agent: p.setup.sip.user_agent.clone(),
        };
        tokio::spawn(crate::sip::register_loop(cfg, p.endpoint.clone()));
    }
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: hanging up (press Ctrl-C again to exit at once)");
            let _ = tx
                .send(crate::call::Input::Hangup("operator interrupt".into()))
                .await;
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    Ok(run_call(p.endpoint, p.rtp, p.setup, rx).await)
}
