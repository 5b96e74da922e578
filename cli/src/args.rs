//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::runs_args::{AuditCommand, DecisionArgs, RunsCommand};

#[derive(Parser)]
#[command(name = "dbconsultant", version, about = "Checks database changes before they reach production.")]
pub struct Cli {
    /// Artifact store: a SQLite file or a postgres:// URL (default: $DBCONSULTANT_STORE, else
    /// ~/.local/share/dbconsultant/store.db).
    #[arg(long, global = true, env = "DBCONSULTANT_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Log level for messages on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
    /// Migration safety: lint statically or validate against a database in a sandbox.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Data integrity: declared keys and constraints, and user rules, checked in the database.
    #[command(subcommand)]
    Integrity(IntegrityCommand),
    /// ETL reconciliation: does the target table hold exactly the source table's rows?
    #[command(subcommand)]
    Etl(EtlCommand),
    /// Query performance: plans, timings, findings and verified index recommendations.
    #[command(subcommand)]
    Perf(PerfCommand),
    /// Stored test runs: show, list, approve, reject.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Look at a database read-only: schemas, tables, one table, a guarded query, a plan.
    #[command(subcommand)]
    Inspect(InspectCommand),
    /// Serve the Model Context Protocol over stdio, so an AI assistant can inspect and
    /// validate the given databases without being able to change them.
    Mcp(McpArgs),
    /// Serve the REST API (/api/v1/db/...): every operation over HTTP, with API keys, roles and
    /// named targets.
    Serve(crate::service_args::ServeArgs),
    /// Run the REST service's queued jobs (no endpoints): more workers on more machines,
    /// sharing a PostgreSQL store's queue with the servers.
    Worker(crate::service_args::WorkerArgs),
    /// API keys of the REST service: create (shown once), list, revoke.
    #[command(subcommand)]
    Keys(crate::service_args::KeysCommand),
    /// The audit log: run decisions and MCP tool calls.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Every operation with its request and response JSON Schemas (what the SDKs, the MCP
    /// server and the REST API are generated from), as JSON.
    Registry,
}

#[derive(Subcommand)]
pub enum InspectCommand {
    /// Schemas with their table and view counts.
    Schemas {
        #[command(flatten)]
        target: InspectTarget,
    },
    /// Tables and views with column counts and row estimates.
    Tables {
        #[command(flatten)]
        target: InspectTarget,
        /// Only this schema.
        #[arg(long)]
        schema: Option<String>,
    },
    /// One table: columns, keys, constraints, indexes, row estimate.
    Describe {
        #[command(flatten)]
        target: InspectTarget,
        table: String,
    },
    /// Run one read-only statement (guarded, prepared, READ ONLY transaction rolled back);
    /// rows capped, sensitive values masked.
    Query {
        #[command(flatten)]
        target: InspectTarget,
        sql: String,
        /// Most rows to return (default: the config's [mcp] max_rows, 500).
        #[arg(long)]
        max_rows: Option<usize>,
        /// Config file for masking rules (default: ./dbconsultant.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The plan of one statement; writes are planned, never run.
    Explain {
        #[command(flatten)]
        target: InspectTarget,
        sql: String,
        /// Run a read-only query to measure it (EXPLAIN ANALYZE, rolled back).
        #[arg(long)]
        analyze: bool,
    },
}

#[derive(Args)]
pub struct InspectTarget {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Statement timeout in ms.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
}

#[derive(Args)]
pub struct McpArgs {
    /// A database the assistant may use: URL, or NAME=URL (repeatable; names are what tools use;
    /// default: $DBCONSULTANT_MCP_DB, space-separated, so no URL need be in the MCP client's
    /// command line).
    #[arg(
        long = "db",
        value_name = "[NAME=]URL",
        required = true,
        env = "DBCONSULTANT_MCP_DB",
        value_delimiter = ' ',
        hide_env_values = true
    )]
    pub databases: Vec<String>,
    /// read-only: reads only; sandbox: also validate_migration (run in a sandbox, never on the database).
    #[arg(long, default_value = "read-only")]
    pub mode: String,
    /// Config file (default: ./dbconsultant.toml when present); its [mcp] section sets the limits.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rows per run_query (overrides mcp.max_rows).
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// Wall-clock limit per tool call and statement timeout, in ms (overrides mcp.timeout_ms).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Largest tool result in bytes (overrides mcp.max_response_bytes).
    #[arg(long)]
    pub max_response_bytes: Option<usize>,
    /// Tool calls per minute, 0 for unlimited (overrides mcp.calls_per_minute).
    #[arg(long)]
    pub calls_per_minute: Option<u32>,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio; ADDR must be loopback
    /// (127.0.0.1:PORT, [::1]:PORT; port 0 picks a free one, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// With --http: require `Authorization: Bearer TOKEN` on every request.
    #[arg(long, env = "DBCONSULTANT_MCP_TOKEN", hide_env_values = true)]
    pub http_token: Option<String>,
    /// Sandbox mode: run migrations in a scratch database on this server (sandbox.sandbox_url).
    #[arg(long)]
    pub sandbox_url: Option<String>,
    /// Sandbox mode: allow the target's server (sandbox.allow_scratch_on_target): MySQL a
    /// scratch database there; PostgreSQL, when no throwaway local server can be started, a
    /// rolled-back transaction on the target itself.
    #[arg(long)]
    pub sandbox_on_target: bool,
}

#[derive(Subcommand)]
pub enum PerfCommand {
    /// Profile queries: fingerprint, EXPLAIN (ANALYZE for read-only queries), timed runs,
    /// findings, index recommendations verified with hypopg or in a sandbox.
    Profile(PerfArgs),
}

#[derive(Args)]
pub struct PerfArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// A query to profile (repeatable).
    #[arg(long = "query", value_name = "SQL")]
    pub queries: Vec<String>,
    /// A workload file: statements separated by `;` (a repeated statement is an N+1 hint).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Also profile the top statements of pg_stat_statements / performance_schema.
    #[arg(long)]
    pub from_stats: bool,
    /// How many statements --from-stats reads.
    #[arg(long, default_value_t = 20)]
    pub stats_limit: usize,
    /// Timed runs per read-only query after one warm-up (0: none).
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Plans from estimates only: no EXPLAIN ANALYZE.
    #[arg(long)]
    pub no_analyze: bool,
    /// A full scan of a table with at least this many rows is worth an index.
    #[arg(long, default_value_t = 10_000)]
    pub large_table_rows: u64,
    /// A query repeated this many times in the workload is an N+1 pattern.
    #[arg(long, default_value_t = 5)]
    pub repeat_threshold: u64,
    /// Never create a recommended index in a sandbox to verify it (where hypothetical indexes
    /// are not available, recommendations then stay unverified).
    #[arg(long)]
    pub no_sandbox_verification: bool,
    /// Environment: dev, qa, stage, prod.
    #[arg(long, default_value = "qa")]
    pub env: String,
    /// What triggered the run: pr, migration, etl, manual.
    #[arg(long, default_value = "manual")]
    pub trigger: String,
    #[command(flatten)]
    pub identity: crate::service_args::RunIdentity,
    #[command(flatten)]
    pub rule_args: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Subcommand)]
pub enum EtlCommand {
    /// Compare a target table with its source (any two databases, any dialects): counts,
    /// checksums per key segment, and the missing, extra and changed keys.
    Validate(EtlArgs),
}

#[derive(Args)]
pub struct EtlArgs {
    /// Source database URL: sqlite://PATH, postgres://..., mysql://... (default: $DBCONSULTANT_SOURCE_URL)
    #[arg(long, env = "DBCONSULTANT_SOURCE_URL", hide_env_values = true)]
    pub source: String,
    #[arg(long)]
    pub source_table: String,
    /// Target database URL (the same URL as --source compares two tables of one database;
    /// default: $DBCONSULTANT_TARGET_URL).
    #[arg(long, env = "DBCONSULTANT_TARGET_URL", hide_env_values = true)]
    pub target: String,
    /// A file whose first line is the password of --source's user.
    #[arg(long, env = "DBCONSULTANT_SOURCE_PASSWORD_FILE", value_name = "PATH")]
    pub source_password_file: Option<PathBuf>,
    /// A file whose first line is the password of --target's user.
    #[arg(long, env = "DBCONSULTANT_TARGET_PASSWORD_FILE", value_name = "PATH")]
    pub target_password_file: Option<PathBuf>,
    /// Defaults to --source-table.
    #[arg(long)]
    pub target_table: Option<String>,
    /// Key column(s) identifying a row: id, or a,b for a composite key (default: the source's primary key).
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Compare only these columns (default: every column both tables have).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Leave these columns out.
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Source column that has another name in the target: SOURCE=TARGET (repeatable).
    #[arg(long = "map", value_name = "SOURCE=TARGET")]
    pub map: Vec<String>,
    /// Filter applied on both sides (an SQL condition, e.g. "loaded_at >= '2024-06-01'").
    #[arg(long = "where")]
    pub where_clause: Option<String>,
    /// Filter for the source only (overrides --where there).
    #[arg(long)]
    pub source_where: Option<String>,
    /// Filter for the target only (overrides --where there).
    #[arg(long)]
    pub target_where: Option<String>,
    /// Absolute tolerance for numeric columns: 0.01 for all, or COLUMN=0.01 (repeatable).
    #[arg(long, value_name = "[COLUMN=]TOLERANCE")]
    pub tolerance: Vec<String>,
    /// Round a numeric column before comparing: COLUMN=DECIMALS (repeatable).
    #[arg(long, value_name = "COLUMN=DECIMALS")]
    pub round: Vec<String>,
    /// Decimals floating-point columns are compared at.
    #[arg(long, default_value_t = 6)]
    pub float_decimals: u32,
    /// Aggregate to reconcile: FUNCTION:COLUMN with count, sum, min, max (repeatable;
    /// count:* counts rows).
    #[arg(long = "aggregate", value_name = "FUNCTION:COLUMN")]
    pub aggregates: Vec<String>,
    /// Reconcile the aggregates per value of this column.
    #[arg(long)]
    pub group_by: Option<String>,
    /// auto (join when both tables share a database, bisection otherwise), bisect, join.
    #[arg(long, default_value = "auto")]
    pub strategy: String,
    /// Most segments one checksum query splits a range into.
    #[arg(long, default_value_t = 32768)]
    pub segments: usize,
    /// Ranges with at most this many rows are compared row by row.
    #[arg(long, default_value_t = 512)]
    pub threshold: u64,
    /// Checksum queries run at once on each database over a large table's key ranges (1-16,
    /// default 1; more helps when the databases have cores to spare).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Milliseconds one query may run.
    #[arg(long, default_value_t = 300_000)]
    pub timeout_ms: u64,
    /// Keys listed in the report per kind of difference (default 100; counts stay exact).
    #[arg(long)]
    pub sample_limit: Option<usize>,
    /// Write every differing key to FILE as JSON Lines (kind, key, changed columns with
    /// masked values), whatever the count.
    #[arg(long, value_name = "FILE")]
    pub keys_out: Option<PathBuf>,
    /// Leave a passing run pending until a human approves, rejects or escalates it (exit code 2).
    #[arg(long)]
    pub require_approval: bool,
    /// Environment: dev, qa, stage, prod.
    #[arg(long, default_value = "qa")]
    pub env: String,
    /// What triggered the run: pr, migration, etl, manual.
    #[arg(long, default_value = "etl")]
    pub trigger: String,
    #[command(flatten)]
    pub identity: crate::service_args::RunIdentity,
    #[command(flatten)]
    pub rule_args: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Subcommand)]
pub enum IntegrityCommand {
    /// Check every table (or --table ...) against its constraints and the rules file.
    Check(IntegrityArgs),
}

#[derive(Args)]
pub struct IntegrityArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Check only this table (repeatable).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Rules file (TOML, `[[rule]]` entries).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Environment: dev, qa, stage, prod.
    #[arg(long, default_value = "qa")]
    pub env: String,
    /// What triggered the run: pr, migration, etl, manual.
    #[arg(long, default_value = "manual")]
    pub trigger: String,
    #[command(flatten)]
    pub identity: crate::service_args::RunIdentity,
    /// Milliseconds one check may run before it is reported as an error.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Queries run at once against the database, 1-16 (default: the cores of a server on
    /// this machine, else 4).
    #[arg(long)]
    pub jobs: Option<u32>,
    /// Sample rows per failed check (masked).
    #[arg(long)]
    pub sample_limit: Option<usize>,
    /// Leave a passing run pending until a human approves, rejects or escalates it (exit code 2).
    #[arg(long)]
    pub require_approval: bool,
    #[command(flatten)]
    pub rule_args: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Validate migration files against a database: static rules, sandbox run, diff, risk.
    Validate(ValidateArgs),
    /// Static rules only, no database.
    Lint(LintArgs),
    /// List every rule with its id, severity, dialects and description.
    Rules,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The migration tool whose layout the directories follow: flyway, golang-migrate, sqlx,
    /// diesel, prisma, dbmate, goose, plain (default: detected from the files).
    #[arg(long, value_name = "TOOL")]
    pub layout: Option<String>,
    /// Validate only the migrations the tool's history table on the target does not list as
    /// applied, and fail when there is no such table (default: only the pending ones when the
    /// target has a history table, every migration otherwise).
    #[arg(long, conflicts_with = "all")]
    pub pending: bool,
    /// Validate every migration, whatever the target's history table says.
    #[arg(long)]
    pub all: bool,
    /// Environment: dev, qa, stage, prod.
    #[arg(long, default_value = "qa")]
    pub env: String,
    /// What triggered the run: pr, migration, etl, manual.
    #[arg(long, default_value = "migration")]
    pub trigger: String,
    #[command(flatten)]
    pub identity: crate::service_args::RunIdentity,
    /// Leave a passing run pending until a human approves, rejects or escalates it (exit code 2).
    #[arg(long)]
    pub require_approval: bool,
    /// Must match the URL's dialect when given.
    #[arg(long)]
    pub dialect: Option<String>,
    /// Run the migration in a scratch database on this server, holding a copy of the
    /// target's schema and a sample of its rows (default, PostgreSQL: a throwaway local server
    /// of the target's version).
    #[arg(long, env = "DBCONSULTANT_SANDBOX_URL", hide_env_values = true)]
    pub sandbox_url: Option<String>,
    /// Allow the target's server: MySQL/MariaDB a scratch database beside the target's
    /// (needs CREATE/DROP); PostgreSQL, only when no throwaway local server can be started, one
    /// rolled-back transaction on the target itself (its locks are taken there; reported).
    #[arg(long)]
    pub sandbox_on_target: bool,
    /// Rows copied per table into the sandbox.
    #[arg(long, value_name = "N")]
    pub sample_rows: Option<u64>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Migration files (or directories of *.sql files), applied in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct LintArgs {
    /// SQL dialect: sqlite, postgres, mysql.
    #[arg(long, default_value = "postgres")]
    pub dialect: String,
    /// The migration tool whose layout the directories follow (default: detected).
    #[arg(long, value_name = "TOOL")]
    pub layout: Option<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Migration files (or directories of *.sql files).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Args)]
pub struct RuleArgs {
    /// Fail (exit 1) when the risk score is above N (0-100).
    #[arg(long, value_name = "N")]
    pub fail_above: Option<u32>,
    /// Config file (default: ./dbconsultant.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Disable a rule by id (repeatable).
    #[arg(long = "disable", value_name = "RULE")]
    pub disable: Vec<String>,
    /// Enable an opt-in rule by id (repeatable): prefer-robust-stmts, require-table-schema.
    #[arg(long = "enable", value_name = "RULE")]
    pub enable: Vec<String>,
    /// Enable the zero-delete policy rules.
    #[arg(long)]
    pub zero_delete: bool,
}

#[derive(Args)]
pub struct OutputArgs {
    /// Output format: text, json, markdown, junit, sarif, github (workflow annotations) or
    /// gitlab (code quality JSON).
    #[arg(long, default_value = "text")]
    pub format: String,
    /// Write the report to this file (a text summary still goes to stdout).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// The database a command reads, and where its password comes from when the URL has none.
#[derive(Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH, postgres://..., mysql://... (default: $DBCONSULTANT_DB_URL).
    /// Leave the password out and give it with --password-file, PGPASSWORD / ~/.pgpass
    /// (PostgreSQL) or ~/.my.cnf / MYSQL_PWD (MySQL).
    #[arg(long, env = "DBCONSULTANT_DB_URL", hide_env_values = true)]
    pub db: String,
    /// A file whose first line is the password of --db's user (a mounted secret, chmod 600).
    #[arg(long, env = "DBCONSULTANT_PASSWORD_FILE", value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}
