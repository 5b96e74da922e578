//! Streamable HTTP on loopback (`dbconsultant mcp --http 127.0.0.1:PORT`): rmcp's tower
//! service served by hyper at `/mcp`. Only loopback addresses are accepted, rmcp checks the
//! `Host` header against loopback names (DNS rebinding), and with a token every request must
//! carry `Authorization: Bearer TOKEN` — other local users' processes can reach a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::{McpOptions, McpServer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serve until the process ends. `ready` gets the bound address (port 0 picks one).
pub async fn serve_http(
    options: McpOptions,
    addr: SocketAddr,
    token: Option<String>,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), BoxError> {
    if !addr.ip().is_loopback() {
        return Err(format!("--http must be a loopback address (127.0.0.1 or ::1), not {}", addr.ip()).into());
    }
    let server = McpServer::new(Arc::new(options));
    let service: StreamableHttpService<McpServer, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), Default::default(), StreamableHttpServerConfig::default());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    ready(listener.local_addr()?);
    let token = Arc::new(token.map(|t| format!("Bearer {t}")));
    loop {
        let (stream, _) = listener.accept().await?;
        let (service, token) = (service.clone(), token.clone());
        tokio::spawn(async move {
            let handler = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (service, token) = (service.clone(), token.clone());
                async move { Ok::<_, std::convert::Infallible>(route(service, token.as_deref(), req).await) }
            });
            let builder = hyper::server::conn::http1::Builder::new();
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), handler).with_upgrades().await {
                tracing::debug!("mcp http connection: {e}");
            }
        });
    }
}

async fn route(
    service: StreamableHttpService<McpServer, LocalSessionManager>,
    bearer: Option<&str>,
    req: Request<Incoming>,
) -> Response<BoxBody<Bytes, std::convert::Infallible>> {
    let plain = |status: StatusCode, text: &'static str| {
        Response::builder().status(status).body(Full::new(Bytes::from_static(text.as_bytes())).boxed()).expect("static response")
    };
    if req.uri().path() != "/mcp" {
        return plain(StatusCode::NOT_FOUND, "the MCP endpoint is /mcp\n");
    }
    if let Some(expected) = bearer {
        let given = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if given != Some(expected) {
            return plain(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
        }
    }
    let mut service = service;
    match tower_service::Service::call(&mut service, req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
