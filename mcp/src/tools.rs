//! The tools, as a model sees them: name, what it is for, its arguments as JSON Schema, and
//! whether it only reads. Approving or rejecting a run is deliberately not a tool: approval
//! stays with humans (`dbconsultant runs approve`).

use serde_json::{json, Map, Value};

use crate::Mode;

/// One tool's declaration.
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// Properties of the arguments object (besides `database`), and which are required.
    pub properties: fn() -> Value,
    pub required: &'static [&'static str],
    /// Whether the tool takes a `database` argument.
    pub takes_database: bool,
    /// Sandbox mode only.
    pub needs_sandbox: bool,
}

fn none() -> Value {
    json!({})
}

const SQL_NOTE: &str = "Exactly one statement: SELECT, WITH (no data-modifying CTEs), EXPLAIN without ANALYZE, or SHOW. \
Anything else, row locks (FOR UPDATE), INTO, and file / network / sleep / lock functions are refused.";

pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "list_schemas",
        title: "List schemas",
        description: "List the schemas this login can see (PostgreSQL schemas, the MySQL databases on the server, SQLite main) with how many tables and views each holds. Start here to find your way around a database; list_tables shows the default schema unless given another.",
        properties: none,
        required: &[],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "list_tables",
        title: "List tables",
        description: "List the tables and views of the default schema, or of the given schema, with column counts and estimated row counts. Tables outside the default schema are named schema.table, which is also how describe_table and queries take them.",
        properties: || json!({"schema": {"type": "string", "description": "Which schema (default: the connection's default schema)."}}),
        required: &[],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "describe_table",
        title: "Describe a table",
        description: "Describe one table: columns with types, nullability and defaults; primary key; foreign keys (and which tables reference it); unique and check constraints; indexes; estimated row count. Use before writing a query against the table.",
        properties: || json!({"table": {"type": "string", "description": "Table name as list_tables gives it."}}),
        required: &["table"],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "run_query",
        title: "Run a read-only query",
        description: "Run one read-only SQL query and return its rows as JSON objects. Rows are capped (max_rows, at most the server's limit); `truncated` is true exactly when the query had more rows than were returned. Values of sensitive columns (emails, phones, card numbers, secrets...) come back masked. Runs prepared, inside a READ ONLY transaction that is rolled back, with a statement timeout. Prefer aggregates and LIMIT over fetching many rows.",
        properties: || {
            json!({
                "sql": {"type": "string", "description": SQL_NOTE},
                "max_rows": {"type": "integer", "minimum": 1, "description": "Most rows to return (default and ceiling: the server's max_rows)."}
            })
        },
        required: &["sql"],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "explain_query",
        title: "Explain a query",
        description: "Show the database's plan for one statement as a tree (node types, tables, indexes used, estimated rows and cost). INSERT / UPDATE / DELETE are planned, never run. With analyze=true a read-only query is also run (rolled back) to report actual rows and times.",
        properties: || {
            json!({
                "sql": {"type": "string", "description": "One SELECT / WITH query, or one INSERT / UPDATE / DELETE to plan."},
                "analyze": {"type": "boolean", "default": false, "description": "Run a read-only query to measure it (EXPLAIN ANALYZE)."}
            })
        },
        required: &["sql"],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "validate_migration",
        title: "Validate a migration",
        description: "Validate a migration (DDL and data changes, one or more statements) against a database: lint rules, then the statements run in a sandbox copy (never on the database itself) to find lock-heavy or breaking changes and constraint violations on existing data. Returns the stored test run with findings, a risk score and a status; a run that needs approval waits for a human.",
        properties: || {
            json!({
                "sql": {"type": "string", "description": "The migration's SQL text."},
                "name": {"type": "string", "description": "A name for the migration (e.g. its file name)."}
            })
        },
        required: &["sql"],
        takes_database: true,
        needs_sandbox: true,
    },
    ToolSpec {
        name: "check_integrity",
        title: "Check data integrity",
        description: "Check the data of a database against its declared keys and constraints (orphaned foreign keys, duplicate keys, NULLs in NOT NULL, failed checks) and optional rules. Returns the stored test run with failure counts and masked sample rows.",
        properties: || {
            json!({
                "tables": {"type": "array", "items": {"type": "string"}, "description": "Only these tables (default: all)."},
                "rules": {"type": "array", "items": {"type": "object"}, "description": "Extra rules, e.g. {\"table\":\"orders\",\"column\":\"status\",\"type\":\"accepted_values\",\"values\":[\"paid\",\"shipped\"]}; types: accepted_values, range (min/max), regex (pattern), max_null_fraction (max), row_count (min/max), freshness (max_age like \"24h\"), unique (columns), implied_fk (references, referenced_columns)."}
            })
        },
        required: &[],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "validate_etl",
        title: "Reconcile a table across databases",
        description: "Check that a target table holds exactly the rows of a source table (in the same or another database, any dialect): counts, checksums by key range, then the exact missing, extra and changed keys with the columns that differ. Reads only.",
        properties: || {
            json!({
                "source": {"type": "string", "description": "Source database name."},
                "target": {"type": "string", "description": "Target database name."},
                "source_table": {"type": "string"},
                "target_table": {"type": "string", "description": "Default: source_table."},
                "key": {"type": "array", "items": {"type": "string"}, "description": "Key columns (default: the source table's primary key)."},
                "columns": {"type": "array", "items": {"type": "string"}, "description": "Columns to compare (default: all shared)."},
                "exclude_columns": {"type": "array", "items": {"type": "string"}},
                "column_map": {"type": "object", "additionalProperties": {"type": "string"}, "description": "source column -> target column."},
                "where": {"type": "string", "description": "A filter expression applied on both sides, e.g. \"created_at >= '2026-01-01'\"."},
                "source_where": {"type": "string"},
                "target_where": {"type": "string"},
                "tolerance": {"type": "number", "description": "Numeric differences up to this are equal."},
                "aggregates": {"type": "array", "items": {"type": "string"}, "description": "Also compare aggregates, e.g. \"sum:amount\"."},
                "group_by": {"type": "string", "description": "Compare the aggregates per value of this column."}
            })
        },
        required: &["source", "target", "source_table"],
        takes_database: false,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "profile_performance",
        title: "Profile queries",
        description: "Profile queries on a database: fingerprint, plan (measured for read-only queries), timing, findings (full scans of large tables, estimates off by 10x, spills, functions on indexed columns, N+1 repeats) and index recommendations verified before they are suggested. Give queries, or from_stats to read the database's statement statistics.",
        properties: || {
            json!({
                "queries": {"type": "array", "items": {"type": "string"}, "description": "The workload, one statement per entry; a statement repeated many times is an N+1 hint."},
                "from_stats": {"type": "boolean", "default": false, "description": "Also profile the top statements of pg_stat_statements / performance_schema."},
                "runs": {"type": "integer", "minimum": 0, "maximum": 20, "default": 3, "description": "Timed runs per read-only query."},
                "analyze": {"type": "boolean", "default": true, "description": "EXPLAIN ANALYZE read-only queries."}
            })
        },
        required: &[],
        takes_database: true,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "get_test_run",
        title: "Get a test run",
        description: "Get one stored test run (from validate_migration, check_integrity, validate_etl, profile_performance or a CI job) by id: status, risk score, findings, results and approval state.",
        properties: || json!({"test_run_id": {"type": "string"}}),
        required: &["test_run_id"],
        takes_database: false,
        needs_sandbox: false,
    },
    ToolSpec {
        name: "list_test_runs",
        title: "List test runs",
        description: "List stored test runs, newest first, optionally by status (passed, failed, pending_approval, approved, rejected) or kind (schema, integrity, etl, performance).",
        properties: || {
            json!({
                "status": {"type": "string", "enum": ["passed", "failed", "pending_approval", "approved", "rejected"]},
                "kind": {"type": "string", "enum": ["schema", "integrity", "etl", "performance"]},
                "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}
            })
        },
        required: &[],
        takes_database: false,
        needs_sandbox: false,
    },
];

impl ToolSpec {
    /// Offered in this mode?
    pub fn available(&self, mode: Mode) -> bool {
        !self.needs_sandbox || mode == Mode::Sandbox
    }

    /// The arguments' JSON Schema; `database` is an enum of the configured names, required
    /// when there is more than one.
    pub fn input_schema(&self, database_names: &[&str]) -> Map<String, Value> {
        let mut properties = match (self.properties)() {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        let mut required: Vec<&str> = self.required.to_vec();
        let names = json!(database_names);
        if self.takes_database {
            properties.insert(
                "database".into(),
                json!({"type": "string", "enum": names, "description": "Which database (default: the only one)."}),
            );
            if database_names.len() > 1 {
                required.insert(0, "database");
            }
        }
        for key in ["source", "target"] {
            if let Some(Value::Object(p)) = properties.get_mut(key) {
                p.insert("enum".into(), names.clone());
            }
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), json!(required));
        }
        schema.insert("additionalProperties".into(), json!(false));
        schema
    }

    /// Every tool reads only, except `validate_migration`, which writes in a sandbox (never
    /// the target) and stores a run; tools that store a run are not idempotent.
    pub fn read_only(&self) -> bool {
        !matches!(self.name, "validate_migration" | "check_integrity" | "validate_etl" | "profile_performance")
    }
}

pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}
