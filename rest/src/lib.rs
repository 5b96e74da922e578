//! `dbconsultant serve`: the operations of the registry over HTTP under `/api/v1/db/`, with
//! API keys and roles, named targets instead of URLs, RFC 9457 errors and an OpenAPI 3.1
//! document generated from the same registry.

mod admin_routes;
mod audit;
pub mod auth;
pub mod endpoints;
pub mod jobs;
mod jobs_routes;
pub mod jwks;
pub mod jwt;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod targets;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dbconsultant::config::Config;
use dbconsultant::{Consultant, Error, Result};
use serde_json::Value;

pub use auth::create_key;
pub use targets::Target;

/// Limits on every request.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Requests per minute per key; 0 for unlimited.
    pub requests_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body_bytes: 2 * 1024 * 1024, request_timeout: Duration::from_secs(300), requests_per_minute: 600 }
    }
}

/// What a server holds for its requests.
pub struct Service {
    consultant: Consultant,
    targets: Vec<Target>,
    config: Value,
    keys: auth::KeyChecker,
    limiter: auth::RateLimiter,
    limits: Limits,
    endpoints: Vec<endpoints::Endpoint>,
    openapi: Value,
    auditor: audit::Auditor,
}

impl Service {
    /// Needs a tokio runtime (the audit writer is a task).
    pub fn new(consultant: Consultant, targets: Vec<Target>, config: &Config, limits: Limits) -> Result<Service> {
        let endpoints = endpoints::endpoints(dbconsultant::ops::registry());
        let config = serde_json::to_value(config).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Service {
            auditor: audit::Auditor::start(consultant.store().clone()),
            consultant,
            targets,
            config,
            keys: auth::KeyChecker::default(),
            limiter: auth::RateLimiter::new(limits.requests_per_minute),
            openapi: openapi::document(&endpoints),
            endpoints,
            limits,
        })
    }

    /// Also accept OIDC / JWT bearer tokens checked this way.
    pub fn with_jwt(mut self, jwt: jwt::JwtConfig) -> Service {
        self.keys.jwt = Some(jwt);
        self
    }

    /// Record one request in the store's audit log; a store that fails is logged, the answer
    /// still goes out.
    pub(crate) async fn audit(&self, actor: &str, details: &str) {
        self.auditor.record(actor, details).await;
    }
}

/// Run `count` workers on the queue until the process ends (`dbconsultant worker`).
pub async fn work(service: Service, count: usize, options: jobs::WorkerOptions) {
    let service = Arc::new(service);
    let workers: Vec<_> = (0..count.max(1)).map(|_| tokio::spawn(service.clone().work(options.clone()))).collect();
    for w in workers {
        let _ = w.await;
    }
}

/// Serve until the process ends, over HTTPS when given a certificate, with `workers` workers
/// on the queue beside the endpoints; `ready` gets the bound address (port 0 picks one).
pub async fn serve(
    service: Service,
    addr: SocketAddr,
    tls: Option<tls::TlsFiles>,
    workers: (usize, jobs::WorkerOptions),
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    // Certificates are read before the port is taken: a wrong file is an error, not a server
    // that fails every handshake.
    let acceptor = tls.as_ref().map(tls::acceptor).transpose()?;
    let io = |e: std::io::Error| Error::invalid(format!("{addr}: {e}"));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(io)?;
    ready(listener.local_addr().map_err(io)?);
    let service = Arc::new(service);
    for _ in 0..workers.0 {
        tokio::spawn(service.clone().work(workers.1.clone()));
    }
    let router = routes::router(service);
    match acceptor {
        Some(acceptor) => tls::serve(listener, acceptor, router).await.map_err(io),
        None => axum::serve(listener, router).await.map_err(io),
    }
}
