//! The identity provider's key set, from a file or from its URL (`.../certs`, `jwks_uri` of
//! the provider's discovery document). A URL is fetched at start (a failure stops the service),
//! again every [`REFRESH`], and at once when a token names a key the set lacks — providers
//! rotate keys by publishing the new one before signing with it — at most once per
//! [`MISS_BACKOFF`], so tokens with made-up key ids cannot make the service hammer the provider.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dbconsultant::{Error, Result};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

pub const REFRESH: Duration = Duration::from_secs(600);
pub const MISS_BACKOFF: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BYTES: usize = 1024 * 1024;

/// Where the keys come from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    /// An `https://` URL (or `http://` on a loopback address), trusting the public web roots and
    /// the PEM certificates of `ca` (a private provider's CA).
    Url {
        url: url::Url,
        ca: Option<PathBuf>,
    },
}

impl Source {
    /// A `--jwks` argument: a URL when it has a scheme, else a file.
    pub fn parse(text: &str, ca: Option<PathBuf>) -> Result<Source> {
        if text.starts_with("https://") || text.starts_with("http://") {
            let url = url::Url::parse(text).map_err(|e| Error::invalid(format!("--jwks {text}: {e}")))?;
            let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                || url.host_str() == Some("localhost");
            if url.scheme() == "http" && !loopback {
                return Err(Error::invalid(format!("--jwks {text}: fetch keys over https (plain http only on loopback)")));
            }
            Ok(Source::Url { url, ca })
        } else {
            Ok(Source::File(PathBuf::from(text)))
        }
    }

    fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Url { url, .. } => url.to_string(),
        }
    }
}

/// The current keys, refreshed from their source.
pub struct KeySet {
    source: Source,
    tls: Option<Arc<ClientConfig>>,
    keys: RwLock<JwkSet>,
    last_fetch: Mutex<Instant>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet").field("source", &self.source.label()).finish_non_exhaustive()
    }
}

impl KeySet {
    /// The keys of `source`, read or fetched now.
    pub async fn load(source: Source) -> Result<Arc<KeySet>> {
        let tls = match &source {
            Source::Url { ca, .. } => Some(Arc::new(client_config(ca.as_deref())?)),
            Source::File(_) => None,
        };
        let keys = read(&source, tls.as_ref()).await?;
        let set = Arc::new(KeySet { source, tls, keys: RwLock::new(keys), last_fetch: Mutex::new(Instant::now()) });
        if matches!(set.source, Source::Url { .. }) {
            let refreshing = Arc::downgrade(&set);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(REFRESH).await;
                    let Some(set) = refreshing.upgrade() else { return };
                    set.refresh().await;
                }
            });
        }
        Ok(set)
    }

    /// The key a token names (`kid`), or the only key when it names none; a URL is fetched
    /// again when the key is missing (within [`MISS_BACKOFF`]).
    pub async fn find(&self, kid: Option<&str>) -> std::result::Result<Jwk, String> {
        if let Some(key) = self.lookup(kid)? {
            return Ok(key);
        }
        let due = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner()).elapsed() >= MISS_BACKOFF;
        if due && matches!(self.source, Source::Url { .. }) {
            self.refresh().await;
            if let Some(key) = self.lookup(kid)? {
                return Ok(key);
            }
        }
        Err(format!("no key with kid '{}' in the key set", kid.unwrap_or("")))
    }

    fn lookup(&self, kid: Option<&str>) -> std::result::Result<Option<Jwk>, String> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        match kid {
            Some(kid) => Ok(keys.find(kid).cloned()),
            None if keys.keys.len() == 1 => Ok(Some(keys.keys[0].clone())),
            None => Err("the token names no key (kid) and the key set holds several".into()),
        }
    }

    async fn refresh(&self) {
        *self.last_fetch.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        match read(&self.source, self.tls.as_ref()).await {
            Ok(keys) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys,
            // The keys we have stay in use; the next refresh tries again.
            Err(e) => tracing::warn!("refreshing the JWKS: {e}"),
        }
    }
}

fn client_config(ca: Option<&Path>) -> Result<ClientConfig> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|c| c.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| Error::invalid(format!("--jwks-ca {}: {e}", ca.display())))?;
        for cert in certs {
            roots.add(cert).map_err(|e| Error::invalid(format!("--jwks-ca {}: {e}", ca.display())))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

async fn read(source: &Source, tls: Option<&Arc<ClientConfig>>) -> Result<JwkSet> {
    let label = source.label();
    let text = match source {
        Source::File(path) => std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("--jwks {label}: {e}")))?,
        Source::Url { url, .. } => tokio::time::timeout(FETCH_TIMEOUT, fetch(url, tls))
            .await
            .map_err(|_| Error::invalid(format!("--jwks {label}: no answer within {FETCH_TIMEOUT:?}")))?
            .map_err(|e| Error::invalid(format!("--jwks {label}: {e}")))?,
    };
    let keys: JwkSet = serde_json::from_str(&text).map_err(|e| Error::invalid(format!("--jwks {label}: not a JWK set: {e}")))?;
    if keys.keys.is_empty() {
        return Err(Error::invalid(format!("--jwks {label}: the set holds no key")));
    }
    Ok(keys)
}

/// One GET over HTTP/1.1, TLS for https.
async fn fetch(url: &url::Url, tls: Option<&Arc<ClientConfig>>) -> std::result::Result<String, String> {
    let host = url.host_str().ok_or("the URL names no host")?.to_string();
    let port = url.port_or_known_default().ok_or("the URL names no port")?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("connecting: {e}"))?;
    if url.scheme() == "https" {
        let config = tls.ok_or("no TLS configuration")?.clone();
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string()).map_err(|e| e.to_string())?;
        let stream = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
        get(TokioIo::new(stream), url, &host).await
    } else {
        get(TokioIo::new(tcp), url, &host).await
    }
}

async fn get<IO>(io: IO, url: &url::Url, host: &str) -> std::result::Result<String, String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let request = hyper::Request::get(if path.is_empty() { "/" } else { path })
        .header(hyper::header::HOST, host)
        .header(hyper::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("the server answered {}", response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_BYTES).collect().await.map_err(|e| format!("reading the body: {e}"))?.to_bytes();
    String::from_utf8(body.to_vec()).map_err(|_| "the body is not UTF-8".to_string())
}
