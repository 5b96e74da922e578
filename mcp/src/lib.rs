//! `dbconsultant mcp`: a Model Context Protocol server that lets an AI assistant inspect and
//! validate the databases it is given, without being able to change them.
//!
//! Thin over the core, like the language bindings: [`tools`] declares each tool (schema,
//! description for a model, read-only / destructive hints), [`calls`] turns a tool's
//! arguments into a core request, [`server`] runs the calls under the limits of
//! [`limits`] and writes every call to the audit log ([`audit`]).

pub mod audit;
pub mod calls;
pub mod http;
pub mod limits;
pub mod server;
pub mod tools;

use std::sync::Arc;

use dbconsultant::config::Config;
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{Consultant, Dialect};
use serde::{Deserialize, Serialize};

pub use server::McpServer;

/// What the server may do to a database beyond reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Reads only: no tool opens a sandbox (migrations cannot be validated; index
    /// recommendations are verified with hypothetical indexes or not at all).
    ReadOnly,
    /// Also sandboxed work: `validate_migration`, and index verification in a sandbox. The
    /// target itself is still never modified.
    Sandbox,
}

impl std::str::FromStr for Mode {
    type Err = dbconsultant::Error;
    fn from_str(s: &str) -> Result<Mode, Self::Err> {
        match s {
            "read-only" | "readonly" | "read_only" => Ok(Mode::ReadOnly),
            "sandbox" => Ok(Mode::Sandbox),
            other => Err(dbconsultant::Error::invalid(format!("unknown mode '{other}' (expected read-only or sandbox)"))),
        }
    }
}

/// One database the server may use, by the name tools refer to it with. The URL (with its
/// password) never leaves the server.
pub struct Database {
    pub name: String,
    url: DatabaseUrl,
    raw_url: String,
}

impl Database {
    /// `NAME=URL`, or a bare URL (named `default`).
    pub fn parse(spec: &str) -> dbconsultant::Result<Database> {
        let (name, url) = match spec.split_once('=') {
            Some((name, url)) if is_name(name) && !name.contains(':') => (name.to_string(), url.to_string()),
            _ => ("default".to_string(), spec.to_string()),
        };
        let parsed = DatabaseUrl::parse(&url)?;
        Ok(Database { name, url: parsed, raw_url: url })
    }

    pub fn dialect(&self) -> Dialect {
        self.url.dialect()
    }

    /// The connection URL, for core requests that take one.
    pub(crate) fn url(&self) -> &str {
        &self.raw_url
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Everything the server needs.
pub struct McpOptions {
    pub databases: Vec<Database>,
    pub mode: Mode,
    /// Masking, sandbox and `[mcp]` limits.
    pub config: Config,
    pub consultant: Consultant,
}

impl McpOptions {
    pub fn new(databases: Vec<Database>, mode: Mode, config: Config, consultant: Consultant) -> dbconsultant::Result<McpOptions> {
        if databases.is_empty() {
            return Err(dbconsultant::Error::invalid("give at least one database: --db URL or --db NAME=URL"));
        }
        let mut names: Vec<&str> = databases.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(dbconsultant::Error::invalid(format!("two databases are named '{}': name each one, --db NAME=URL", w[0])));
        }
        Ok(McpOptions { databases, mode, config, consultant })
    }
}

/// Serve over stdin/stdout until the client closes the connection.
pub async fn serve_stdio(options: McpOptions) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use rmcp::ServiceExt;
    let server = McpServer::new(Arc::new(options));
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_specs() {
        let d = Database::parse("shop=sqlite:///tmp/shop.db").unwrap();
        assert_eq!((d.name.as_str(), d.url()), ("shop", "sqlite:///tmp/shop.db"));
        let d = Database::parse("postgres://u:p@h/db?sslmode=disable").unwrap();
        assert_eq!(d.name, "default");
        assert!(Database::parse("x=nope://").is_err());
    }
}
