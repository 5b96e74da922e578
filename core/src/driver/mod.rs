//! Database drivers behind one trait. Each driver lives in its own module behind a cargo
//! feature; [`connect`] maps a URL scheme to the driver that serves it.
//!
//! A driver gives read-only access to the target (invariant 1) and opens sandboxes: places
//! where a migration may run without ever touching the target.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::url::DatabaseUrl;

#[cfg(feature = "sqlite")]
pub mod sqlite;

/// Rows from a bounded query, as JSON values keyed by column name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl QueryResult {
    /// First column of the first row as an integer (for `SELECT COUNT(*)`-style queries).
    pub fn scalar_u64(&self) -> Option<u64> {
        let first = self.rows.first()?;
        let col = self.columns.first()?;
        match first.get(col)? {
            serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// Read-only access to a target database.
#[async_trait]
pub trait Driver: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// The target, with secrets redacted.
    fn target(&self) -> String;
    async fn introspect(&self) -> Result<SchemaSnapshot>;
    /// Run a read-only query, returning at most `max_rows` rows.
    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult>;
    /// Open a sandbox holding the target's schema and data, where writes are allowed.
    async fn open_sandbox(&self) -> Result<Box<dyn Sandbox>>;
}

/// A writable copy (or always-rolled-back transaction) of the target.
#[async_trait]
pub trait Sandbox: Send {
    fn dialect(&self) -> Dialect;
    /// Run one migration statement. The error is the database's message for that statement.
    async fn execute(&mut self, sql: &str) -> std::result::Result<(), String>;
    async fn introspect(&mut self) -> Result<SchemaSnapshot>;
    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult>;
    /// Which constraint a failed statement violated, read from the database's message, so
    /// the caller can fetch the offending rows.
    fn constraint_violation(&self, _message: &str) -> Option<ConstraintViolation> {
        None
    }
    /// Discard the sandbox (delete the copy / roll back).
    async fn close(self: Box<Self>) -> Result<()>;
}

/// A constraint a statement failed on, as named by the database's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintViolation {
    Unique { table: String, columns: Vec<String> },
    NotNull { table: String, column: String },
    Check { table: String, name: String },
    ForeignKey,
}

/// Connect read-only to the database a URL names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Driver>> {
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite { path } => Ok(Box::new(sqlite::SqliteDriver::open(path).await?)),
        other => Err(Error::Connection {
            url: other.redacted(),
            reason: format!(
                "the {} driver is not available in this build (enable its cargo feature)",
                other.dialect()
            ),
        }),
    }
}
