//! Reloading `hotline.toml` and the dialplans while serving: on SIGHUP and on
//! `POST /v1/admin/reload`. The new files pass the same checks as `hotline check` first; on
//! any error the running config stays and the reason is logged (and returned). Live calls are
//! never disturbed: a running ladder keeps the dialplans it started with. What changed is
//! logged; settings bound at start (addresses, folders, store, speech engine, bridge) keep
//! their running value until a restart, and the log says so.

use super::service::{ServeArgs, Service};
use crate::config::Config;
use crate::dialplan::{CheckOptions, Contact, Dialplan, Dialplans, check_loaded};
use serde::Serialize;

/// What a reload did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Reloaded {
    /// What changed and is in effect now.
    pub changes: Vec<String>,
    /// What changed but keeps its running value until a restart.
    pub restart_needed: Vec<String>,
    /// `hotline check` warnings of the new files.
    pub warnings: Vec<String>,
}

/// Why a reload kept the running config.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("this service was not started from a config file: nothing to reload")]
    NoSource,
    #[error("the new config has {} errors; the running one is kept: {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

/// Loads `hotline.toml` and the dialplans with `serve`'s overrides and checks them like
/// `hotline check`: every error, or the config, dialplans and warnings.
pub fn load_checked(args: &ServeArgs) -> Result<(Config, Dialplans, Vec<String>), Vec<String>> {
    let opts = CheckOptions {
        http_listen: args.http,
        sip_bind: args.sip,
        ..CheckOptions::new(chrono::Utc::now().date_naive())
    };
    match check_loaded(&args.config, &opts) {
        (report, Some((cfg, plans))) => Ok((cfg, plans, report.warnings)),
        (report, None) => Err(report.errors),
    }
}

/// Remembers where `svc` was loaded from (and the warnings it started with) and reloads it
/// on SIGHUP.
pub fn watch(svc: &Service, args: &ServeArgs, warnings: Vec<String>) {
    let _ = svc.inner.reload.source.set(args.clone());
    if let Ok(mut w) = svc.inner.reload.gate.try_lock() {
        *w = warnings;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Installed before `serve` says it is up, so an early SIGHUP never kills it.
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no SIGHUP reload");
                return;
            }
        };
        let svc = svc.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the config and dialplans");
                // The outcome is logged by reload itself.
                let _ = svc.reload().await;
            }
        });
    }
}

impl Service {
    /// Reloads `hotline.toml` and the dialplans: checked first, swapped in only when valid.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let mut running_warnings = self.inner.reload.gate.lock().await;
        let args = self
            .inner
            .reload
            .source
            .get()
            .cloned()
            .ok_or(ReloadError::NoSource)?;
        let loaded = tokio::task::spawn_blocking(move || load_checked(&args))
            .await
            .map_err(|e| ReloadError::Invalid(vec![format!("reload task failed: {e}")]))?;
        let (mut cfg, plans, warnings) = match loaded {
            Ok(x) => x,
            Err(errors) => {
                for e in &errors {
                    tracing::error!("reload refused, running config kept: {e}");
                }
                return Err(ReloadError::Invalid(errors));
            }
        };
        let old = self.inner.cfg();
        let old_plans = self.inner.plans();
        let restart_needed = pin_start_only(&old, &mut cfg);
        let mut changes = config_changes(&old, &cfg);
        changes.extend(plan_changes(&old_plans, &plans));
        for w in warnings.iter().filter(|w| !running_warnings.contains(w)) {
            tracing::warn!("reload: new warning: {w}");
        }
        *running_warnings = warnings.clone();
        for r in &restart_needed {
            tracing::warn!("reload: {r} changed; it takes effect at the next restart");
        }
        if changes.is_empty() {
            tracing::info!("reloaded: nothing changed");
        } else {
            tracing::info!("reloaded: {}", changes.join("; "));
        }
        self.inner.replace(cfg, plans);
        Ok(Reloaded {
            changes,
            restart_needed,
            warnings,
        })
    }
}

/// Settings bound when `serve` started keep their running value; returns what changed.
fn pin_start_only(old: &Config, new: &mut Config) -> Vec<String> {
    let mut pinned = Vec::new();
    macro_rules! pin {
        ($name:literal, $($field:tt)+) => {
            if old.$($field)+ != new.$($field)+ {
                pinned.push($name.to_string());
                new.$($field)+ = old.$($field)+.clone();
            }
        };
    }
    pin!("[sip] bind", sip.bind);
    pin!("[sip] transport", sip.transport);
    pin!("[sip] user_agent", sip.user_agent);
    pin!("[sip.register]", sip.register);
    pin!("[media]", media);
    pin!("[recording] dir", recording);
    pin!("[store] path", store);
    pin!("[http] listen", http.listen);
    pin!("[http] body_limit", http.body_limit);
    pin!("[briefing]", briefing);
    pin!("[bridge]", bridge);
    if new.sip.register.is_some() && old.sip.auth != new.sip.auth {
        // Calls use the new credentials at once; the running registration keeps its own.
        pinned.push("[sip.auth] for REGISTER".to_string());
    }
    pinned
}

/// The sections that changed (after pinning: only what applies now).
fn config_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut section = |name: &str, changed: bool| {
        if changed {
            out.push(format!("{name} changed"));
        }
    };
    section("[sip]", old.sip != new.sip);
    section("[sla]", old.sla != new.sla);
    section("[dialplans] dir", old.dialplans != new.dialplans);
    section("[http]", old.http != new.http);
    section("[intake]", old.intake != new.intake);
    section("[ladder]", old.ladder != new.ladder);
    section("[[operators]]", old.operators != new.operators);
    out
}

/// Dialplans added, removed or changed (positions in the file do not count).
fn plan_changes(old: &Dialplans, new: &Dialplans) -> Vec<String> {
    let mut out = Vec::new();
    for p in new.iter() {
        match old.get(p.id.as_str()) {
            None => out.push(format!("dialplan {} added", p.id)),
            Some(o) if !same_plan(o, p) => out.push(format!("dialplan {} changed", p.id)),
            Some(_) => {}
        }
    }
    for o in old.iter().filter(|o| new.get(o.id.as_str()).is_none()) {
        out.push(format!("dialplan {} removed", o.id));
    }
    out
}

fn same_plan(a: &Dialplan, b: &Dialplan) -> bool {
    let contact = |c: &Contact| {
        (
            c.id.clone(),
            c.name.clone(),
            c.destination.clone(),
            c.source.clone(),
            c.verified_on,
            c.ring_timeout,
            c.answer_within,
            c.menu.clone(),
            c.hours.clone(),
            c.retries,
            c.retry_after,
        )
    };
    a.vendor == b.vendor
        && a.rules == b.rules
        && a.briefing == b.briefing
        && a.contacts
            .iter()
            .map(contact)
            .eq(b.contacts.iter().map(contact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_only_settings_keep_their_running_value() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/hotline.toml"));
        let old = crate::config::load(path).expect("shipped config");
        let mut new = old.clone();
        new.http.listen = "127.0.0.1:9999".parse().expect("addr");
        new.ladder.hangup_on_resolve = !old.ladder.hangup_on_resolve;
        new.sla.answer_within = std::time::Duration::from_secs(7);
        let pinned = pin_start_only(&old, &mut new);
        assert_eq!(pinned, ["[http] listen"]);
        assert_eq!(new.http.listen, old.http.listen);
        assert_eq!(
            config_changes(&old, &new),
            ["[sla] changed", "[ladder] changed"]
        );
    }

    #[test]
    fn placeholders_checked_are_the_ones_a_ladder_fills() {
        let filled = super::super::ladder_task::menu_vars(&Default::default(), &Default::default());
        let mut names: Vec<_> = filled.names().collect();
        names.sort();
        let mut known = crate::dialplan::PLACEHOLDERS.to_vec();
        known.sort();
        assert_eq!(names, known);
    }
}
