//! SIP over TLS (RFC 3261 §26.3.1, RFC 5630): the client side of a trunk connection with
//! rustls on the aws-lc-rs provider reqwest already links (one provider in the process).
//! The trunk's certificate is checked against the system roots (or `[sip.tls] ca_file`) and
//! the name we dialled (or `[sip.tls] server_name`), which is also sent as SNI. There is no
//! switch that accepts any certificate.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Longest a TLS handshake may take before the attempt fails (the trunk is unreachable).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why TLS could not be set up or a connection could not be secured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("ca_file {path}: {error}")]
    CaFile { path: PathBuf, error: String },
    #[error("ca_file {0}: no certificate in the file")]
    CaFileEmpty(PathBuf),
    #[error("no system root certificates found (set [sip.tls] ca_file)")]
    NoSystemRoots,
    #[error("bad tls server name \"{0}\"")]
    BadName(String),
    #[error("tls setup: {0}")]
    Setup(String),
}

/// Where the trust comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM file of CA certificates to trust instead of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name to verify and send as SNI for every connection, instead of the host of the URI
    /// the request goes to (a trunk configured by IP address whose certificate names a host).
    pub server_name: Option<String>,
}

/// A TLS client: trusted roots, verification and SNI. Cheap to clone.
#[derive(Clone)]
pub struct TlsClient {
    connector: TlsConnector,
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl TlsClient {
    /// Loads the roots (the CA file, else the system's) and builds the client.
    pub fn new(settings: &TlsSettings) -> Result<Self, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        match &settings.ca_file {
            Some(path) => {
                for cert in load_certs(path)? {
                    roots.add(cert).map_err(|e| TlsError::CaFile {
                        path: path.clone(),
                        error: e.to_string(),
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::debug!(error = %e, "a system root certificate store could not be read");
                }
                let (added, _ignored) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(TlsError::NoSystemRoots);
                }
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = settings
            .server_name
            .as_deref()
            .map(server_name)
            .transpose()?;
        Ok(TlsClient {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }

    /// The name a connection to `host` is verified against (and sends as SNI).
    pub fn name_for(&self, host: &str) -> Result<ServerName<'static>, TlsError> {
        match &self.server_name {
            Some(n) => Ok(n.clone()),
            None => server_name(host),
        }
    }

    /// Secures a connected stream: handshake, certificate chain and name checks.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        name: ServerName<'static>,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        let shown = name.to_str().into_owned();
        let fail = |why: String| {
            std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                format!("tls handshake with {peer} ({shown}) failed: {why}"),
            )
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(fail(e.to_string())),
            Err(_) => Err(fail(format!(
                "no answer within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// A DNS name or an IP address (RFC 5922 §7: SIP certificates name the domain we dialled).
fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string()).map_err(|_| TlsError::BadName(host.to_string()))
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| TlsError::CaFile {
        path: path.to_path_buf(),
        error: e.to_string(),
    })?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::CaFile {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::CaFileEmpty(path.to_path_buf()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hosts_or_addresses() {
        assert!(server_name("trunk.example.com").is_ok());
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(server_name("bad name").is_err());
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.pem");
        let e = TlsClient::new(&TlsSettings {
            ca_file: Some(missing.clone()),
            server_name: None,
        })
        .expect_err("missing file");
        assert!(e.to_string().contains("nope.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = TlsClient::new(&TlsSettings {
            ca_file: Some(empty),
            server_name: None,
        })
        .expect_err("empty file");
        assert!(e.to_string().contains("no certificate"), "{e}");
    }
}
