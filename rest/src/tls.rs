//! HTTPS with rustls (ring, no OpenSSL), from a PEM certificate chain and key: what a
//! deployment without a TLS-terminating proxy in front needs. Each connection's handshake runs
//! in its own task, bounded in time, so a slow or silent client never holds up the others.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use dbconsultant::{Error, Result};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// Longest a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The acceptor for these files, or an error naming the file that is wrong.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let cert_label = files.cert.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::invalid(format!("--tls-cert {cert_label}: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(format!("--tls-cert {cert_label}: no PEM certificate in it")));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| Error::invalid(format!("--tls-key {}: {e}", files.key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::invalid(format!("--tls-cert {cert_label} with --tls-key {}: {e}", files.key.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serve `router` over TLS until the process ends.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: Router) -> std::io::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return tracing::debug!("TLS handshake with {peer}: {e}"),
                Err(_) => return tracing::debug!("TLS handshake with {peer}: no handshake within {HANDSHAKE_TIMEOUT:?}"),
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
}
