//! Every operation: what it is called, how each surface shows it, and what it runs.

use super::requests::*;
use super::{Alias, Assistant, Cli, Group, HttpMethod, Lang, Op, Operation, Progress, Rest, Role, Spec};
use crate::engine::Consultant;
use crate::error::Result;
use crate::inspect::{QueryOutput, SchemaSummary, TableDescription, TableSummary};
use crate::model::{Plan, TestRun, TestRunSummary};
use crate::store::AuditEvent;
use crate::{EtlRequest, IntegrityRequest, LintRequest, PerfRequest, SchemaValidationRequest};

/// Every operation, in the order the documentation lists them.
pub fn registry() -> &'static [Operation] {
    const REGISTRY: &[Operation] = &[
        Operation::of::<ValidateSchema>(),
        Operation::of::<LintSchema>(),
        Operation::of::<CheckIntegrity>(),
        Operation::of::<ValidateEtl>(),
        Operation::of::<ProfilePerformance>(),
        Operation::of::<GetTestRun>(),
        Operation::of::<ListTestRuns>(),
        Operation::of::<ApproveTestRun>(),
        Operation::of::<RejectTestRun>(),
        Operation::of::<EscalateTestRun>(),
        Operation::of::<AuditTrail>(),
        Operation::of::<AuditLog>(),
        Operation::of::<ListSchemas>(),
        Operation::of::<ListTables>(),
        Operation::of::<DescribeTable>(),
        Operation::of::<RunQuery>(),
        Operation::of::<ExplainQuery>(),
    ];
    REGISTRY
}

const HUMANS_DECIDE: &str = "approval stays with humans: an assistant must not approve or reject runs";

pub struct ValidateSchema;
impl Op for ValidateSchema {
    const SPEC: Spec = Spec {
        name: "validate_schema",
        summary: "Validate a migration against a database: static rules, a sandboxed run, schema diff, new constraints checked against existing rows, risk score. The run is stored.",
        description: "Validate a migration (DDL and data changes, one or more statements) against a database: lint rules, then the statements run in a sandbox copy (never on the database itself) to find lock-heavy or breaking changes and constraint violations on existing data. Returns the stored test run with findings, a risk score and a status; a run that needs approval waits for a human.",
        group: Group::Schema,
        writes_store: true,
        assistant: Assistant::Tool { name: "validate_migration", read_only: false, fields: &["database_url", "migration_sql", "migration_name"] },
        cli: Cli::Command(&["schema", "validate"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "schema/validate", role: Role::Runner },
        positional: &["database_url", "migration_script"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = SchemaValidationRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: SchemaValidationRequest) -> Result<TestRun> {
        c.validate_schema(&r).await
    }
}

pub struct LintSchema;
impl Op for LintSchema {
    const SPEC: Spec = Spec {
        name: "lint_schema",
        summary: "Lint a migration without a database: static rules only. Lint runs are not stored.",
        description: "Check a migration's statements against the static rules of its dialect (destructive, backward-incompatible and lock-heavy changes, robustness), without connecting to any database.",
        group: Group::Schema,
        writes_store: false,
        assistant: Assistant::Tool { name: "lint_migration", read_only: true, fields: &["migration_sql", "migration_name", "dialect"] },
        cli: Cli::Command(&["schema", "lint"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "schema/lint", role: Role::Viewer },
        positional: &["migration_script"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = LintRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: LintRequest) -> Result<TestRun> {
        c.lint_schema(&r)
    }
}

pub struct CheckIntegrity;
impl Op for CheckIntegrity {
    const SPEC: Spec = Spec {
        name: "check_integrity",
        summary: "Check the rows against the declared keys and constraints (including unenforced ones) and user rules, in the database. The run is stored.",
        description: "Check the data of a database against its declared keys and constraints (orphaned foreign keys, duplicate keys, NULLs in NOT NULL, failed checks) and optional rules. Returns the stored test run with failure counts and masked sample rows.",
        group: Group::Integrity,
        writes_store: true,
        assistant: Assistant::Tool { name: "check_integrity", read_only: true, fields: &["database_url", "tables", "rules"] },
        cli: Cli::Command(&["integrity", "check"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "data/integrity-check", role: Role::Runner },
        positional: &["database_url", "tables"],
        node_positional: &[],
        aliases: &[Alias { lang: Lang::Node, name: "validateIntegrity" }],
    };
    type Request = IntegrityRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: IntegrityRequest) -> Result<TestRun> {
        c.check_integrity(&r).await
    }
    async fn run_with_progress(c: &Consultant, r: IntegrityRequest, progress: Progress<'_>) -> Result<TestRun> {
        c.check_integrity_with_progress(&r, Some(progress)).await
    }
}

pub struct ValidateEtl;
impl Op for ValidateEtl {
    const SPEC: Spec = Spec {
        name: "validate_etl",
        summary: "Does the target table hold exactly the source table's rows? Counts, checksums per key range, then the missing, extra and changed keys. The run is stored.",
        description: "Check that a target table holds exactly the rows of a source table (in the same or another database, any dialect): counts, checksums by key range, then the exact missing, extra and changed keys with the columns that differ. Reads only.",
        group: Group::Etl,
        writes_store: true,
        assistant: Assistant::Tool {
            name: "validate_etl",
            read_only: true,
            fields: &[
                "source_url",
                "target_url",
                "source_table",
                "target_table",
                "key",
                "columns",
                "exclude_columns",
                "column_map",
                "where",
                "source_where",
                "target_where",
                "tolerance",
                "aggregates",
                "group_by",
            ],
        },
        cli: Cli::Command(&["etl", "validate"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "etl/validate", role: Role::Runner },
        positional: &["source_url", "source_table", "target_url", "target_table"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = EtlRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: EtlRequest) -> Result<TestRun> {
        c.validate_etl(&r).await
    }
    async fn run_with_progress(c: &Consultant, r: EtlRequest, progress: Progress<'_>) -> Result<TestRun> {
        c.validate_etl_with_progress(&r, Some(progress)).await
    }
}

pub struct ProfilePerformance;
impl Op for ProfilePerformance {
    const SPEC: Spec = Spec {
        name: "profile_performance",
        summary: "Profile queries: fingerprint, plan, timed runs of read-only queries, findings and index recommendations verified before they are suggested. The run is stored.",
        description: "Profile queries on a database: fingerprint, plan (measured for read-only queries), timing, findings (full scans of large tables, estimates off by 10x, spills, functions on indexed columns, N+1 repeats) and index recommendations verified before they are suggested. Give queries, or from_stats to read the database's statement statistics.",
        group: Group::Performance,
        writes_store: true,
        assistant: Assistant::Tool { name: "profile_performance", read_only: true, fields: &["database_url", "queries", "from_stats", "runs", "analyze"] },
        cli: Cli::Command(&["perf", "profile"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "performance/profile", role: Role::Runner },
        positional: &["database_url", "queries"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = PerfRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: PerfRequest) -> Result<TestRun> {
        c.profile_performance(&r).await
    }
}

pub struct GetTestRun;
impl Op for GetTestRun {
    const SPEC: Spec = Spec {
        name: "get_test_run",
        summary: "The stored run with this id (a not-found error otherwise).",
        description: "Get one stored test run (from validate_migration, check_integrity, validate_etl, profile_performance or a CI job) by id: status, risk score, findings, results and approval state.",
        group: Group::Runs,
        writes_store: false,
        assistant: Assistant::Tool { name: "get_test_run", read_only: true, fields: &["test_run_id"] },
        cli: Cli::Command(&["runs", "show"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "test-runs/{test_run_id}", role: Role::Viewer },
        positional: &["test_run_id"],
        node_positional: &["test_run_id"],
        aliases: &[Alias { lang: Lang::Python, name: "get_test_report" }, Alias { lang: Lang::Node, name: "getReport" }],
    };
    type Request = TestRunRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: TestRunRequest) -> Result<TestRun> {
        c.test_run(&r.test_run_id).await
    }
}

pub struct ListTestRuns;
impl Op for ListTestRuns {
    const SPEC: Spec = Spec {
        name: "list_test_runs",
        summary: "Stored runs, newest first, optionally of one status, kind, environment or requester; a page at a time.",
        description: "List stored test runs, newest first, optionally by status (passed, failed, pending_approval, approved, rejected), kind (schema, integrity, etl, performance), environment or requester; `limit` and `offset` page through them.",
        group: Group::Runs,
        writes_store: false,
        assistant: Assistant::Tool { name: "list_test_runs", read_only: true, fields: &["status", "kind", "limit"] },
        cli: Cli::Command(&["runs", "list"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "test-runs", role: Role::Viewer },
        positional: &[],
        node_positional: &[],
        aliases: &[],
    };
    type Request = ListTestRunsRequest;
    type Response = Vec<TestRunSummary>;
    async fn run(c: &Consultant, r: ListTestRunsRequest) -> Result<Vec<TestRunSummary>> {
        let filter = crate::store::RunFilter {
            status: r.status,
            kind: r.kind,
            environment: r.environment,
            requested_by: r.requested_by,
            limit: Some(r.limit),
            offset: Some(r.offset),
        };
        c.list_test_runs(&filter).await
    }
}

pub struct ApproveTestRun;
impl Op for ApproveTestRun {
    const SPEC: Spec = Spec {
        name: "approve_test_run",
        summary: "Approve a run that waits for approval (an approval-state error if it does not).",
        description: "Approve a run pending approval; who approved, when and why are recorded on the run and in its audit trail.",
        group: Group::Runs,
        writes_store: true,
        assistant: Assistant::Never(HUMANS_DECIDE),
        cli: Cli::Command(&["runs", "approve"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "test-runs/{test_run_id}/approve", role: Role::Approver },
        positional: &["test_run_id", "approver", "comment"],
        node_positional: &["test_run_id"],
        aliases: &[],
    };
    type Request = DecisionRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: DecisionRequest) -> Result<TestRun> {
        c.approve(&r.test_run_id, &r.approver, r.comment.as_deref()).await
    }
}

pub struct RejectTestRun;
impl Op for RejectTestRun {
    const SPEC: Spec = Spec {
        name: "reject_test_run",
        summary: "Reject a run that waits for approval (an approval-state error if it does not).",
        description: "Reject a run pending approval; who rejected it, when and why are recorded on the run and in its audit trail.",
        group: Group::Runs,
        writes_store: true,
        assistant: Assistant::Never(HUMANS_DECIDE),
        cli: Cli::Command(&["runs", "reject"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "test-runs/{test_run_id}/reject", role: Role::Approver },
        positional: &["test_run_id", "approver", "comment"],
        node_positional: &["test_run_id"],
        aliases: &[],
    };
    type Request = DecisionRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: DecisionRequest) -> Result<TestRun> {
        c.reject(&r.test_run_id, &r.approver, r.comment.as_deref()).await
    }
}

pub struct EscalateTestRun;
impl Op for EscalateTestRun {
    const SPEC: Spec = Spec {
        name: "escalate_test_run",
        summary: "Hand a run that waits for approval to someone else; it keeps waiting (status escalated).",
        description: "Escalate a run pending approval (or already escalated) to a person or group who must decide it; who \
                      escalated, to whom and why are recorded on the run and in its audit trail. An escalated run is approved \
                      or rejected like a pending one.",
        group: Group::Runs,
        writes_store: true,
        assistant: Assistant::Never(HUMANS_DECIDE),
        cli: Cli::Command(&["runs", "escalate"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "test-runs/{test_run_id}/escalate", role: Role::Approver },
        positional: &["test_run_id", "approver", "to", "comment"],
        node_positional: &["test_run_id"],
        aliases: &[],
    };
    type Request = EscalationRequest;
    type Response = TestRun;
    async fn run(c: &Consultant, r: EscalationRequest) -> Result<TestRun> {
        c.escalate(&r.test_run_id, &r.approver, &r.to, r.comment.as_deref()).await
    }
}

pub struct AuditTrail;
impl Op for AuditTrail {
    const SPEC: Spec = Spec {
        name: "audit_trail",
        summary: "Every state change of one run, oldest first.",
        description: "The audit trail of one run: its creation and every approval decision, with who, when and why.",
        group: Group::Audit,
        writes_store: false,
        assistant: Assistant::Tool { name: "audit_trail", read_only: true, fields: &["test_run_id"] },
        cli: Cli::Command(&["runs", "trail"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "test-runs/{test_run_id}/audit", role: Role::Viewer },
        positional: &["test_run_id"],
        node_positional: &["test_run_id"],
        aliases: &[],
    };
    type Request = TestRunRequest;
    type Response = Vec<AuditEvent>;
    async fn run(c: &Consultant, r: TestRunRequest) -> Result<Vec<AuditEvent>> {
        c.audit_trail(&r.test_run_id).await
    }
}

pub struct AuditLog;
impl Op for AuditLog {
    const SPEC: Spec = Spec {
        name: "audit_log",
        summary: "The audit log across runs, newest first: run creations and decisions, MCP tool calls.",
        description: "The audit log across runs, newest first: runs created, approvals and rejections, and every MCP tool call (with SQL reduced to fingerprints).",
        group: Group::Audit,
        writes_store: false,
        assistant: Assistant::Never("the log records every assistant's calls; it is for the people who supervise assistants"),
        cli: Cli::Command(&["audit", "list"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "audit", role: Role::Admin },
        positional: &[],
        node_positional: &[],
        aliases: &[],
    };
    type Request = AuditLogRequest;
    type Response = Vec<AuditEvent>;
    async fn run(c: &Consultant, r: AuditLogRequest) -> Result<Vec<AuditEvent>> {
        c.audit_log(&crate::store::AuditFilter { event: r.event, limit: Some(r.limit) }).await
    }
}

pub struct ListSchemas;
impl Op for ListSchemas {
    const SPEC: Spec = Spec {
        name: "list_schemas",
        summary: "Schemas with their table and view counts.",
        description: "List the schemas this login can see (PostgreSQL schemas, the MySQL databases on the server, SQLite main) with how many tables and views each holds. Start here to find your way around a database; list_tables shows the default schema unless given another.",
        group: Group::Inspection,
        writes_store: false,
        assistant: Assistant::Tool { name: "list_schemas", read_only: true, fields: &["database_url"] },
        cli: Cli::Command(&["inspect", "schemas"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "inspect/schemas", role: Role::Runner },
        positional: &["database_url"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = ListSchemasRequest;
    type Response = Vec<SchemaSummary>;
    async fn run(c: &Consultant, r: ListSchemasRequest) -> Result<Vec<SchemaSummary>> {
        c.list_schemas(&r).await
    }
}

pub struct ListTables;
impl Op for ListTables {
    const SPEC: Spec = Spec {
        name: "list_tables",
        summary: "Tables and views, of the default schema or another, with column counts and row estimates.",
        description: "List the tables and views of the default schema, or of the given schema, with column counts and estimated row counts. Tables outside the default schema are named schema.table, which is also how describe_table and queries take them.",
        group: Group::Inspection,
        writes_store: false,
        assistant: Assistant::Tool { name: "list_tables", read_only: true, fields: &["database_url", "schema"] },
        cli: Cli::Command(&["inspect", "tables"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "inspect/tables", role: Role::Runner },
        positional: &["database_url", "schema"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = ListTablesRequest;
    type Response = Vec<TableSummary>;
    async fn run(c: &Consultant, r: ListTablesRequest) -> Result<Vec<TableSummary>> {
        c.list_tables(&r).await
    }
}

pub struct DescribeTable;
impl Op for DescribeTable {
    const SPEC: Spec = Spec {
        name: "describe_table",
        summary: "Columns, keys, constraints, indexes and row estimate of one table (a not-found error names the closest tables).",
        description: "Describe one table: columns with types, nullability and defaults; primary key; foreign keys (and which tables reference it); unique and check constraints; indexes; estimated row count. Use before writing a query against the table.",
        group: Group::Inspection,
        writes_store: false,
        assistant: Assistant::Tool { name: "describe_table", read_only: true, fields: &["database_url", "table"] },
        cli: Cli::Command(&["inspect", "describe"]),
        rest: Rest::Endpoint { method: HttpMethod::Get, path: "inspect/describe", role: Role::Runner },
        positional: &["database_url", "table"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = DescribeTableRequest;
    type Response = TableDescription;
    async fn run(c: &Consultant, r: DescribeTableRequest) -> Result<TableDescription> {
        c.describe_table(&r).await
    }
}

pub struct RunQuery;
impl Op for RunQuery {
    const SPEC: Spec = Spec {
        name: "run_query",
        summary: "Run one read-only statement (guarded, prepared, in a READ ONLY transaction rolled back); rows capped, sensitive values masked.",
        description: "Run one read-only SQL query and return its rows as JSON objects. Rows are capped (max_rows, at most the server's limit); `truncated` is true exactly when the query had more rows than were returned. Values of sensitive columns (emails, phones, card numbers, secrets...) come back masked. Runs prepared, inside a READ ONLY transaction that is rolled back, with a statement timeout. Prefer aggregates and LIMIT over fetching many rows.",
        group: Group::Inspection,
        writes_store: false,
        assistant: Assistant::Tool { name: "run_query", read_only: true, fields: &["database_url", "sql", "max_rows"] },
        cli: Cli::Command(&["inspect", "query"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "inspect/query", role: Role::Runner },
        positional: &["database_url", "sql", "max_rows"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = RunQueryRequest;
    type Response = QueryOutput;
    async fn run(c: &Consultant, r: RunQueryRequest) -> Result<QueryOutput> {
        c.run_query(&r).await
    }
}

pub struct ExplainQuery;
impl Op for ExplainQuery {
    const SPEC: Spec = Spec {
        name: "explain_query",
        summary: "The plan tree of one statement; writes are planned, never run, and analyze runs only read-only queries (rolled back).",
        description: "Show the database's plan for one statement as a tree (node types, tables, indexes used, estimated rows and cost). INSERT / UPDATE / DELETE are planned, never run. With analyze=true a read-only query is also run (rolled back) to report actual rows and times.",
        group: Group::Inspection,
        writes_store: false,
        assistant: Assistant::Tool { name: "explain_query", read_only: true, fields: &["database_url", "sql", "analyze"] },
        cli: Cli::Command(&["inspect", "explain"]),
        rest: Rest::Endpoint { method: HttpMethod::Post, path: "inspect/explain", role: Role::Runner },
        positional: &["database_url", "sql", "analyze"],
        node_positional: &[],
        aliases: &[],
    };
    type Request = ExplainQueryRequest;
    type Response = Plan;
    async fn run(c: &Consultant, r: ExplainQueryRequest) -> Result<Plan> {
        c.explain_query(&r).await
    }
}
