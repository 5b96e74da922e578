//! A tool's arguments to a core call. Arguments are parsed strictly (unknown keys refused);
//! databases are named, never given as URLs (a model must not point the server at other
//! servers or files), and nothing reads files on the server's disk. Outside SQL reaches the
//! core's read-only guard: queries in `run_query` / `explain_query` / `profile_performance`,
//! filter expressions in `validate_etl`.

use std::collections::BTreeMap;

use dbconsultant::checks::etl::EtlRequest;
use dbconsultant::guard;
use dbconsultant::model::{Environment, RunKind, RunStatus, TriggerType};
use dbconsultant::store::RunFilter;
use dbconsultant::{inspect, Error, IntegrityRequest, MigrationSource, PerfRequest, Result, RulesFile, SchemaValidationRequest};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{Database, McpOptions, Mode};

/// Limits of a migration's text from a tool call.
const MAX_MIGRATION_BYTES: usize = 1024 * 1024;
const MAX_MIGRATION_OPERATORS: usize = 4000;

fn parse<T: DeserializeOwned>(tool: &str, args: &Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(args.clone())).map_err(|e| Error::invalid(format!("{tool}: {e}")))
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseOnly {
    database: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListTables {
    database: Option<String>,
    schema: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DescribeTable {
    database: Option<String>,
    table: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    database: Option<String>,
    sql: String,
    max_rows: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainQuery {
    database: Option<String>,
    sql: String,
    #[serde(default)]
    analyze: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateMigration {
    database: Option<String>,
    sql: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckIntegrity {
    database: Option<String>,
    #[serde(default)]
    tables: Vec<String>,
    rules: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateEtl {
    source: String,
    target: String,
    source_table: String,
    target_table: Option<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    exclude_columns: Vec<String>,
    #[serde(default)]
    column_map: BTreeMap<String, String>,
    #[serde(rename = "where")]
    where_clause: Option<String>,
    source_where: Option<String>,
    target_where: Option<String>,
    tolerance: Option<f64>,
    #[serde(default)]
    aggregates: Vec<String>,
    group_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilePerformance {
    database: Option<String>,
    #[serde(default)]
    queries: Vec<String>,
    #[serde(default)]
    from_stats: bool,
    runs: Option<u32>,
    analyze: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetTestRun {
    test_run_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListTestRuns {
    status: Option<RunStatus>,
    kind: Option<RunKind>,
    limit: Option<u32>,
}

impl McpOptions {
    /// The database a tool names, or the only one.
    pub fn database(&self, name: Option<&str>) -> Result<&Database> {
        let names = || self.databases.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ");
        match name {
            Some(n) => self
                .databases
                .iter()
                .find(|d| d.name == n)
                .ok_or_else(|| Error::NotFound(format!("no database named '{n}' (databases: {})", names()))),
            None if self.databases.len() == 1 => Ok(&self.databases[0]),
            None => Err(Error::invalid(format!("name the database: one of {}", names()))),
        }
    }

    fn timeout_ms(&self) -> u64 {
        self.config.mcp.timeout_ms
    }

    /// Run one tool. `Err` is a tool error: shown to the model, the server goes on.
    pub async fn call(&self, tool: &str, args: &Map<String, Value>) -> Result<Value> {
        let spec = crate::tools::find(tool).ok_or_else(|| Error::NotFound(format!("no tool named '{tool}'")))?;
        if !spec.available(self.mode) {
            return Err(Error::invalid(format!("{tool} needs the server in sandbox mode (dbconsultant mcp --mode sandbox)")));
        }
        match tool {
            "list_schemas" => {
                let a: DatabaseOnly = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                let schemas = inspect::list_schemas(db.driver(self.timeout_ms()).await?).await?;
                Ok(json!({"database": db.name, "dialect": db.dialect().as_str(), "schemas": schemas}))
            }
            "list_tables" => {
                let a: ListTables = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                let tables = inspect::list_tables(db.driver(self.timeout_ms()).await?, a.schema.as_deref()).await?;
                Ok(json!({"database": db.name, "tables": tables}))
            }
            "describe_table" => {
                let a: DescribeTable = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                to_value(&inspect::describe_table(db.driver(self.timeout_ms()).await?, &a.table).await?)
            }
            "run_query" => {
                let a: RunQuery = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                let max_rows = a.max_rows.unwrap_or(self.config.mcp.max_rows).clamp(1, self.config.mcp.max_rows);
                to_value(&inspect::run_query(db.driver(self.timeout_ms()).await?, &a.sql, max_rows, &self.config.masker()).await?)
            }
            "explain_query" => {
                let a: ExplainQuery = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                to_value(&inspect::explain_query(db.driver(self.timeout_ms()).await?, &a.sql, a.analyze).await?)
            }
            "validate_migration" => {
                let a: ValidateMigration = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                // Migrations are longer than queries, but parsed all the same.
                if a.sql.len() > MAX_MIGRATION_BYTES {
                    return Err(Error::Refused(format!("the migration is longer than {MAX_MIGRATION_BYTES} bytes")));
                }
                guard::check_operator_count(&a.sql, db.dialect(), MAX_MIGRATION_OPERATORS).map_err(|r| Error::Refused(r.0))?;
                let req = SchemaValidationRequest {
                    database_url: db.url().to_string(),
                    migrations: vec![MigrationSource { name: a.name.unwrap_or_else(|| "<mcp>".into()), sql: a.sql }],
                    environment: Environment::Dev,
                    trigger_type: TriggerType::Manual,
                    config: self.config.clone(),
                    ..SchemaValidationRequest::default()
                };
                to_value(&self.consultant.validate_schema(&req).await?)
            }
            "check_integrity" => {
                let a: CheckIntegrity = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                let rules = match a.rules {
                    Some(list) => RulesFile::from_json(Value::Array(list))?.rules,
                    None => Vec::new(),
                };
                let req = IntegrityRequest {
                    database_url: db.url().to_string(),
                    tables: a.tables,
                    rules,
                    trigger_type: TriggerType::Manual,
                    check_timeout_ms: self.timeout_ms(),
                    config: self.config.clone(),
                    ..IntegrityRequest::default()
                };
                to_value(&self.consultant.check_integrity(&req).await?)
            }
            "validate_etl" => {
                let a: ValidateEtl = parse(tool, args)?;
                let source = self.database(Some(&a.source))?;
                let target = self.database(Some(&a.target))?;
                let filters = [(&a.where_clause, source), (&a.where_clause, target), (&a.source_where, source), (&a.target_where, target)];
                for (filter, db) in filters {
                    if let Some(filter) = filter {
                        guard::check_filter(filter, db.dialect()).map_err(|r| Error::Refused(r.0))?;
                    }
                }
                let aggregates = a.aggregates.iter().map(|s| s.parse()).collect::<Result<Vec<_>>>()?;
                let req = EtlRequest {
                    source_url: source.url().to_string(),
                    source_table: a.source_table,
                    target_url: target.url().to_string(),
                    target_table: a.target_table,
                    key: a.key,
                    columns: a.columns,
                    exclude_columns: a.exclude_columns,
                    column_map: a.column_map,
                    where_clause: a.where_clause,
                    source_where: a.source_where,
                    target_where: a.target_where,
                    tolerance: a.tolerance,
                    aggregates,
                    group_by: a.group_by,
                    statement_timeout_ms: self.timeout_ms(),
                    trigger_type: TriggerType::Manual,
                    config: self.config.clone(),
                    ..EtlRequest::default()
                };
                to_value(&self.consultant.validate_etl(&req).await?)
            }
            "profile_performance" => {
                let a: ProfilePerformance = parse(tool, args)?;
                let db = self.database(a.database.as_deref())?;
                for q in &a.queries {
                    guard::check_explain_only(q, db.dialect()).map_err(|r| Error::Refused(format!("{q}: {r}")))?;
                }
                let defaults = PerfRequest::default();
                let req = PerfRequest {
                    database_url: db.url().to_string(),
                    queries: a.queries,
                    from_stats: a.from_stats,
                    runs: a.runs.unwrap_or(3).min(20),
                    analyze: a.analyze.unwrap_or(defaults.analyze),
                    sandbox_verification: self.mode == Mode::Sandbox,
                    trigger_type: TriggerType::Manual,
                    config: self.config.clone(),
                    ..defaults
                };
                to_value(&self.consultant.profile_performance(&req).await?)
            }
            "get_test_run" => {
                let a: GetTestRun = parse(tool, args)?;
                to_value(&self.consultant.test_run(&a.test_run_id).await?)
            }
            "list_test_runs" => {
                let a: ListTestRuns = parse(tool, args)?;
                let filter = RunFilter { status: a.status, kind: a.kind, limit: Some(a.limit.unwrap_or(20).clamp(1, 200)) };
                Ok(json!({"runs": self.consultant.list_test_runs(&filter).await?}))
            }
            other => Err(Error::Internal(format!("tool {other} is declared but not dispatched"))),
        }
    }
}
