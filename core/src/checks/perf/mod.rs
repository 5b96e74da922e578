//! Query performance profiling: for each query of a workload, its fingerprint, its
//! plan in the dialect's richest EXPLAIN (ANALYZE for read-only queries, in a rolled-back
//! read-only transaction), its execution time over repeated runs (read-only queries only),
//! findings, and index recommendations verified before anyone creates them (hypopg on
//! PostgreSQL, else a sandbox copy where the index is really created and the plan re-read).

pub mod analyze;
pub(crate) mod findings;
pub mod fingerprint;
pub mod verify;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Config;
use crate::driver::{self, Driver, Sandbox};
use crate::error::{Error, Result};
use crate::findings::FindingId;
use crate::model::{Environment, Finding, PerformanceMetric, Plan, RunKind, RunStatus, Severity, TestRun, Timing, TriggerType};
use crate::risk;
use crate::url::DatabaseUrl;
use analyze::{IndexRecommendation, PerfFinding};
use fingerprint::fingerprint;
use verify::Verification;

/// Profile a workload: the request behind `profile_performance` on every surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["database_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct PerfRequest {
    /// The database the queries run on (read-only queries only are executed).
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// The workload, one statement per entry.
    pub queries: Vec<String>,
    /// A workload file (statements separated by `;`), read after `queries`.
    #[schemars(extend("x-local-files" = true))]
    pub query_file: Option<std::path::PathBuf>,
    /// Also profile the top statements of pg_stat_statements / performance_schema.
    pub from_stats: bool,
    /// How many statements `from_stats` reads.
    pub stats_limit: usize,
    /// Timed runs per read-only query, after one warm-up run (0: no timing).
    pub runs: u32,
    /// EXPLAIN ANALYZE read-only queries (PostgreSQL, MariaDB).
    pub analyze: bool,
    /// A full scan of a table with at least this many rows is worth an index.
    pub large_table_rows: u64,
    /// A fingerprint repeated this many times in the workload is an N+1 pattern.
    pub repeat_threshold: u64,
    /// Where hypothetical indexes are unavailable, create a recommended index in a sandbox to
    /// verify it (off: such recommendations stay unverified, nothing is ever written).
    pub sandbox_verification: bool,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    /// Who asks for the run (recorded on it and as the actor of its `created` audit event;
    /// the REST service sets the authenticated caller). Whoever requested a run cannot decide it.
    pub requested_by: Option<String>,
    /// Store the run under this id (default: a new UUID; letters, digits, `-` and `_`, at most
    /// 64). A second run with an id already stored is refused, so a retried request stores
    /// its run once.
    pub run_id: Option<String>,
    /// `dbconsultant.toml` inline, or its path.
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for PerfRequest {
    fn default() -> Self {
        PerfRequest {
            database_url: String::new(),
            database_password: None,
            queries: Vec::new(),
            query_file: None,
            from_stats: false,
            stats_limit: 20,
            runs: 5,
            analyze: true,
            large_table_rows: 10_000,
            repeat_threshold: 5,
            sandbox_verification: true,
            environment: Environment::Qa,
            trigger_type: TriggerType::Manual,
            requested_by: None,
            run_id: None,
            config: Config::default(),
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn time_runs(driver: &dyn Driver, sql: &str, runs: u32) -> Result<Option<Timing>> {
    if runs == 0 {
        return Ok(None);
    }
    driver.time_query(sql).await?; // warm-up
    let mut times = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        times.push(driver.time_query(sql).await?);
    }
    times.sort_by(f64::total_cmp);
    Ok(Some(Timing { runs, min_ms: times[0], median_ms: percentile(&times, 0.5), p95_ms: percentile(&times, 0.95) }))
}

/// A recommendation checked in the sandbox: the index is created there for real.
async fn verify_in_sandbox(sandbox: &mut dyn Sandbox, sql: &str, recommendation: &IndexRecommendation) -> Result<Verification> {
    let before = sandbox.explain(sql).await?;
    let script = crate::sql::parse_script(&[crate::MigrationSource::inline(&recommendation.create_index)], sandbox.dialect());
    let statement = script.statements.first().ok_or_else(|| Error::Internal("recommendation did not parse".into()))?;
    sandbox.execute(statement).await.map_err(|e| Error::Sandbox(e.message))?;
    let after = sandbox.explain(sql).await?;
    let used = after.root.nodes().iter().any(|n| n.index.as_deref() == Some(recommendation.name.as_str()));
    let method = if sandbox.on_target() { "target-transaction" } else { "sandbox-copy" };
    Ok(Verification {
        method: method.into(),
        sandbox: Some(sandbox.description()),
        cost_before: before.total_cost,
        cost_after: after.total_cost,
        used,
    })
}

fn to_finding(hash: &str, f: &PerfFinding) -> Finding {
    Finding::with_suggestion(f.rule, f.severity, format!("query {hash}: {}", f.message), &f.suggestion)
}

/// Profile the workload and build the run.
pub async fn profile(req: &PerfRequest) -> Result<TestRun> {
    req.config.validate()?;
    let url = DatabaseUrl::parse(&crate::driver::credentials::request_url(&req.database_url, &req.database_password)?)?;
    let dialect = url.dialect();
    let target = driver::connect(&url).await?;
    let mut schema = target.introspect().await?;
    let mut workload: Vec<(String, Option<serde_json::Value>)> =
        req.queries.iter().filter(|q| !q.trim().is_empty()).map(|q| (q.trim().to_string(), None)).collect();
    if let Some(path) = &req.query_file {
        let sources = crate::MigrationSource::read_paths(std::slice::from_ref(path))?;
        for statement in &crate::sql::parse_script(&sources, dialect).statements {
            workload.push((statement.sql.trim().trim_end_matches(';').to_string(), None));
        }
    }
    if req.from_stats {
        for s in target.top_statements(req.stats_limit).await? {
            workload.push((s.query.clone(), Some(serde_json::to_value(&s).unwrap_or_default())));
        }
    }
    if workload.is_empty() {
        return Err(Error::invalid("give queries to profile (--query, --file) or --from-stats"));
    }

    // Distinct fingerprints, in first-seen order, with their counts.
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, (String, String, u64, Option<serde_json::Value>)> = BTreeMap::new();
    for (sql, stats) in workload {
        let fp = fingerprint(&sql, dialect);
        let entry = groups.entry(fp.query_hash.clone()).or_insert_with(|| {
            order.push(fp.query_hash.clone());
            (sql.clone(), fp.normalized.clone(), 0, stats.clone())
        });
        entry.2 += 1;
    }

    let mut findings = Vec::new();
    let mut metrics = Vec::new();
    let mut sandbox: Option<Result<Box<dyn Sandbox>>> = None;
    // Never built on the target: hypopg there, else a copy (PostgreSQL: a shadow database).
    let sandbox_options = req.config.sandbox.clone();
    let mut verified_count = 0usize;
    for hash in &order {
        let (sql, normalized, occurrences, stats) = groups[hash].clone();
        // Statements from the statistics carry placeholders: explained, never run or timed.
        let parameterized = crate::driver::explain::placeholder_count(&sql, dialect) > 0;
        let read_only = crate::driver::require_select(&sql, dialect).is_ok() && !parameterized;
        let mut metric = PerformanceMetric {
            query_hash: hash.clone(),
            query: sql.clone(),
            execution_time_ms: None,
            index_used: false,
            plan: serde_json::Value::Null,
            recommendation: None,
            fingerprint: normalized,
            occurrences,
            read_only,
            timing: None,
            recommendations: Vec::new(),
            findings: Vec::new(),
            stats,
            error: None,
        };
        if occurrences >= req.repeat_threshold {
            let f = PerfFinding {
                rule: FindingId::NPlusOne,
                severity: Severity::Medium,
                message: format!("the workload runs this query {occurrences} times (an N+1 pattern)"),
                suggestion: "Fetch the rows in one query (a join or WHERE key IN (...)) instead of one query per row.".into(),
            };
            metric.findings.push(f.rule);
            findings.push(to_finding(hash, &f));
        }
        let plan: Plan = match target.explain(&sql, req.analyze && read_only).await {
            Ok(plan) => plan,
            Err(e) => {
                metric.error = Some(e.detail());
                metrics.push(metric);
                continue;
            }
        };
        if read_only {
            match time_runs(target.as_ref(), &sql, req.runs).await {
                Ok(timing) => {
                    metric.execution_time_ms = timing.as_ref().map(|t| t.median_ms);
                    metric.timing = timing;
                }
                Err(e) => metric.error = Some(e.detail()),
            }
        }
        // Tables scanned in full whose size the catalog does not know (SQLite): count them.
        for node in plan.root.nodes() {
            let Some(table) = node.relation.as_deref().and_then(|r| schema.tables.get_mut(r)) else { continue };
            if node.access == crate::model::Access::FullScan && table.row_estimate.is_none() {
                let count = format!("SELECT count(*) AS n FROM {}", dialect.quote_ident(&table.name));
                table.row_estimate = target.query(&count, 1).await?.scalar_u64();
            }
        }
        let analysis = analyze::analyze(&sql, dialect, &plan, &schema, req.large_table_rows);
        for f in &analysis.findings {
            metric.findings.push(f.rule);
            findings.push(to_finding(hash, f));
        }
        for recommendation in &analysis.recommendations {
            let verification = match verify::verify(target.as_ref(), &sql, &plan, recommendation).await {
                Ok(Some(v)) => Ok(v),
                Err(e) => Err(e),
                Ok(None) if !req.sandbox_verification => {
                    Err(Error::Sandbox("not verified: sandbox verification is off and hypothetical indexes are unavailable".into()))
                }
                Ok(None) => {
                    if sandbox.is_none() {
                        sandbox = Some(target.open_sandbox(&sandbox_options).await);
                    }
                    match sandbox.as_mut().expect("set above") {
                        Ok(s) => verify_in_sandbox(s.as_mut(), &sql, recommendation).await,
                        // No sandbox (MySQL without a scratch database allowed): unverified.
                        Err(e) => Err(Error::Sandbox(e.detail())),
                    }
                }
            };
            let (entry, keep) = match verification {
                Ok(v) => (
                    json!({"table": recommendation.table, "columns": recommendation.columns, "create_index": recommendation.create_index, "reason": recommendation.reason, "verification": v}),
                    v.used,
                ),
                Err(e) => (
                    json!({"table": recommendation.table, "columns": recommendation.columns, "create_index": recommendation.create_index, "reason": recommendation.reason, "error": e.detail()}),
                    false,
                ),
            };
            metric.recommendations.push(entry);
            if keep {
                verified_count += 1;
                metric.recommendation.get_or_insert_with(|| recommendation.create_index.clone());
            }
        }
        metric.index_used = plan.root.uses_index();
        metric.plan = serde_json::to_value(&plan.root).unwrap_or_default();
        metrics.push(metric);
    }
    if let Some(Ok(s)) = sandbox {
        s.close().await?;
    }

    let (score, breakdown) = risk::score(&findings, &[]);
    let failed = findings.iter().any(|f| f.severity >= Severity::High);
    let summary = format!(
        "{} queries profiled ({} distinct): {} verified index recommendation(s), {} finding(s)",
        groups.values().map(|g| g.2).sum::<u64>(),
        order.len(),
        verified_count,
        findings.len()
    );
    Ok(TestRun {
        status: if failed { RunStatus::Failed } else { RunStatus::Passed },
        risk_score: score,
        risk_breakdown: breakdown,
        summary,
        findings,
        performance_metrics: metrics,
        ..TestRun::new(RunKind::Performance, req.environment, req.trigger_type, dialect, Some(url.redacted()))
    })
}
