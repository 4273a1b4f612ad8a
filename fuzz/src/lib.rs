//! What the fuzz targets share: a scratch folder on tmpfs for the loaders that read files,
//! a sample incident, and the webhook path (body -> incidents -> routing -> briefing text).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use hotline::briefing::text::render_group;
use hotline::config::{BriefingConfig, Language};
use hotline::incident::{Format, Incident, LabelMap, MAX_LABELS, MAX_TIMELINE};

/// A per-process folder for files a loader must read, on tmpfs when there is one (a fuzz
/// run writes it a million times). Removed at exit only if the process ends normally.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base: PathBuf = if shm.is_dir() {
            shm.into()
        } else {
            std::env::temp_dir()
        };
        tempfile::Builder::new()
            .prefix("hotline-fuzz-")
            .tempdir_in(base)
            .expect("a scratch folder")
    })
    .path()
}

/// The clock every target uses (hours, routing): fixed, so runs reproduce.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 14, 30, 0)
        .single()
        .expect("a valid fixed time")
}

/// An incident with the fields dialplans route and key in.
pub fn sample_incident() -> Incident {
    let mut i = Incident {
        source: "alertmanager".into(),
        fingerprint: "fp-fuzz".into(),
        ..Default::default()
    };
    i.fault.summary = "Disk failure on db-01".into();
    i.asset.vendor = Some("Dell".into());
    i.asset.serial = Some("CZ12345678".into());
    i.asset.tag = Some("ASSET-42".into());
    i.asset.contract = Some("C-998877".into());
    i.labels.insert("severity".into(), "critical".into());
    i
}

/// One webhook body through intake as the service takes it: parse, then each incident's
/// bounds, fingerprint, and briefing text in both languages (alone and as a group).
pub fn webhook(format: Format, body: &[u8]) {
    let map = LabelMap::default();
    let Ok(incidents) = format.parse(body, &map) else {
        return;
    };
    let config = BriefingConfig::default();
    for i in &incidents {
        assert!(i.labels.len() <= MAX_LABELS, "labels are capped");
        assert!(i.fault.timeline.len() <= MAX_TIMELINE, "timeline is capped");
        assert!(
            !i.fingerprint.is_empty(),
            "every incident has a fingerprint"
        );
        for lang in [Language::En, Language::Zh] {
            let _ = render_group(std::slice::from_ref(i), &config, lang, None);
        }
    }
    if incidents.len() > 1 {
        let _ = render_group(&incidents, &config, Language::En, None);
    }
}
