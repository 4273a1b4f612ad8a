//! Checks on `[[trunks]]` and the trunk names dialplans use: names defined twice, `[sip]`
//! trunk settings beside `[[trunks]]`, a bad proxy (a `sips:` proxy without TLS, a TLS CA file
//! that does not load), SRTP keys over plain signalling, and `trunks = [..]` naming a trunk
//! `hotline.toml` does not define (at the dialplan's file:line).

use super::Report;
use crate::config::{Config, Located, Seg, SrtpMode, Transport};
use crate::dialplan::{Destination, Dialplans};

/// Runs every trunk rule.
pub(super) fn check(cfg: &Config, doc: &Located, plans: &Dialplans, report: &mut Report) {
    for (index, message) in cfg.trunk_conflicts() {
        let at = match index {
            Some(i) => doc.at(&[Seg::Key("trunks"), Seg::At(i), Seg::Key("name")]),
            None => doc.at(&[Seg::Key("sip")]),
        };
        report.errors.push(format!("{at}: {message}"));
    }
    for (i, entry) in cfg.trunks.iter().enumerate() {
        let transport = entry.transport.unwrap_or(cfg.sip.transport);
        let proxy = entry.proxy.as_str().to_ascii_lowercase();
        let secure = proxy.starts_with("sips:") || proxy.contains(";transport=tls");
        if secure && transport != Transport::Tls {
            let at = doc.at(&[Seg::Key("trunks"), Seg::At(i), Seg::Key("proxy")]);
            report.errors.push(format!(
                "{at}: trunk \"{}\": proxy {} needs transport = \"tls\"",
                entry.name,
                entry.proxy.as_str()
            ));
        }
        if let Some(ca) = entry.tls.as_ref().and_then(|t| t.ca_file.as_ref())
            && let Err(why) = super::sip_rules::ca_file(ca)
        {
            let at = doc.at(&[Seg::Key("trunks"), Seg::At(i), Seg::Key("tls")]);
            report.errors.push(format!(
                "{at}: trunk \"{}\": ca_file {}: {why}",
                entry.name,
                ca.display()
            ));
        }
        let srtp = entry.srtp.unwrap_or(cfg.media.srtp);
        if srtp != SrtpMode::Off && transport != Transport::Tls {
            let at = doc.at(&[Seg::Key("trunks"), Seg::At(i), Seg::Key("name")]);
            report.warnings.push(format!(
                "{at}: trunk \"{}\": srtp keys travel in the SDP over plain signalling \
                 (RFC 4568 §8.3): use transport = \"tls\"",
                entry.name
            ));
        }
        if let Some(number) = &entry.test_number
            && !matches!(Destination::parse(number), Ok(Destination::E164(_)))
        {
            let at = doc.at(&[Seg::Key("trunks"), Seg::At(i), Seg::Key("test_number")]);
            report.errors.push(format!(
                "{at}: trunk \"{}\": test_number \"{number}\" is not an e.164 number",
                entry.name
            ));
        }
    }
    let known: Vec<String> = cfg.trunks().into_iter().map(|t| t.name).collect();
    for plan in plans.iter() {
        let contact_refs = plan.contacts.iter().flat_map(|c| c.trunks.iter());
        for r in plan.trunks.iter().chain(contact_refs) {
            if !known.contains(&r.name) {
                report.errors.push(format!(
                    "{}: unknown trunk \"{}\" (hotline.toml defines: {})",
                    r.location,
                    r.name,
                    known.join(", ")
                ));
            }
        }
    }
}
