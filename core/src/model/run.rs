//! The run document (docs/run-document.md). Every surface returns exactly this shape.

use serde::{Deserialize, Serialize};

use crate::findings::FindingId;

string_enum!(
    /// Which capability produced the run.
    RunKind { Schema => "schema", Integrity => "integrity", Etl => "etl", Performance => "performance" }
);
string_enum!(Environment { Dev => "dev", Qa => "qa", Stage => "stage", Prod => "prod" });
string_enum!(TriggerType { Pr => "pr", Migration => "migration", Etl => "etl", Manual => "manual" });
string_enum!(RunStatus {
    Passed => "passed",
    Failed => "failed",
    PendingApproval => "pending_approval",
    Escalated => "escalated",
    Approved => "approved",
    Rejected => "rejected",
    Error => "error",
});
string_enum!(
    /// Severity of a finding, ordered from least to most severe.
    Severity { Info => "info", Low => "low", Medium => "medium", High => "high", Critical => "critical" }
);
string_enum!(ObjectType { Table => "table", Column => "column", Index => "index", Constraint => "constraint", View => "view", Type => "type" });
string_enum!(ChangeType { Added => "added", Removed => "removed", Modified => "modified" });
string_enum!(
    /// Compatibility of a schema change with code written against the old schema.
    Compatibility { Compatible => "compatible", Breaking => "breaking", Destructive => "destructive" }
);
string_enum!(IntegrityType { Pk => "pk", Fk => "fk", Unique => "unique", NotNull => "not_null", Check => "check", Rule => "rule" });

impl RunStatus {
    /// The CLI's exit code: 0 passed/approved, 1 failed/rejected, 2 waiting for a decision
    /// (pending approval or escalated), 3 error. Every SDK's `exit_code` is generated from this.
    pub fn exit_code(self) -> i32 {
        match self {
            RunStatus::Passed | RunStatus::Approved => 0,
            RunStatus::Failed | RunStatus::Rejected => 1,
            RunStatus::PendingApproval | RunStatus::Escalated => 2,
            RunStatus::Error => 3,
        }
    }
}

/// One contribution to the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RiskContribution {
    pub rule: String,
    pub points: u32,
    pub reason: String,
}

/// One problem found by a static rule or by the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// What was found (documented per id in `docs/rules/`).
    pub rule: FindingId,
    pub severity: Severity,
    pub message: String,
    /// 1-based index of the statement in the migration (across all files).
    pub statement: Option<usize>,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub suggestion: Option<String>,
    /// The migration file the statement came from, when it came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Bounded, masked sample rows that demonstrate the problem (sandbox findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_records: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Set when an inline `dbconsultant-ignore` comment covers the finding: it stays in the
    /// report, but counts nothing toward the risk score or the run's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

/// The inline comment that suppressed a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suppression {
    /// `statement` (`-- dbconsultant-ignore:` above the statement) or `file`
    /// (`-- dbconsultant-ignore-file:`).
    pub scope: String,
    /// Where the comment is.
    pub file: String,
    pub line: u64,
    /// The text after a second `--` on the comment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Finding {
    /// A finding about the data or the database as a whole (no statement, no position).
    pub fn with_suggestion(rule: FindingId, severity: Severity, message: String, suggestion: &str) -> Finding {
        Finding {
            rule,
            severity,
            message,
            statement: None,
            line: None,
            column: None,
            suggestion: Some(suggestion.into()),
            file: None,
            sample_records: Vec::new(),
            suppressed: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchemaChange {
    pub object_type: ObjectType,
    pub table_name: String,
    pub name: String,
    pub change_type: ChangeType,
    pub compatibility_status: Compatibility,
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntegrityResult {
    pub table_name: String,
    pub integrity_type: IntegrityType,
    pub constraint: String,
    pub failure_count: u64,
    pub sample_records: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Why the check could not run (timeout, database error); the other checks still ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EtlResult {
    pub source_table: String,
    pub target_table: String,
    pub source_count: u64,
    pub target_count: u64,
    /// True when every compared row matched (after normalization and tolerances) and the
    /// counts are equal; false when anything differs or rows could not be compared.
    pub checksum_match: bool,
    /// Keys of source rows absent from the target (a sample; `missing_count` is exact).
    pub missing_in_target: Vec<serde_json::Value>,
    /// Keys of target rows absent from the source (a sample; `extra_count` is exact).
    pub extra_in_target: Vec<serde_json::Value>,
    /// `{"key": {...}, "columns": {"col": {"source": .., "target": ..}}}` (a sample).
    pub changed: Vec<serde_json::Value>,
    #[serde(default)]
    pub missing_count: u64,
    #[serde(default)]
    pub extra_count: u64,
    #[serde(default)]
    pub changed_count: u64,
    /// Changed rows per column (exact).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub changed_columns: std::collections::BTreeMap<String, u64>,
    /// Rows whose values differ only within the tolerance (or in JSON formatting).
    #[serde(default)]
    pub within_tolerance: u64,
    /// Key columns (source names).
    #[serde(default)]
    pub key: Vec<String>,
    /// Compared columns (`name` or `source→target`).
    #[serde(default)]
    pub columns: Vec<String>,
    /// `bisection`, `join` (same database) or `checksum` (whole table only).
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub segments_compared: u64,
    #[serde(default)]
    pub rows_fetched: u64,
    #[serde(default)]
    pub queries: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregates: Vec<EtlAggregate>,
    /// Why rows were not compared one by one (duplicate or NULL keys), if they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The JSON Lines file every differing key was written to, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_out: Option<KeysFile>,
}

/// A file of every differing key (`keys_out`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeysFile {
    pub path: String,
    /// Lines written: `missing_count + extra_count + changed_count` when rows were compared.
    pub lines: u64,
}

/// One reconciled aggregate (per group when grouped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EtlAggregate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub function: String,
    pub column: String,
    pub source: Option<String>,
    pub target: Option<String>,
    pub matches: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PerformanceMetric {
    pub query_hash: String,
    pub query: String,
    /// Median of the timed runs (read-only queries only; writes are never executed).
    pub execution_time_ms: Option<f64>,
    pub index_used: bool,
    /// The normalized plan: the same tree `explain_query` returns (node types, tables,
    /// indexes, estimated and actual rows, cost).
    pub plan: serde_json::Value,
    /// The first verified `CREATE INDEX`, if any.
    pub recommendation: Option<String>,
    /// The query with literals as `?` (what the hash is computed from).
    #[serde(default)]
    pub fingerprint: String,
    /// How often the workload ran this fingerprint.
    #[serde(default)]
    pub occurrences: u64,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Every index recommendation with its verification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<serde_json::Value>,
    /// Rules the query triggered (details in the run's findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingId>,
    /// Statistics from pg_stat_statements / performance_schema (with --from-stats).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<serde_json::Value>,
    /// Why the query could not be explained or timed, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Execution times of the timed runs (after one warm-up run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timing {
    pub runs: u32,
    pub min_ms: f64,
    pub median_ms: f64,
    pub p95_ms: f64,
}

/// The document every check returns and the store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestRun {
    pub test_run_id: String,
    pub kind: RunKind,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    pub status: RunStatus,
    pub risk_score: u32,
    pub risk_breakdown: Vec<RiskContribution>,
    pub summary: String,
    pub created_at: String,
    pub approved_by: Option<String>,
    /// Who asked for the run, when known; they cannot decide it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    /// Who approved or rejected the run, if anyone did.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// When the approval decision was taken (RFC 3339), if any.
    #[serde(default)]
    pub decided_at: Option<String>,
    /// The approver's or rejecter's comment, if any.
    #[serde(default)]
    pub decision_comment: Option<String>,
    /// Whom the run was escalated to (a person or a group), while it waits for their decision.
    #[serde(default)]
    pub escalated_to: Option<String>,
    /// The database the run looked at, with any password redacted.
    #[serde(default)]
    pub target: Option<String>,
    /// Where the migration ran (the sandbox), for schema runs.
    #[serde(default)]
    pub sandbox: Option<String>,
    /// Dialect of the target (`sqlite`, `postgres`, `mysql`).
    #[serde(default)]
    pub dialect: Option<String>,
    /// The risk threshold the run was judged against, if any.
    #[serde(default)]
    pub fail_above: Option<u32>,
    /// Migration files (or `<inline>`) the run validated.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Schema runs: the migration tool's layout, and which migrations were applied already,
    /// validated, or never applied (down and undo migrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_plan: Option<crate::migrations::history::MigrationPlan>,
    pub findings: Vec<Finding>,
    pub schema_changes: Vec<SchemaChange>,
    pub integrity_results: Vec<IntegrityResult>,
    pub etl_results: Vec<EtlResult>,
    pub performance_metrics: Vec<PerformanceMetric>,
}

impl TestRun {
    /// A new run of `kind` against `target` (password already redacted), created now: passed,
    /// risk 0, no inputs, findings or results yet. Each check fills in what it found.
    pub fn new(
        kind: RunKind,
        environment: Environment,
        trigger_type: TriggerType,
        dialect: crate::dialect::Dialect,
        target: Option<String>,
    ) -> TestRun {
        TestRun {
            test_run_id: uuid::Uuid::new_v4().to_string(),
            kind,
            environment,
            trigger_type,
            status: RunStatus::Passed,
            risk_score: 0,
            risk_breakdown: Vec::new(),
            summary: String::new(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            approved_by: None,
            requested_by: None,
            decided_by: None,
            decided_at: None,
            decision_comment: None,
            escalated_to: None,
            target,
            sandbox: None,
            dialect: Some(dialect.to_string()),
            fail_above: None,
            inputs: Vec::new(),
            migration_plan: None,
            findings: Vec::new(),
            schema_changes: Vec::new(),
            integrity_results: Vec::new(),
            etl_results: Vec::new(),
            performance_metrics: Vec::new(),
        }
    }

    /// The CLI's exit code for the run's status ([`RunStatus::exit_code`]).
    pub fn exit_code(&self) -> i32 {
        self.status.exit_code()
    }

    pub fn highest_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A short line per run for listings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestRunSummary {
    pub test_run_id: String,
    pub kind: RunKind,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    pub status: RunStatus,
    pub risk_score: u32,
    pub summary: String,
    pub created_at: String,
    pub approved_by: Option<String>,
}

impl From<&TestRun> for TestRunSummary {
    fn from(run: &TestRun) -> Self {
        TestRunSummary {
            test_run_id: run.test_run_id.clone(),
            kind: run.kind,
            environment: run.environment,
            trigger_type: run.trigger_type,
            status: run.status,
            risk_score: run.risk_score,
            summary: run.summary.clone(),
            created_at: run.created_at.clone(),
            approved_by: run.approved_by.clone(),
        }
    }
}
