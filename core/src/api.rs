//! One JSON-in / JSON-out entry point for the language bindings (Python, Node, Java), so each
//! binding only converts its arguments to a JSON object, calls [`call`], and maps the error
//! kind to its own exceptions. Requests use the run document's snake_case names; unknown
//! keys are rejected with their name.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::checks::etl::EtlRequest;
use crate::checks::integrity::IntegrityRequest;
use crate::checks::perf::PerfRequest;
use crate::checks::schema::{LintRequest, SchemaValidationRequest};
use crate::config::Config;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{Environment, RunKind, RunStatus, TriggerType};
use crate::sql::MigrationSource;
use crate::store::RunFilter;
use crate::{Consultant, RulesFile};

/// The operations every binding exposes.
pub const OPERATIONS: &[&str] = &[
    "validate_schema",
    "lint_schema",
    "check_integrity",
    "validate_etl",
    "profile_performance",
    "get_test_run",
    "list_test_runs",
    "approve_test_run",
    "reject_test_run",
    "audit_trail",
    "audit_log",
    "list_schemas",
    "list_tables",
    "describe_table",
    "run_query",
    "explain_query",
];

fn parse<T: DeserializeOwned>(op: &str, request: Value) -> Result<T> {
    serde_json::from_value(request).map_err(|e| Error::invalid(format!("{op}: {e}")))
}

/// A request that is the core's request type itself, except `config` (an object or a path).
fn parse_with_config<T: DeserializeOwned>(op: &str, mut request: Value) -> Result<(T, Config)> {
    let config_value = request.as_object_mut().and_then(|o| o.remove("config"));
    Ok((parse(op, request)?, config(config_value)?))
}

/// Migrations as paths (files or directories) and/or inline SQL.
fn read_migrations(paths: &[PathBuf], sql: Option<String>, name: Option<String>) -> Result<Vec<MigrationSource>> {
    let mut out = MigrationSource::read_paths(paths)?;
    if let Some(sql) = sql {
        out.push(MigrationSource { name: name.unwrap_or_else(|| "<inline>".into()), sql });
    }
    if out.is_empty() {
        return Err(Error::invalid("give migration_script (paths) or migration_sql"));
    }
    Ok(out)
}

/// `config` is the TOML file's structure as an object, or a path to the file.
fn config(value: Option<Value>) -> Result<Config> {
    match value {
        None | Some(Value::Null) => Ok(Config::default()),
        Some(Value::String(path)) => Config::load(std::path::Path::new(&path)),
        Some(other) => {
            let config: Config = serde_json::from_value(other).map_err(|e| Error::invalid(format!("config: {e}")))?;
            config.validate()?;
            Ok(config)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateSchema {
    database_url: String,
    #[serde(default)]
    migration_paths: Vec<PathBuf>,
    migration_sql: Option<String>,
    migration_name: Option<String>,
    environment: Option<Environment>,
    trigger_type: Option<TriggerType>,
    #[serde(default)]
    require_human_approval: bool,
    fail_above: Option<u32>,
    dialect: Option<Dialect>,
    sandbox_url: Option<String>,
    config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LintSchema {
    #[serde(default)]
    migration_paths: Vec<PathBuf>,
    migration_sql: Option<String>,
    migration_name: Option<String>,
    dialect: Option<Dialect>,
    fail_above: Option<u32>,
    config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIntegrity {
    database_url: String,
    #[serde(default)]
    tables: Vec<String>,
    rules: Option<Value>,
    environment: Option<Environment>,
    trigger_type: Option<TriggerType>,
    fail_above: Option<u32>,
    timeout_ms: Option<u64>,
    config: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunId {
    test_run_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decide {
    test_run_id: String,
    approver: String,
    comment: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListRuns {
    status: Option<RunStatus>,
    kind: Option<RunKind>,
    limit: Option<u32>,
}

/// The inspection ops: a database, and what to inspect.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inspect {
    database_url: String,
    schema: Option<String>,
    table: Option<String>,
    sql: Option<String>,
    max_rows: Option<usize>,
    #[serde(default)]
    analyze: bool,
    timeout_ms: Option<u64>,
    config: Option<Value>,
}

impl Inspect {
    async fn driver(&self) -> Result<Box<dyn crate::driver::Driver>> {
        let url = crate::url::DatabaseUrl::parse(&self.database_url)?;
        let session = crate::driver::SessionOptions { statement_timeout_ms: self.timeout_ms.unwrap_or(30_000), ..Default::default() };
        crate::driver::connect_with(&url, session).await
    }

    fn required<'a>(op: &str, name: &str, value: &'a Option<String>) -> Result<&'a str> {
        value.as_deref().ok_or_else(|| Error::invalid(format!("{op}: '{name}' is required")))
    }
}

/// The text of a caught panic, for bindings that turn panics into errors.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The stable kind name of an error (`invalid_input`, `connection`, ...), as bindings report it.
pub fn kind_name(e: &Error) -> &'static str {
    match e.kind() {
        crate::error::ErrorKind::InvalidInput => "invalid_input",
        crate::error::ErrorKind::Connection => "connection",
        crate::error::ErrorKind::Sandbox => "sandbox",
        crate::error::ErrorKind::NotFound => "not_found",
        crate::error::ErrorKind::ApprovalState => "approval_state",
        crate::error::ErrorKind::Internal => "internal",
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Run one operation. `request` must be a JSON object.
pub async fn call(consultant: &Consultant, op: &str, request: Value) -> Result<Value> {
    let request = match request {
        Value::Null => Value::Object(Default::default()),
        Value::Object(o) => Value::Object(o),
        _ => return Err(Error::invalid(format!("{op}: the request must be an object"))),
    };
    match op {
        "validate_schema" => {
            let r: ValidateSchema = parse(op, request)?;
            let migrations = read_migrations(&r.migration_paths, r.migration_sql, r.migration_name)?;
            let defaults = SchemaValidationRequest::default();
            let req = SchemaValidationRequest {
                database_url: r.database_url,
                migrations,
                environment: r.environment.unwrap_or(defaults.environment),
                trigger_type: r.trigger_type.unwrap_or(defaults.trigger_type),
                require_human_approval: r.require_human_approval,
                fail_above: r.fail_above,
                dialect: r.dialect,
                sandbox_url: r.sandbox_url,
                config: config(r.config)?,
            };
            to_value(&consultant.validate_schema(&req).await?)
        }
        "lint_schema" => {
            let r: LintSchema = parse(op, request)?;
            let req = LintRequest {
                migrations: read_migrations(&r.migration_paths, r.migration_sql, r.migration_name)?,
                dialect: r.dialect.unwrap_or(Dialect::Postgres),
                fail_above: r.fail_above,
                config: config(r.config)?,
            };
            to_value(&consultant.lint_schema(&req)?)
        }
        "check_integrity" => {
            let r: CheckIntegrity = parse(op, request)?;
            let rules = match r.rules {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(path)) => RulesFile::load(std::path::Path::new(&path))?.rules,
                Some(other) => RulesFile::from_json(other)?.rules,
            };
            let defaults = IntegrityRequest::default();
            let req = IntegrityRequest {
                database_url: r.database_url,
                tables: r.tables,
                rules,
                environment: r.environment.unwrap_or(defaults.environment),
                trigger_type: r.trigger_type.unwrap_or(defaults.trigger_type),
                fail_above: r.fail_above,
                check_timeout_ms: r.timeout_ms.unwrap_or(defaults.check_timeout_ms),
                config: config(r.config)?,
            };
            to_value(&consultant.check_integrity(&req).await?)
        }
        "validate_etl" => {
            let (mut req, config): (EtlRequest, Config) = parse_with_config(op, request)?;
            req.config = config;
            to_value(&consultant.validate_etl(&req).await?)
        }
        "profile_performance" => {
            let (mut req, config): (PerfRequest, Config) = parse_with_config(op, request)?;
            req.config = config;
            to_value(&consultant.profile_performance(&req).await?)
        }
        "get_test_run" => {
            let r: RunId = parse(op, request)?;
            to_value(&consultant.test_run(&r.test_run_id).await?)
        }
        "list_test_runs" => {
            let r: ListRuns = parse(op, request)?;
            to_value(&consultant.list_test_runs(&RunFilter { status: r.status, kind: r.kind, limit: r.limit }).await?)
        }
        "approve_test_run" => {
            let r: Decide = parse(op, request)?;
            to_value(&consultant.approve(&r.test_run_id, &r.approver, r.comment.as_deref()).await?)
        }
        "reject_test_run" => {
            let r: Decide = parse(op, request)?;
            to_value(&consultant.reject(&r.test_run_id, &r.approver, r.comment.as_deref()).await?)
        }
        "audit_trail" => {
            let r: RunId = parse(op, request)?;
            to_value(&consultant.audit_trail(&r.test_run_id).await?)
        }
        "audit_log" => {
            let filter: crate::store::AuditFilter = parse(op, request)?;
            to_value(&consultant.audit_log(&filter).await?)
        }
        "list_schemas" | "list_tables" | "describe_table" | "run_query" | "explain_query" => {
            let mut r: Inspect = parse(op, request)?;
            let config = config(r.config.take())?;
            let driver = r.driver().await?;
            let driver = driver.as_ref();
            match op {
                "list_schemas" => to_value(&crate::inspect::list_schemas(driver).await?),
                "list_tables" => to_value(&crate::inspect::list_tables(driver, r.schema.as_deref()).await?),
                "describe_table" => to_value(&crate::inspect::describe_table(driver, Inspect::required(op, "table", &r.table)?).await?),
                "run_query" => {
                    let max_rows = r.max_rows.unwrap_or(config.mcp.max_rows);
                    to_value(&crate::inspect::run_query(driver, Inspect::required(op, "sql", &r.sql)?, max_rows, &config.masker()).await?)
                }
                _ => to_value(&crate::inspect::explain_query(driver, Inspect::required(op, "sql", &r.sql)?, r.analyze).await?),
            }
        }
        other => Err(Error::invalid(format!("unknown operation '{other}' (expected one of: {})", OPERATIONS.join(", ")))),
    }
}
