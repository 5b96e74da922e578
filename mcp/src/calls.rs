//! A tool call to an operation of the registry. Arguments are checked strictly (only the
//! tool's fields; unknown keys refused); databases are named, never given as URLs (a model
//! must not point the server at other servers or files); nothing reads files on the server's
//! disk; the server sets what it governs (config, limits, trigger) itself. Outside SQL reaches
//! the core's read-only guard: queries in `run_query` / `explain_query` (guarded by the core),
//! workload queries of `profile_performance` and filters of `validate_etl` (guarded here).

use dbconsultant::{guard, Error, Result};
use serde_json::{json, Map, Value};

use crate::tools::{self, ToolSpec, DATABASE_FIELDS, MAX_LISTED, MAX_RUNS};
use crate::{Database, McpOptions, Mode};

/// Limits of a migration's text from a tool call.
const MAX_MIGRATION_BYTES: usize = 1024 * 1024;
const MAX_MIGRATION_OPERATORS: usize = 4000;

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

    /// The tools of this server's registry.
    pub fn tool(&self, name: &str) -> Option<ToolSpec> {
        tools::tools(dbconsultant::ops::registry()).into_iter().find(|t| t.name == name)
    }

    /// Run one tool. `Err` is a tool error: shown to the model, the server goes on.
    pub async fn call(&self, name: &str, args: &Map<String, Value>) -> Result<Value> {
        let tool = self.tool(name).ok_or_else(|| Error::NotFound(format!("no tool named '{name}'")))?;
        if !tool.available(self.mode) {
            return Err(Error::invalid(format!("{name} needs the server in sandbox mode (dbconsultant mcp --mode sandbox)")));
        }
        let arguments: Vec<&str> = tool.fields.iter().map(|f| tools::argument_name(f)).collect();
        if let Some(unknown) = args.keys().find(|k| !arguments.contains(&k.as_str())) {
            return Err(Error::invalid(format!("{name}: unknown argument '{unknown}' (expected one of: {})", arguments.join(", "))));
        }
        let mut request = Map::new();
        let mut databases: Vec<&Database> = Vec::new();
        for field in tool.fields {
            let argument = tools::argument_name(field);
            if DATABASE_FIELDS.iter().any(|(f, _)| f == field) {
                let given = match args.get(argument) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(other) => return Err(Error::invalid(format!("{name}: '{argument}' must be a database name, got {other}"))),
                };
                // Only `database` defaults to the only one; a source and a target are named.
                if given.is_none() && argument != "database" {
                    continue;
                }
                let db = self.database(given)?;
                request.insert(field.to_string(), Value::String(db.url().to_string()));
                databases.push(db);
            } else if let Some(value) = args.get(argument).filter(|v| !v.is_null()) {
                request.insert(field.to_string(), value.clone());
            }
        }
        self.guard(&tool, &mut request, &databases)?;
        self.govern(&tool, &mut request)?;
        let result = tool.op.call(&self.consultant, Value::Object(request)).await?;
        Ok(shape(&tool, result, databases.first().copied()))
    }

    /// What the server checks of the model's SQL before the core sees it.
    fn guard(&self, tool: &ToolSpec, request: &mut Map<String, Value>, databases: &[&Database]) -> Result<()> {
        let dialect = |i: usize| databases.get(i).or(databases.first()).map(|d| d.dialect());
        if let Some(Value::Array(queries)) = request.get("queries") {
            let dialect = dialect(0).ok_or_else(|| Error::invalid("no database"))?;
            for q in queries {
                let q = q.as_str().ok_or_else(|| Error::invalid(format!("{}: queries must be strings", tool.name)))?;
                guard::check_explain_only(q, dialect).map_err(|r| Error::Refused(format!("{q}: {r}")))?;
            }
        }
        // `where` applies to both sides; the others to one.
        for (field, sides) in [("where", &[0usize, 1][..]), ("source_where", &[0][..]), ("target_where", &[1][..])] {
            if let Some(filter) = request.get(field) {
                let filter = filter.as_str().ok_or_else(|| Error::invalid(format!("{}: '{field}' must be a string", tool.name)))?;
                for side in sides {
                    if let Some(d) = dialect(*side) {
                        guard::check_filter(filter, d).map_err(|r| Error::Refused(r.0))?;
                    }
                }
            }
        }
        if let Some(sql) = request.get("migration_sql").and_then(Value::as_str) {
            // Migrations are longer than queries, but parsed all the same.
            if sql.len() > MAX_MIGRATION_BYTES {
                return Err(Error::Refused(format!("the migration is longer than {MAX_MIGRATION_BYTES} bytes")));
            }
            let d = dialect(0)
                .or_else(|| request.get("dialect").and_then(Value::as_str).and_then(|d| d.parse().ok()))
                .unwrap_or(dbconsultant::Dialect::Postgres);
            guard::check_operator_count(sql, d, MAX_MIGRATION_OPERATORS).map_err(|r| Error::Refused(r.0))?;
        }
        Ok(())
    }

    /// The fields the server decides, whatever a model would like: its config (masking,
    /// sandbox, limits), its timeout, the trigger, and the caps on rows and runs. Only fields
    /// the operation's request has are set.
    fn govern(&self, tool: &ToolSpec, request: &mut Map<String, Value>) -> Result<()> {
        let has = |field: &str| -> bool { request_fields(tool).iter().any(|f| f == field) };
        let limits = &self.config.mcp;
        let config = serde_json::to_value(&self.config).map_err(|e| Error::Internal(e.to_string()))?;
        let mut set = |field: &str, value: Value| {
            if has(field) {
                request.insert(field.into(), value);
            }
        };
        set("config", config);
        set("trigger_type", json!("manual"));
        set("environment", json!("dev"));
        set("timeout_ms", json!(limits.timeout_ms));
        set("sandbox_verification", json!(self.mode == Mode::Sandbox));
        let cap = |request: &mut Map<String, Value>, field: &str, max: u64, default: Option<u64>| match request
            .get(field)
            .and_then(Value::as_u64)
        {
            Some(v) => {
                request.insert(field.into(), json!(v.clamp(1, max)));
            }
            None => {
                if let Some(d) = default {
                    request.insert(field.into(), json!(d));
                }
            }
        };
        if has("max_rows") {
            cap(request, "max_rows", limits.max_rows as u64, Some(limits.max_rows as u64));
        }
        if has("runs") {
            cap(request, "runs", MAX_RUNS, None);
        }
        if has("limit") {
            cap(request, "limit", MAX_LISTED, None);
        }
        Ok(())
    }
}

/// The request's field names.
fn request_fields(tool: &ToolSpec) -> Vec<String> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let reference = (tool.op.request)(&mut generator);
    let definitions = generator.take_definitions(true);
    dbconsultant::ops::resolve(reference.as_value(), &definitions)
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// MCP structured content is an object: a list comes under the last word of the tool's name
/// (`list_tables` → `tables`), with the database it describes.
fn shape(tool: &ToolSpec, result: Value, database: Option<&Database>) -> Value {
    match result {
        Value::Array(items) => {
            let key = tool.name.rsplit('_').next().unwrap_or("items");
            let mut out = Map::new();
            if let Some(db) = database.filter(|_| tool.fields.contains(&"database_url")) {
                out.insert("database".into(), json!(db.name));
                out.insert("dialect".into(), json!(db.dialect().as_str()));
            }
            out.insert(key.into(), Value::Array(items));
            Value::Object(out)
        }
        other => other,
    }
}
