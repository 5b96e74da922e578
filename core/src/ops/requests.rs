//! Requests of the operations that have no request type of their own in the checks: stored
//! runs, decisions, the audit log and inspection.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::{Environment, RunKind, RunStatus};

/// One stored run, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRunRequest {
    /// The run's id (`test_run_id` of the run document).
    pub test_run_id: String,
}

/// An approval decision on a run that waits for one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub test_run_id: String,
    /// Who decides (recorded on the run and in its audit trail).
    pub approver: String,
    /// Why, for the audit trail.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Escalating a run that waits for approval to someone else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationRequest {
    pub test_run_id: String,
    /// Who escalates (recorded on the run and in its audit trail).
    pub approver: String,
    /// To whom: the person or group who must now approve or reject the run.
    pub to: String,
    /// Why, for the audit trail.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Stored runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ListTestRunsRequest {
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs of this kind.
    pub kind: Option<RunKind>,
    /// Only runs against this environment.
    pub environment: Option<Environment>,
    /// Only runs this caller requested.
    pub requested_by: Option<String>,
    /// At most this many runs.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: u32,
    /// Skip this many runs first (the next page starts at the previous offset plus limit).
    pub offset: u32,
}

impl Default for ListTestRunsRequest {
    fn default() -> Self {
        ListTestRunsRequest { status: None, kind: None, environment: None, requested_by: None, limit: 50, offset: 0 }
    }
}

/// The audit log across runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuditLogRequest {
    /// Only events whose name starts with this (`tool_call`, `approved`, `created` ...).
    pub event: Option<String>,
    /// At most this many events.
    #[schemars(range(min = 1, max = 10000))]
    pub limit: u32,
}

impl Default for AuditLogRequest {
    fn default() -> Self {
        AuditLogRequest { event: None, limit: 50 }
    }
}

const INSPECT_TIMEOUT_MS: u64 = 30_000;

/// A database to look at, read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["database_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct ListSchemasRequest {
    /// The database: `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Statement timeout of the inspection session, in ms.
    pub timeout_ms: u64,
}

impl Default for ListSchemasRequest {
    fn default() -> Self {
        ListSchemasRequest { database_url: String::new(), database_password: None, timeout_ms: INSPECT_TIMEOUT_MS }
    }
}

/// The tables and views of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["database_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct ListTablesRequest {
    /// The database: `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Which schema (default: the connection's default schema).
    pub schema: Option<String>,
    /// Statement timeout of the inspection session, in ms.
    pub timeout_ms: u64,
}

impl Default for ListTablesRequest {
    fn default() -> Self {
        ListTablesRequest { database_url: String::new(), database_password: None, schema: None, timeout_ms: INSPECT_TIMEOUT_MS }
    }
}

/// One table, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["database_url", "table"]))]
#[serde(default, deny_unknown_fields)]
pub struct DescribeTableRequest {
    /// The database: `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Table name as list_tables gives it (`schema.table` outside the default schema).
    pub table: String,
    /// Statement timeout of the inspection session, in ms.
    pub timeout_ms: u64,
}

impl Default for DescribeTableRequest {
    fn default() -> Self {
        DescribeTableRequest { database_url: String::new(), database_password: None, table: String::new(), timeout_ms: INSPECT_TIMEOUT_MS }
    }
}

/// One read-only statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["database_url", "sql"]))]
#[serde(default, deny_unknown_fields)]
pub struct RunQueryRequest {
    /// The database: `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Exactly one statement: SELECT, WITH (no data-modifying CTEs), EXPLAIN without ANALYZE, or
    /// SHOW. Anything else, row locks (FOR UPDATE), INTO, and file / network / sleep / lock
    /// functions are refused.
    pub sql: String,
    /// Most rows to return (default: the config's `[mcp] max_rows`, 500).
    #[schemars(range(min = 1))]
    pub max_rows: Option<usize>,
    /// Statement timeout, in ms.
    pub timeout_ms: u64,
    /// `dbconsultant.toml` inline, or its path (masking rules, row cap).
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for RunQueryRequest {
    fn default() -> Self {
        RunQueryRequest {
            database_url: String::new(),
            database_password: None,
            sql: String::new(),
            max_rows: None,
            timeout_ms: INSPECT_TIMEOUT_MS,
            config: Config::default(),
        }
    }
}

/// The plan of one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["database_url", "sql"]))]
#[serde(default, deny_unknown_fields)]
pub struct ExplainQueryRequest {
    /// The database: `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// One SELECT / WITH query, or one INSERT / UPDATE / DELETE to plan (never run).
    pub sql: String,
    /// Run a read-only query to measure it (EXPLAIN ANALYZE, in a transaction rolled back).
    pub analyze: bool,
    /// Statement timeout, in ms.
    pub timeout_ms: u64,
}

impl Default for ExplainQueryRequest {
    fn default() -> Self {
        ExplainQueryRequest {
            database_url: String::new(),
            database_password: None,
            sql: String::new(),
            analyze: false,
            timeout_ms: INSPECT_TIMEOUT_MS,
        }
    }
}
