//! Checks on `[sip]` transport security and `[media] srtp` that loading alone does not make:
//! a TLS trust that cannot load, `[sip.tls]` or `sips:` without `transport = "tls"`, and
//! SDES keys sent over a signalling path anyone can read.

use std::path::Path;

use super::Report;
use crate::config::{Config, Located, Seg, SrtpMode, Transport};
use crate::dialplan::{Destination, Dialplans};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Runs every `[sip]` transport and `[media] srtp` rule.
pub(super) fn check(cfg: &Config, doc: &Located, plans: &Dialplans, report: &mut Report) {
    let tls = cfg.sip.transport == Transport::Tls;
    if let Some(t) = &cfg.sip.tls {
        if !tls {
            let at = doc.at(&[Seg::Key("sip"), Seg::Key("tls")]);
            report.errors.push(format!(
                "{at}: [sip.tls] is set but transport is not \"tls\"; set transport = \"tls\" \
                 (or remove [sip.tls])"
            ));
        }
        if let Some(ca) = &t.ca_file
            && let Err(why) = ca_file(ca)
        {
            let at = doc.at(&[Seg::Key("sip"), Seg::Key("tls"), Seg::Key("ca_file")]);
            report
                .errors
                .push(format!("{at}: [sip.tls] ca_file {}: {why}", ca.display()));
        }
    }
    if let Some(proxy) = &cfg.sip.proxy
        && secure_uri(proxy.as_str())
        && !tls
    {
        let at = doc.at(&[Seg::Key("sip"), Seg::Key("proxy")]);
        report.errors.push(format!(
            "{at}: proxy {} needs transport = \"tls\"",
            proxy.as_str()
        ));
    }
    if !tls {
        for plan in plans.iter() {
            for c in &plan.contacts {
                if let Destination::Sip(uri) = &c.destination
                    && secure_uri(uri)
                {
                    report.errors.push(format!(
                        "{}: contact {}: {uri} needs [sip] transport = \"tls\"",
                        c.location, c.id
                    ));
                }
            }
        }
    }
    if cfg.media.srtp != SrtpMode::Off && !tls {
        let at = doc.at(&[Seg::Key("media"), Seg::Key("srtp")]);
        report.warnings.push(format!(
            "{at}: srtp keys travel in the SDP; over transport = \"{}\" anyone on the path \
             reads them (RFC 4568 §8.3): use transport = \"tls\"",
            match cfg.sip.transport {
                Transport::Udp => "udp",
                _ => "tcp",
            }
        ));
    }
}

/// `sips:` or `;transport=tls`.
fn secure_uri(uri: &str) -> bool {
    let u = uri.trim().to_ascii_lowercase();
    u.starts_with("sips:") || u.contains(";transport=tls")
}

/// A readable PEM file with at least one certificate.
pub(super) fn ca_file(path: &Path) -> Result<(), String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    Ok(())
}
