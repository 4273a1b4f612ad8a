//! A dialplans folder as `serve` and `hotline check` load it: `fuzz.toml`, a shared line in
//! `lines/shared.toml` and a holiday file `holidays.txt` (the input's three parts, split at
//! NUL bytes). What loads is then used as a ladder uses it: routing, hours, menu digits.
#![no_main]

use std::collections::HashMap;
use std::fs;
use std::time::Duration;

use hotline::dialplan::{MenuStep, MenuVars, load_dir};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let plan = parts.next().unwrap_or_default();
    let line = parts.next();
    let holidays = parts.next().unwrap_or_default();

    let dir = hotline_fuzz::scratch().join("plans");
    let lines = dir.join("lines");
    fs::create_dir_all(&lines).expect("scratch folder");
    fs::write(dir.join("fuzz.toml"), plan).expect("write plan");
    fs::write(dir.join("holidays.txt"), holidays).expect("write holidays");
    match line {
        Some(text) => fs::write(lines.join("shared.toml"), text).expect("write line"),
        None => {
            let _ = fs::remove_file(lines.join("shared.toml"));
        }
    }
    let Ok(plans) = load_dir(&dir) else {
        return;
    };
    let incident = hotline_fuzz::sample_incident();
    let _ = plans.route(&incident);
    let now = hotline_fuzz::now();
    for plan in plans.iter() {
        let vars = MenuVars::new(
            incident.asset.contract.as_deref(),
            incident.asset.serial.as_deref(),
            incident.asset.tag.as_deref(),
            &plan.vars,
        );
        let _ = plan.rules.iter().map(|r| r.matches(&incident)).count();
        for contact in &plan.contacts {
            let _ = plans.contact(contact.id.as_str());
            let _ = contact.hours.is_open(now);
            let _ = contact.hours.next_open(now, Duration::from_secs(3 * 3600));
            for step in &contact.menu {
                if let MenuStep::Dtmf(t) = step {
                    let _ = vars.check(t);
                    let _ = t.expand(&HashMap::new());
                }
            }
        }
    }
});
