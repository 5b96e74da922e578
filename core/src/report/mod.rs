//! Renderings of a run document: human text, JSON, Markdown (pull-request comment), JUnit XML,
//! SARIF 2.1.0, GitHub Actions annotations and GitLab code quality JSON. Pure functions of the
//! run, so every surface renders identically.

mod fit;
mod github;
mod gitlab;
mod junit;
mod markdown;
mod sarif;
mod text;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use fit::COMMENT_LIMIT;

use crate::error::Error;
use crate::model::TestRun;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Json,
    Markdown,
    Junit,
    Sarif,
    Github,
    Gitlab,
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "junit" | "xml" => Ok(Format::Junit),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            "gitlab" | "codequality" => Ok(Format::Gitlab),
            other => {
                Err(Error::invalid(format!("unknown format '{other}' (expected text, json, markdown, junit, sarif, github or gitlab)")))
            }
        }
    }
}

/// Render a run. `color` only affects the text format.
/// A plan tree (a run's `plan`, or `explain_query`'s `root`) as indented text lines.
pub fn plan_text(root: &serde_json::Value) -> String {
    text::plan_lines(root, 0).join("\n")
}

pub fn render(run: &TestRun, format: Format, color: bool) -> String {
    match format {
        Format::Text => text::render(run, color),
        Format::Json => serde_json::to_string_pretty(run).expect("run documents always serialize") + "\n",
        Format::Markdown => markdown::render(run),
        Format::Junit => junit::render(run),
        Format::Sarif => sarif::render(run),
        Format::Github => github::render(run),
        Format::Gitlab => gitlab::render(run),
    }
}

/// Where a finding points, as `file:line:column`.
pub(crate) fn location(f: &crate::model::Finding) -> String {
    match (&f.file, f.line, f.column) {
        (Some(file), Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(file), Some(l), None) => format!("{file}:{l}"),
        (Some(file), None, _) => file.clone(),
        (None, Some(l), _) => format!("line {l}"),
        _ => "database".into(),
    }
}

/// One line on the migration tool: its layout and what was applied, validated and ignored.
pub(crate) fn migration_line(run: &TestRun) -> Option<String> {
    let plan = run.migration_plan.as_ref()?;
    if plan.layout == "plain" && plan.applied.is_empty() && plan.ignored.is_empty() && plan.history_table.is_none() {
        return None;
    }
    let how = if plan.detected { "detected" } else { "given" };
    let mut parts = vec![format!("layout {} ({how})", plan.layout)];
    match &plan.history_table {
        Some(table) => parts.push(format!("{} applied per {table}, {} pending", plan.applied.len(), plan.pending.len())),
        None => parts.push(format!("{} migration{}", plan.pending.len(), if plan.pending.len() == 1 { "" } else { "s" })),
    }
    if !plan.ignored.is_empty() {
        parts.push(format!("{} never applied (down/undo)", plan.ignored.len()));
    }
    Some(format!("Migrations: {}", parts.join(", ")))
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::findings::FindingId;
    use crate::model::*;
    use serde_json::json;

    /// A run exercising every part of the document, for snapshot tests of each format.
    pub fn sample_run() -> TestRun {
        TestRun {
            test_run_id: "00000000-0000-4000-8000-000000000001".into(),
            kind: RunKind::Schema,
            environment: Environment::Qa,
            trigger_type: TriggerType::Pr,
            status: RunStatus::Failed,
            risk_score: 63,
            risk_breakdown: vec![
                RiskContribution { rule: "new-constraint-violated".into(), points: 40, reason: "1 critical finding".into() },
                RiskContribution { rule: "schema-change:breaking".into(), points: 10, reason: "2 breaking schema changes".into() },
            ],
            summary: "Index addition and column addition detected, 2 breaking changes; 1 critical finding (new-constraint-violated)."
                .into(),
            created_at: "2026-11-21T10:00:00Z".into(),
            approved_by: None,
            requested_by: None,
            decided_by: None,
            decided_at: None,
            decision_comment: None,
            escalated_to: None,
            target: Some("sqlite://examples/shop.db".into()),
            sandbox: None,
            dialect: Some("sqlite".into()),
            fail_above: Some(50),
            inputs: vec!["migrations/002_unsafe.sql".into()],
            migration_plan: None,
            findings: vec![
                Finding {
                    rule: FindingId::AddingNotNullColumnWithoutDefault,
                    severity: Severity::High,
                    message: "adds NOT NULL column users.tier without a default. <SQLite> rejects \"this\" & more".into(),
                    statement: Some(2),
                    line: Some(4),
                    column: Some(1),
                    suggestion: Some("Add the column nullable, backfill, then add NOT NULL.".into()),
                    file: Some("migrations/002_unsafe.sql".into()),
                    sample_records: vec![],
                    suppressed: None,
                },
                Finding {
                    rule: FindingId::NewConstraintViolated,
                    severity: Severity::Critical,
                    message: "existing data violates the new unique constraint ux_users_email on users: 2 offending row(s)".into(),
                    statement: None,
                    line: None,
                    column: None,
                    suggestion: Some("Clean up the offending rows first.".into()),
                    file: None,
                    sample_records: vec![json!({"email": "<masked>", "duplicate_rows": 2}).as_object().unwrap().clone()],
                    suppressed: None,
                },
            ],
            schema_changes: vec![
                SchemaChange {
                    object_type: ObjectType::Index,
                    table_name: "users".into(),
                    name: "ux_users_email".into(),
                    change_type: ChangeType::Added,
                    compatibility_status: Compatibility::Breaking,
                    details: "unique index on (email)".into(),
                },
                SchemaChange {
                    object_type: ObjectType::Column,
                    table_name: "users".into(),
                    name: "tier".into(),
                    change_type: ChangeType::Added,
                    compatibility_status: Compatibility::Breaking,
                    details: "new NOT NULL TEXT column without default".into(),
                },
            ],
            integrity_results: vec![IntegrityResult {
                table_name: "users".into(),
                integrity_type: IntegrityType::Unique,
                constraint: "ux_users_email".into(),
                failure_count: 2,
                sample_records: vec![],
                error: None,
            }],
            etl_results: vec![],
            performance_metrics: vec![],
        }
    }

    /// A performance run: one query with a verified recommendation, one served by an index.
    pub fn sample_perf_run() -> TestRun {
        let mut run = sample_run();
        run.kind = crate::model::RunKind::Performance;
        run.findings.truncate(0);
        run.schema_changes.clear();
        run.integrity_results.clear();
        run.risk_breakdown.clear();
        run.summary = "2 queries profiled (2 distinct): 1 verified index recommendation(s), 1 finding(s)".into();
        let metric =
            |hash: &str, fingerprint: &str, used: bool, plan: serde_json::Value, rec: Option<&str>, recs: Vec<serde_json::Value>| {
                crate::model::PerformanceMetric {
                    query_hash: hash.into(),
                    query: fingerprint.replace('?', "7"),
                    execution_time_ms: Some(12.5),
                    index_used: used,
                    plan,
                    recommendation: rec.map(str::to_string),
                    fingerprint: fingerprint.into(),
                    occurrences: 1,
                    read_only: true,
                    timing: Some(crate::model::Timing { runs: 5, min_ms: 11.0, median_ms: 12.5, p95_ms: 14.25 }),
                    recommendations: recs,
                    findings: vec![],
                    stats: None,
                    error: None,
                }
            };
        run.performance_metrics = vec![
            metric(
                "17f94b8ebfa8a840",
                "SELECT * FROM orders WHERE sku = ?",
                false,
                json!({"node_type": "Seq Scan", "access": "full_scan", "relation": "orders", "estimated_rows": 5.0, "actual_rows": 5.0}),
                Some(r#"CREATE INDEX "idx_orders_sku" ON "orders" ("sku")"#),
                vec![
                    json!({"create_index": r#"CREATE INDEX "idx_orders_sku" ON "orders" ("sku")"#, "verification": {"method": "hypopg", "cost_before": 17514.83, "cost_after": 24.02, "used": true}}),
                ],
            ),
            metric(
                "e771b6f0abe4da1e",
                "SELECT * FROM orders WHERE id = ?",
                true,
                json!({"node_type": "Index Scan", "access": "index_lookup", "relation": "orders", "index": "orders_pkey", "estimated_rows": 1.0}),
                None,
                vec![],
            ),
        ];
        run
    }

    /// An ETL run with every kind of difference, for report snapshots.
    pub fn sample_etl_run() -> TestRun {
        let mut run = sample_run();
        run.kind = crate::model::RunKind::Etl;
        run.findings.truncate(0);
        run.schema_changes.clear();
        run.integrity_results.clear();
        run.summary = "orders → orders: 1000 vs 999 rows; 2 missing, 1 extra, 1 changed".into();
        run.etl_results = vec![crate::model::EtlResult {
            source_table: "orders".into(),
            target_table: "orders".into(),
            source_count: 1000,
            target_count: 999,
            checksum_match: false,
            missing_in_target: vec![json!({"id": 5}), json!({"id": 7})],
            extra_in_target: vec![json!({"id": 5000})],
            changed: vec![json!({"key": {"id": 10}, "columns": {"amount": {"source": "10.1", "target": "11.1"}}})],
            missing_count: 2,
            extra_count: 1,
            changed_count: 1,
            changed_columns: [("amount".to_string(), 1u64)].into_iter().collect(),
            within_tolerance: 0,
            key: vec!["id".into()],
            columns: vec!["amount".into(), "customer".into()],
            strategy: "bisection".into(),
            segments_compared: 12,
            rows_fetched: 80,
            queries: 6,
            aggregates: vec![crate::model::EtlAggregate {
                group: Some("eu".into()),
                function: "sum".into(),
                column: "amount".into(),
                source: Some("40".into()),
                target: Some("129.01".into()),
                matches: false,
            }],
            error: None,
            keys_out: Some(crate::model::KeysFile { path: "orders.keys.jsonl".into(), lines: 4 }),
        }];
        run
    }
}
