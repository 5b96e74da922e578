//! `dbconsultant serve` and `dbconsultant keys`.

use std::io::Write;

use dbconsultant::config::Config;
use dbconsultant::Consultant;
use dbconsultant_cli::service_args::{KeysCommand, ServeArgs, WorkerArgs};
use dbconsultant_rest::jobs::WorkerOptions;

/// The config and targets a server or worker reads.
fn setup(a: &WorkerArgs) -> anyhow::Result<(Config, Vec<dbconsultant_rest::Target>, WorkerOptions)> {
    let config = crate::inputs::config_file(a.config.as_deref())?;
    config.validate()?;
    let targets = match &a.targets {
        Some(path) => dbconsultant_rest::targets::load(path)?,
        None => Vec::new(),
    };
    if targets.is_empty() {
        tracing::warn!("no targets (--targets FILE): only lint, stored runs and decisions are available");
    }
    anyhow::ensure!(a.lease_seconds >= 3, "--lease-seconds {}: at least 3 (a lease is renewed every third of it)", a.lease_seconds);
    let options = WorkerOptions { lease: std::time::Duration::from_secs(a.lease_seconds), ..WorkerOptions::default() };
    Ok((config, targets, options))
}

/// `dbconsultant worker`: run queued jobs, no endpoints.
pub async fn worker(a: WorkerArgs, consultant: Consultant) -> anyhow::Result<u8> {
    let (config, targets, options) = setup(&a)?;
    let service = dbconsultant_rest::Service::new(consultant, targets, &config, dbconsultant_rest::Limits::default())?;
    eprintln!("dbconsultant worker: {} worker(s) on the store's queue", a.workers.max(1));
    dbconsultant_rest::work(service, a.workers, options).await;
    Ok(0)
}

pub async fn serve(a: ServeArgs, consultant: Consultant) -> anyhow::Result<u8> {
    let (config, targets, worker_options) = setup(&a.work)?;
    let limits = dbconsultant_rest::Limits {
        max_body_bytes: a.max_body_bytes,
        request_timeout: std::time::Duration::from_secs(a.request_timeout),
        requests_per_minute: a.rate_limit,
    };
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(dbconsultant_rest::tls::TlsFiles { cert, key }),
        _ => None,
    };
    if tls.is_none() && !a.listen.ip().is_loopback() {
        tracing::warn!(
            "serving plain HTTP on {}: API keys cross the network in clear; give --tls-cert and --tls-key or put a TLS proxy in front",
            a.listen
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut service = dbconsultant_rest::Service::new(consultant, targets, &config, limits)?;
    if let (Some(jwks), Some(issuer), Some(audience)) = (&a.jwks, a.jwt_issuer, a.jwt_audience) {
        service = service.with_jwt(dbconsultant_rest::jwt::JwtConfig {
            keys: dbconsultant_rest::jwks::KeySet::load(dbconsultant_rest::jwks::Source::parse(jwks, a.jwks_ca.clone())?).await?,
            issuer,
            audience,
            name_claim: a.jwt_name_claim,
            grants_claim: a.jwt_grants_claim,
        });
    }
    let announce = |bound| eprintln!("dbconsultant serve: listening on {scheme}://{bound}/api/v1/");
    dbconsultant_rest::serve(service, a.listen, tls, (a.work.workers, worker_options), announce)
        .await
        .map_err(|e| anyhow::anyhow!("serve: {}", e.detail()))?;
    Ok(0)
}

pub async fn keys(command: KeysCommand, consultant: Consultant) -> anyhow::Result<u8> {
    let store = consultant.store();
    let mut out = std::io::stdout().lock();
    match command {
        KeysCommand::Create { name, grants } => {
            let (key, text) = dbconsultant_rest::create_key(store, &name, &grants).await?;
            writeln!(out, "{text}")?;
            eprintln!("key {} ({}) created with {}; this is the only time its text is shown", key.id, key.name, key.grants.join(" "));
        }
        KeysCommand::List { format } => {
            let keys = store.api_keys().await?;
            match format.as_str() {
                "json" => writeln!(out, "{}", serde_json::to_string_pretty(&keys)?)?,
                "text" => {
                    if keys.is_empty() {
                        writeln!(out, "no keys")?;
                    }
                    for k in keys {
                        let state = k.revoked_at.map(|at| format!("revoked {at}")).unwrap_or_else(|| "active".into());
                        writeln!(out, "{}  {:<20} {:<30} {}  {state}", k.id, k.name, k.grants.join(" "), k.created_at)?;
                    }
                }
                other => anyhow::bail!("unknown format '{other}' for keys list (expected text or json)"),
            }
        }
        KeysCommand::Revoke { id } => {
            let key = store.revoke_api_key(&id).await?;
            writeln!(out, "key {} ({}) revoked", key.id, key.name)?;
        }
    }
    Ok(0)
}
