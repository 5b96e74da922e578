//! Arguments of the REST service: `dbconsultant serve` and its API keys.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// Who asks for a run and under which id it is stored (the run commands share them).
#[derive(Args)]
pub struct RunIdentity {
    /// Who asks for the run (recorded on it; whoever requested a run cannot decide it).
    #[arg(long, value_name = "NAME")]
    pub requested_by: Option<String>,
    /// Store the run under this id (a retried job stores its run once; default: a new UUID).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
}

/// What the service's workers need: the targets, the config, how many and their lease.
#[derive(Args)]
pub struct WorkerArgs {
    /// The databases callers may name: a TOML file of [targets.NAME] with url, environment
    /// and password_env or password_file.
    #[arg(long, value_name = "FILE", env = "DBCONSULTANT_TARGETS")]
    pub targets: Option<PathBuf>,
    /// Config file (default: ./dbconsultant.toml when present): rules, masking, sandbox.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Workers running queued jobs (`Prefer: respond-async`) in this process.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Seconds a worker's lease on a job lasts without a heartbeat: a job whose worker died
    /// is taken over by another after this long.
    #[arg(long, default_value_t = 30)]
    pub lease_seconds: u64,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub work: WorkerArgs,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Longest a request may run, in seconds.
    #[arg(long, default_value_t = 300)]
    pub request_timeout: u64,
    /// Requests per minute per API key (bursts up to a minute's worth); 0 for unlimited.
    #[arg(long, default_value_t = 600)]
    pub rate_limit: u32,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also accept OIDC / JWT bearer tokens signed by a key of this JWKS: the identity
    /// provider's key set URL (https; fetched at start, every 10 minutes and when a token names
    /// a key it lacks) or a file; needs --jwt-issuer and --jwt-audience.
    #[arg(long, value_name = "URL|FILE", requires_all = ["jwt_issuer", "jwt_audience"])]
    pub jwks: Option<String>,
    /// PEM certificates to trust for the JWKS URL besides the public web roots (a private
    /// provider's CA).
    #[arg(long, value_name = "FILE", requires = "jwks")]
    pub jwks_ca: Option<PathBuf>,
    /// The `iss` a token must carry.
    #[arg(long, requires = "jwks")]
    pub jwt_issuer: Option<String>,
    /// The `aud` a token must carry.
    #[arg(long, requires = "jwks")]
    pub jwt_audience: Option<String>,
    /// The claim naming the caller.
    #[arg(long, default_value = "sub")]
    pub jwt_name_claim: String,
    /// The claim listing the caller's grants (viewer, runner:qa, approver:prod, admin).
    #[arg(long, default_value = "dbconsultant_grants")]
    pub jwt_grants_claim: String,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create an API key; its text is printed once and stored only as a password hash.
    Create {
        /// Who or what it is for (recorded as the actor of its requests and decisions; unique).
        name: String,
        /// What it may do (repeatable): viewer, admin, runner:ENV[,ENV], approver:ENV[,ENV];
        /// ENV is dev, qa, stage, prod or * for all.
        #[arg(long = "grant", required = true, value_name = "GRANT")]
        grants: Vec<String>,
    },
    /// Every key with its grants (never the secrets).
    List {
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Revoke a key by its id; servers stop accepting it within a minute.
    Revoke { id: String },
}
