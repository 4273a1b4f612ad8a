//! The operator bridge's HTTP bodies through the real router (`web::router`, its guard,
//! body limit and auth layers) on a service with an in-memory store and one live call:
//! `POST /join/{token}/offer` (JSON offer; an unknown token, so no WebRTC leg is built),
//! `POST /leg/{secret}/{action}` for a talking and a listen-only leg, and
//! `POST /v1/calls/{id}/join` (mint, as an admin). Input: a selector byte, then the body.
#![no_main]

use std::cell::RefCell;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use hotline::runtime::Service;
use hotline::runtime::bridge::{BridgeCmd, LiveCall};
use hotline::sip::{Endpoint, Transport};
use hotline::store::Store;
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;

const TOKEN: &str = "fuzz-admin-token-0123456789";
const CALL: &str = "fuzz-call-0001";
/// A fresh service (and store) after this many requests: mint and the access log add rows.
const REBUILD_EVERY: u32 = 4096;
const ACTIONS: [&str; 9] = [
    "leave", "mute", "dtmf", "takeover", "hangup", "owner", "truth", "nope", "",
];

struct Harness {
    rt: Runtime,
    router: Router,
    talker: String,
    listener: String,
    cmds: mpsc::Receiver<BridgeCmd>,
    _timeline: watch::Sender<Arc<Vec<hotline::call::TimelineEvent>>>,
    runs: u32,
}

fn config() -> std::path::PathBuf {
    let dir = hotline_fuzz::scratch().join("web");
    std::fs::create_dir_all(dir.join("dialplans")).expect("scratch folder");
    let path = dir.join("hotline.toml");
    let text = format!(
        "[sip]\nbind = \"127.0.0.1:0\"\ntransport = \"udp\"\nfrom_user = \"hotline\"\n\
         [media]\nadvertise = \"127.0.0.1\"\nrtp_ports = \"30000-30099\"\n\
         [recording]\ndir = \"recordings\"\n[sla]\nanswer_within = \"30s\"\n\
         [dialplans]\ndir = \"dialplans\"\n\
         [http]\nlisten = \"127.0.0.1:0\"\napi_token = \"{TOKEN}\"\n\
         [store]\npath = \"data/hotline.db\"\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn build() -> Harness {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = hotline::config::load(&config()).expect("config");
    let plans = hotline::dialplan::load_dir(&cfg.dialplans.dir).expect("dialplans");
    let (svc, ep) = rt.block_on(async {
        let store = Store::open_memory().await.expect("store");
        let ep = Endpoint::bind("127.0.0.1:0".parse().expect("addr"), Transport::Udp, "fuzz")
            .await
            .expect("endpoint");
        (store, ep)
    });
    let briefer = hotline::briefing::Briefer::new(&cfg.briefing).expect("briefer");
    let svc = Service::new(cfg, plans, svc, ep, briefer);
    let (tx, cmds) = mpsc::channel(64);
    let (timeline_tx, timeline) = watch::channel(Arc::new(Vec::new()));
    svc.bridge().open_call(LiveCall {
        call_id: CALL.into(),
        incident: None,
        cmds: tx,
        timeline,
    });
    let leg = |listen_only| {
        let token = svc.bridge().mint(CALL, listen_only).expect("a live call");
        svc.bridge().redeem(&token).expect("a fresh token").0
    };
    let (talker, listener) = (leg(false), leg(true));
    let router = rt.block_on(async { hotline::web::router(svc.clone()) });
    Harness {
        rt,
        router,
        talker,
        listener,
        cmds,
        _timeline: timeline_tx,
        runs: 0,
    }
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    HARNESS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|h| h.runs >= REBUILD_EVERY) {
            *slot = None; // the old service and its store go first
            *slot = Some(build());
        }
        let h = slot.as_mut().expect("built above");
        h.runs += 1;
        let action = ACTIONS[usize::from(sel >> 2) % ACTIONS.len()];
        let (uri, auth) = match sel & 3 {
            0 => (
                "/join/00000000000000000000000000000000/offer".to_string(),
                false,
            ),
            1 => (format!("/leg/{}/{action}", h.talker), false),
            2 => (format!("/leg/{}/{action}", h.listener), false),
            _ => (format!("/v1/calls/{CALL}/join"), true),
        };
        let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
        if auth {
            req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        }
        let req = req.body(Body::from(body.to_vec())).expect("a request");
        let router = h.router.clone();
        let res = h.rt.block_on(router.oneshot(req)).expect("infallible");
        let _ = res.status();
        while h.cmds.try_recv().is_ok() {}
    });
});
