//! Database drivers behind one trait. Each database is one folder, behind a cargo feature,
//! holding everything that differs per database: connection and read-only sessions
//! (`mod.rs`), introspection into the normalized model (`introspect.rs`), the sandbox where
//! migrations run (`sandbox.rs`), the SQL that ETL reconciliation pushes down (`etl_sql.rs`)
//! and plan parsing (`plan.rs`). Checks never match on the dialect: they ask the driver.
//!
//! A driver gives read-only access to the target (the target is never modified) and opens
//! sandboxes: places where a migration may run without ever touching the target.
//!
//! # Adding a database
//! 1. A folder `driver/<name>/` with a type implementing [`Driver`] (and [`Sandbox`] for
//!    its sandbox), its [`etl_sql::EtlSql`] and its plan parser, behind a cargo feature.
//! 2. A [`Dialect`] variant with its URL schemes, parser dialect and quoting rules
//!    (`dialect.rs`, `url.rs`), since rules and reports name dialects.
//! 3. One registration line in [`connect_with`].
//!
//! The behaviour suites (`core/tests/servers.rs`, `etl.rs`, the SDK suites) then run against
//! a server of the new kind once its URL variable is set in `scripts/servers.sh`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::sql::ParsedStatement;
use crate::url::DatabaseUrl;

pub mod credentials;
pub mod etl_sql;
pub mod explain;
pub(crate) mod local_server;
mod lock;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod retry;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod template_cache;
pub(crate) mod tls;

pub use lock::LockMode;

/// Rows from a bounded query, as JSON values keyed by column name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// Drain a row stream into a bounded [`QueryResult`]: column names from the first row, at
/// most `max_rows` rows converted by the driver's `to_json`.
pub(crate) async fn collect_rows<R, S>(
    mut stream: S,
    max_rows: usize,
    message: impl Fn(&sqlx::Error) -> String,
    to_json: impl Fn(&R) -> serde_json::Map<String, serde_json::Value>,
) -> Result<QueryResult>
where
    R: sqlx::Row,
    S: futures_util::Stream<Item = std::result::Result<R, sqlx::Error>> + Unpin,
{
    use futures_util::TryStreamExt;
    use sqlx::Column as _;
    let mut result = QueryResult::default();
    while let Some(row) = stream.try_next().await.map_err(|e| Error::InvalidInput(format!("query failed: {}", message(&e))))? {
        if result.columns.is_empty() {
            result.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
        }
        if result.rows.len() >= max_rows {
            break;
        }
        result.rows.push(to_json(&row));
    }
    Ok(result)
}

/// Read-only access to a target database.
#[async_trait]
pub trait Driver: Send + Sync {
    fn dialect(&self) -> Dialect;
    /// The SQL ETL reconciliation pushes down to this database.
    fn etl_sql(&self) -> &'static dyn etl_sql::EtlSql;
    /// The target, with secrets redacted.
    fn target(&self) -> String;
    async fn introspect(&self) -> Result<SchemaSnapshot>;
    /// Run one read-only statement (see [`read_statement`]) prepared, in a READ ONLY
    /// transaction that is rolled back, returning at most `max_rows` rows.
    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult>;
    /// The schema unqualified table names belong to (PostgreSQL `current_schema()`, the MySQL
    /// database, SQLite `main`).
    async fn default_schema(&self) -> Result<String>;
    /// The schemas this login can see, with their table and view counts (by name). Where a
    /// database has one schema, that one.
    async fn schemas(&self) -> Result<Vec<crate::model::schema::SchemaSummary>> {
        let snapshot = self.introspect().await?;
        Ok(vec![crate::model::schema::SchemaSummary {
            name: self.default_schema().await?,
            tables: snapshot.tables.len(),
            views: snapshot.views.len(),
        }])
    }
    /// [`Driver::introspect`] of another schema (table names unqualified within it).
    async fn introspect_schema(&self, schema: &str) -> Result<SchemaSnapshot> {
        if schema == self.default_schema().await? {
            return self.introspect().await;
        }
        Err(Error::NotFound(format!("no schema named '{schema}'")))
    }
    /// Open a sandbox holding the target's schema and data, where writes are allowed.
    async fn open_sandbox(&self, options: &SandboxOptions) -> Result<Box<dyn Sandbox>>;
    /// The plan of one statement (see [`explain::check_explainable`]). With `analyze` the
    /// query runs, inside a read-only transaction that is rolled back; writes never run.
    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan>;
    /// The statements the database spent most time on (PostgreSQL pg_stat_statements, MySQL
    /// performance_schema digests), when it records them.
    async fn top_statements(&self, _limit: usize) -> Result<Vec<StatementStats>> {
        Err(Error::invalid(format!("{} keeps no statement statistics; profile queries given as text", self.dialect())))
    }
    /// Run a read-only query once, reading and discarding every row, in a read-only
    /// transaction that is rolled back; returns the wall time in milliseconds.
    async fn time_query(&self, sql: &str) -> Result<f64>;
    /// The plan of a query as if the index `create_index` existed, without creating it
    /// (PostgreSQL with the hypopg extension). `None` where hypothetical indexes are not
    /// available.
    async fn explain_with_hypothetical_index(&self, _sql: &str, _create_index: &str) -> Result<Option<crate::model::Plan>> {
        Ok(None)
    }
}

/// How a sandbox may be built (never on the target itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct SandboxOptions {
    /// A separate server or shadow database to run the migration on instead of the target's
    /// own server (PostgreSQL: a shadow database; MySQL: where the scratch database goes).
    pub sandbox_url: Option<String>,
    /// Use the target's server when no sandbox URL is given (`--sandbox-on-target`):
    /// MySQL/MariaDB a scratch database beside the target's; PostgreSQL, when no throwaway
    /// local server can be started, one always-rolled-back transaction on the target itself,
    /// which takes the migration's locks there (with `on_target_lock_timeout_ms`).
    pub allow_scratch_on_target: bool,
    /// Rows copied per table into the sandbox (PostgreSQL shadow, MySQL scratch database).
    pub sample_rows: u64,
    /// How long a sandbox statement may wait for a lock (PostgreSQL).
    pub lock_timeout_ms: u64,
    /// PostgreSQL on the target itself: how long a statement may wait for a lock, kept short
    /// so production traffic never queues behind the validation for longer.
    pub on_target_lock_timeout_ms: u64,
    /// Refuse a sandbox server of another major version than the target (default: warn).
    pub strict_version: bool,
    /// The directory of the server binaries for a throwaway sandbox server of the target's
    /// version (PostgreSQL: `initdb`, `pg_ctl`, `pg_dump`, `pg_restore`; MariaDB: `mariadbd`,
    /// `mariadb-install-db`); only it is searched when given (default:
    /// `$DBCONSULTANT_SERVER_BINDIR`, then the usual install locations and `PATH`).
    pub server_bindir: Option<String>,
    /// How long one sandbox statement may run.
    pub statement_timeout_ms: u64,
    /// How long one check of a new constraint against the target's full data may run
    /// (server-side statement timeout); a check that runs out is reported as not checked.
    pub full_data_timeout_ms: u64,
    /// The words of the migration that may name tables (lowercased), when it names every
    /// table it touches; on a large PostgreSQL schema the shadow then holds only those tables
    /// and what they depend on. Set by schema validation, not configured.
    #[serde(skip)]
    #[schemars(skip)]
    pub focus: Option<std::collections::BTreeSet<String>>,
    /// The target's tables, views and foreign keys as the caller already read them, so a
    /// large schema's subset is chosen without reading the catalog again (MySQL/MariaDB: two
    /// `information_schema` scans of ~0.5 s each at 10,000 tables).
    #[serde(skip)]
    #[schemars(skip)]
    pub known: Option<std::sync::Arc<KnownCatalog>>,
}

/// Table names with the tables their foreign keys reference, and view names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownCatalog {
    pub tables: std::collections::BTreeMap<String, Vec<String>>,
    pub views: Vec<String>,
}

impl KnownCatalog {
    pub fn of(schema: &crate::model::SchemaSnapshot) -> KnownCatalog {
        KnownCatalog {
            tables: schema
                .tables
                .values()
                .map(|t| (t.name.clone(), t.foreign_keys.iter().map(|f| f.referenced_table.clone()).collect()))
                .collect(),
            views: schema.views.clone(),
        }
    }
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            sandbox_url: None,
            allow_scratch_on_target: false,
            sample_rows: 1000,
            lock_timeout_ms: 2000,
            on_target_lock_timeout_ms: 100,
            strict_version: false,
            server_bindir: None,
            full_data_timeout_ms: 30_000,
            statement_timeout_ms: 60_000,
            focus: None,
            known: None,
        }
    }
}

/// What running one statement in the sandbox showed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Execution {
    /// The statement was deliberately not run (transaction control inside a sandbox that is
    /// itself one transaction, ...); the text says why.
    pub skipped: Option<String>,
    /// How the statement was run when not as written (e.g. without CONCURRENTLY).
    pub note: Option<String>,
    /// Table locks the statement took (strongest per table).
    pub locks: Vec<LockTaken>,
    /// Tables the statement rewrote.
    pub rewrites: Vec<TableRewrite>,
    /// MySQL/MariaDB: the ALTER algorithm the server could use.
    pub algorithm: Option<AlterAlgorithm>,
    /// How long the statement took in the sandbox, in milliseconds.
    pub elapsed_ms: f64,
    /// The statement ran into the sandbox's statement timeout and was rolled back: it was
    /// not validated (a slow statement is not a failing one).
    pub timed_out: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockTaken {
    pub table: String,
    pub mode: LockMode,
    /// Rows of the table in the sandbox when the statement ran (a shadow's sample), so a
    /// time per row can be measured.
    pub sandbox_rows: Option<u64>,
    /// An earlier statement of the same transaction took this lock (or a stronger one): this
    /// statement holds it while it works, but did not take it.
    pub held_before: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRewrite {
    pub table: String,
    pub rows: u64,
}

/// How MySQL/MariaDB executes an ALTER TABLE, probed in the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlterAlgorithm {
    /// Metadata only.
    Instant,
    /// Rebuilt in place; concurrent reads and writes allowed.
    Inplace,
    /// The table is copied; writes are blocked for the duration.
    Copy,
}

/// A statement the sandbox could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// The database's message, with data values scrubbed.
    pub message: String,
    /// True when the statement failed on existing rows (unique, not-null, FK, check).
    pub on_existing_data: bool,
    /// The violated constraint, when the message names it precisely.
    pub violation: Option<ConstraintViolation>,
    /// True when the server's grammar refused the statement (MySQL 1064/1149, PostgreSQL
    /// 42601): for MySQL and MariaDB, whose grammar is not embedded, the server's word is
    /// the syntax verdict.
    pub syntax: bool,
    /// True when the sandbox itself failed, not the statement: its disk or memory ran out,
    /// its server went away. The migration was not judged; the run is an error, never a
    /// `migration-fails` finding.
    pub sandbox_fault: bool,
}

impl StatementError {
    pub fn refused(message: impl Into<String>) -> Self {
        StatementError { message: message.into(), on_existing_data: false, violation: None, syntax: false, sandbox_fault: false }
    }

    /// The sandbox failed under the statement (see [`StatementError::sandbox_fault`]).
    pub fn sandbox_fault(message: impl Into<String>) -> Self {
        StatementError { sandbox_fault: true, ..StatementError::refused(message) }
    }
}

/// Whether a server's error says it ran out of room rather than refused the statement: the
/// operating system's words for a full disk, whatever code the server wrapped them in
/// (InnoDB says "Temp file write failure" when a table copy does not fit).
pub(crate) fn out_of_room(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["no space left on device", "disk full", "errno: 28", "temp file write failure"].iter().any(|words| m.contains(words))
}

/// A writable copy (or always-rolled-back transaction) of the target.
#[async_trait]
pub trait Sandbox: Send {
    fn dialect(&self) -> Dialect;
    /// Where the migration runs, for reports ("copy of ...", "transaction on ...").
    fn description(&self) -> String;
    /// Why the sandbox's own server failed, when it is a throwaway one with a log: the line
    /// that says so (`PANIC: could not write to file ...: No space left on device`).
    fn server_last_words(&self) -> Option<String> {
        None
    }
    /// Run one migration statement.
    async fn execute(&mut self, statement: &ParsedStatement) -> std::result::Result<Execution, StatementError>;
    async fn introspect(&mut self) -> Result<SchemaSnapshot>;
    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult>;
    /// The plan of a query in the sandbox (never analyzed: estimates only).
    async fn explain(&mut self, sql: &str) -> Result<crate::model::Plan>;
    /// Tables holding only a sample of the target's rows (MySQL scratch copies): checks whose
    /// answer depends on every row (a missing FK parent) cannot be trusted on them.
    fn sampled_tables(&self) -> Vec<String> {
        Vec::new()
    }
    /// What the report should say about how the sandbox was built (objects it could not
    /// recreate, a version mismatch, rows not copied).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// True when the migration runs on the target itself (PostgreSQL `--sandbox-on-target`):
    /// its locks were really taken there.
    fn on_target(&self) -> bool {
        false
    }
    /// Discard the sandbox (delete the copy / roll back / drop the scratch database).
    async fn close(self: Box<Self>) -> Result<()>;
}

/// A constraint a statement failed on, as named by the database's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintViolation {
    Unique { table: String, columns: Vec<String> },
    NotNull { table: String, column: String },
}

/// The inspection path runs queries only: refuse anything but a single SELECT/WITH before it
/// reaches the database (which also refuses writes: the session is read-only).
pub fn require_select(sql: &str, dialect: Dialect) -> Result<()> {
    match read_statement(sql, dialect)? {
        ReadStatement::Query => Ok(()),
        ReadStatement::Describe => Err(Error::invalid("only a single read-only SELECT can run on the target")),
    }
}

/// What [`Driver::query`] runs: a query, or a statement that only describes (EXPLAIN without
/// ANALYZE, SHOW), whose rows some databases return in another shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatement {
    Query,
    Describe,
}

/// Classify one statement for the read path; anything else is refused.
pub fn read_statement(sql: &str, dialect: Dialect) -> Result<ReadStatement> {
    use sqlparser::ast::Statement;
    let parsed = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql);
    match parsed.as_deref() {
        Ok([Statement::Query(_)]) => Ok(ReadStatement::Query),
        Ok([Statement::Explain { analyze: false, statement, .. }]) if matches!(statement.as_ref(), Statement::Query(_)) => {
            Ok(ReadStatement::Describe)
        }
        Ok(
            [Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowCreate { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowViews { .. }],
        ) => Ok(ReadStatement::Describe),
        Ok(_) => Err(Error::invalid("only a single read-only SELECT, EXPLAIN (without ANALYZE) or SHOW can run on the target")),
        Err(e) => Err(Error::invalid(format!("cannot parse query: {e}"))),
    }
}

/// One statement's totals from the database's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatementStats {
    /// As recorded: PostgreSQL with `$1` parameters, MySQL with `?`.
    pub query: String,
    pub calls: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
}

/// Read every row of a stream, keeping none: how long a query really takes to deliver.
pub(crate) async fn drain<R, S>(mut stream: S, message: impl Fn(&sqlx::Error) -> String) -> Result<u64>
where
    S: futures_util::Stream<Item = std::result::Result<R, sqlx::Error>> + Unpin,
{
    use futures_util::TryStreamExt;
    let mut rows = 0u64;
    while stream.try_next().await.map_err(|e| Error::InvalidInput(format!("query failed: {}", message(&e))))?.is_some() {
        rows += 1;
    }
    Ok(rows)
}

/// Lowercase hex MD5 (fingerprints, and SQLite's `dbc_md5`).
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A connection failure, with any password in the URL or the message redacted.
pub(crate) fn connection_error(target: &str, e: impl std::fmt::Display) -> Error {
    let mut reason = crate::url::redact_url(&e.to_string());
    if let Some(hint) = tls::explain(&reason) {
        reason = format!("{reason} ({hint})");
    }
    Error::Connection { url: target.to_string(), reason }
}

/// Clean up after an interrupted run, or at exit: drop the scratch databases still open in
/// this process and stop its throwaway sandbox servers.
pub async fn cleanup_interrupted() {
    local_server::stop_all();
    #[cfg(feature = "mysql")]
    mysql::sandbox::drop_open_scratch_databases().await;
    #[cfg(feature = "postgres")]
    postgres::shadow::discard_all().await;
}

/// Settings of the read-only sessions a driver opens on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    /// How long one query may run (server-side where the database supports it).
    pub statement_timeout_ms: u64,
    /// Render time-zone-aware values in UTC (MySQL `TIMESTAMP`), so two servers in different
    /// zones compare equal data as equal.
    pub utc: bool,
    /// Sessions that scan whole tables with large generated expressions (ETL checksums):
    /// PostgreSQL then skips JIT (compiling a 2,000-branch CASE costs seconds) and prefers
    /// hash aggregation to sorting a million rows by segment.
    pub bulk_scans: bool,
    /// Connections the driver may hold open at once (queries that run concurrently).
    pub max_connections: u32,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { statement_timeout_ms: 30_000, utc: false, bulk_scans: false, max_connections: 2 }
    }
}

/// Most queries a run sends to one database at once, whatever `--jobs` asks.
pub const MAX_JOBS: usize = 16;

/// How many queries to run at once against a database when the user does not say: a server
/// does not tell a client how many cores it has, so for one on this machine (a SQLite file, a
/// loopback address, a socket) this machine's cores, and 4 otherwise, a count every server a
/// team validates against has.
pub fn default_jobs(url: &DatabaseUrl) -> usize {
    if url.on_this_machine() {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
    } else {
        4
    }
}

/// Connect read-only to the database a URL names.
pub async fn connect(url: &DatabaseUrl) -> Result<Box<dyn Driver>> {
    connect_with(url, SessionOptions::default()).await
}

/// [`connect`] with explicit session settings.
pub async fn connect_with(url: &DatabaseUrl, session: SessionOptions) -> Result<Box<dyn Driver>> {
    match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite { path } => Ok(Box::new(sqlite::SqliteDriver::open_with(path, session).await?)),
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres { url: raw } => Ok(Box::new(postgres::PostgresDriver::open(raw, url.redacted(), session).await?)),
        #[cfg(feature = "mysql")]
        DatabaseUrl::Mysql { url: raw } => Ok(Box::new(mysql::MysqlDriver::open(raw, url.redacted(), session).await?)),
        #[allow(unreachable_patterns)] // reachable when a driver feature is disabled
        other => Err(Error::Connection {
            url: other.redacted(),
            reason: format!("the {} driver is not available in this build (enable its cargo feature)", other.dialect()),
        }),
    }
}
