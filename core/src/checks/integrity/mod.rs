//! Data integrity: do the rows obey the keys and constraints the schema declares,
//! and the user's rules? Everything runs as SQL in the database over a read-only session:
//! one aggregate scan per table answers every row-level check at once (NOT NULL, CHECK,
//! accepted values, ranges, regex, null fractions, row counts, freshness), and one
//! grouping or anti-join query per key check (primary key, unique, foreign key). Only counts
//! and bounded, masked samples cross the wire.

pub(crate) mod findings;
mod plan;
mod run;
mod schedule;
pub mod user_rules;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checks::schema::constraint_check::CheckBuilder;
use crate::config::Config;
use crate::driver;
use crate::error::{Error, Result};
use crate::findings::FindingId;
use crate::model::{Environment, Finding, IntegrityResult, IntegrityType, RunKind, RunStatus, Severity, Table, TestRun, TriggerType};
use crate::risk;
use crate::url::DatabaseUrl;
use plan::{plan_table, PlannedCheck};
use user_rules::UserRule;

/// Check the data of a database: the request behind `check_integrity` on every surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["database_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct IntegrityRequest {
    /// The database to check (read-only): `sqlite://PATH`, `postgres://...`, `mysql://...`.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Tables to check; empty means every table.
    pub tables: Vec<String>,
    /// User rules: a list of rule objects (`table`, `column`, `type` and its parameters), or
    /// the path of a rules TOML file.
    #[serde(deserialize_with = "user_rules::deserialize_rules")]
    #[schemars(with = "user_rules::RulesInput", extend("x-local-files" = true))]
    pub rules: Vec<UserRule>,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    /// Who asks for the run (recorded on it and as the actor of its `created` audit event;
    /// the REST service sets the authenticated caller). Whoever requested a run cannot decide it.
    pub requested_by: Option<String>,
    /// Store the run under this id (default: a new UUID; letters, digits, `-` and `_`, at most
    /// 64). A second run with an id already stored is refused, so a retried request stores
    /// its run once.
    pub run_id: Option<String>,
    /// Fail the run when the risk score is above this, 0-100 (overrides the config's).
    pub fail_above: Option<u32>,
    /// How long one check may run before it is reported as not run, in ms.
    #[serde(rename = "timeout_ms")]
    pub check_timeout_ms: u64,
    /// Queries run at once against the database, 1-16 (default: the cores of a server on this
    /// machine, else 4).
    pub jobs: Option<u32>,
    /// Hold a passing run for a human decision (approve, reject or escalate) instead of
    /// passing it.
    pub require_human_approval: bool,
    /// `dbconsultant.toml` inline, or its path.
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for IntegrityRequest {
    fn default() -> Self {
        IntegrityRequest {
            database_url: String::new(),
            database_password: None,
            tables: Vec::new(),
            rules: Vec::new(),
            environment: Environment::Qa,
            trigger_type: TriggerType::Manual,
            requested_by: None,
            run_id: None,
            fail_above: None,
            check_timeout_ms: 30_000,
            jobs: None,
            require_human_approval: false,
            config: Config::default(),
        }
    }
}

/// Progress callback: (tables done, tables in total, table being checked).
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &str) + Send + Sync);

type Row = serde_json::Map<String, serde_json::Value>;

/// What one check found: a failure count and samples, or why it could not run.
type Outcome = std::result::Result<(u64, Vec<Row>), String>;

pub async fn check(req: &IntegrityRequest, progress: Option<Progress<'_>>) -> Result<TestRun> {
    req.config.validate()?;
    if let Some(t) = req.fail_above.filter(|t| *t > 100) {
        return Err(Error::invalid(format!("fail-above must be between 0 and 100, got {t}")));
    }
    if let Some(j) = req.jobs.filter(|j| *j == 0 || *j as usize > driver::MAX_JOBS) {
        return Err(Error::invalid(format!("jobs must be between 1 and {}, got {j}", driver::MAX_JOBS)));
    }
    let url = DatabaseUrl::parse(&crate::driver::credentials::request_url(&req.database_url, &req.database_password)?)?;
    let dialect = url.dialect();
    let jobs = req.jobs.map(|j| j as usize).unwrap_or_else(|| driver::default_jobs(&url));
    let session = driver::SessionOptions { max_connections: jobs as u32, ..Default::default() };
    let target = driver::connect_with(&url, session).await?;
    let started = std::time::Instant::now();
    let schema = target.introspect().await?;
    tracing::info!(tables = schema.tables.len(), ms = started.elapsed().as_millis() as u64, "introspected");
    for name in &req.tables {
        if schema.table(name).is_none() {
            return Err(Error::invalid(format!(
                "unknown table '{name}' (the database has: {})",
                schema.tables.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for rule in &req.rules {
        rule.validate(&schema, dialect)?;
    }
    let selected: Vec<&Table> =
        schema.tables.values().filter(|t| req.tables.is_empty() || req.tables.iter().any(|n| n.eq_ignore_ascii_case(&t.name))).collect();
    let limit = req.config.sample_limit;
    let builder = CheckBuilder::new(dialect, limit, &schema);
    let masker = req.config.masker();
    let cx = run::Context {
        target: target.as_ref(),
        dialect,
        masker: &masker,
        limit,
        timeout: Duration::from_millis(req.check_timeout_ms.max(1)),
    };
    let plans: Vec<Vec<PlannedCheck>> = selected.iter().map(|t| plan_table(dialect, &builder, t, &schema, &req.rules)).collect();
    let outcomes = schedule::run_all(&cx, &selected, &plans, jobs, progress).await;

    let mut results = Vec::new();
    let mut findings = Vec::new();
    for ((table, plan), outcomes) in selected.iter().zip(plans).zip(outcomes) {
        if table.primary_key.is_empty() {
            findings.push(Finding::with_suggestion(
                FindingId::TableWithoutPrimaryKey,
                Severity::Low,
                format!("table {} has no primary key: duplicate rows cannot be found by key", table.name),
                "Add a primary key, or a unique rule over the columns that identify a row.",
            ));
        }
        for (check, outcome) in plan.into_iter().zip(outcomes) {
            record(check, outcome, &mut results, &mut findings);
        }
    }
    if let Some(p) = progress {
        p(selected.len(), selected.len(), "");
    }

    let (score, breakdown) = risk::score(&findings, &[]);
    let failed = results.iter().filter(|r: &&IntegrityResult| r.failure_count > 0).count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let fail_above = req.fail_above.or(req.config.fail_above);
    let status = if failed > 0 || fail_above.is_some_and(|t| score > t) {
        RunStatus::Failed
    } else if errors > 0 {
        RunStatus::Error
    } else if req.require_human_approval {
        RunStatus::PendingApproval
    } else {
        RunStatus::Passed
    };
    Ok(TestRun {
        status,
        risk_score: score,
        risk_breakdown: breakdown,
        summary: summarize(selected.len(), &results),
        fail_above,
        inputs: selected.iter().map(|t| t.name.clone()).collect(),
        findings,
        integrity_results: results,
        ..TestRun::new(RunKind::Integrity, req.environment, req.trigger_type, dialect, Some(url.redacted()))
    })
}

fn record(check: PlannedCheck, outcome: Outcome, results: &mut Vec<IntegrityResult>, findings: &mut Vec<Finding>) {
    let mut result = IntegrityResult {
        table_name: check.table.clone(),
        integrity_type: check.integrity_type,
        constraint: check.constraint.clone(),
        failure_count: 0,
        sample_records: Vec::new(),
        error: None,
    };
    match outcome {
        Ok((count, samples)) => {
            result.failure_count = count;
            result.sample_records = samples.clone();
            if count > 0 {
                let rule = match check.integrity_type {
                    IntegrityType::Pk => FindingId::IntegrityPk,
                    IntegrityType::Fk => FindingId::IntegrityFk,
                    IntegrityType::Unique => FindingId::IntegrityUnique,
                    IntegrityType::NotNull => FindingId::IntegrityNotNull,
                    IntegrityType::Check => FindingId::IntegrityCheck,
                    IntegrityType::Rule => FindingId::IntegrityRule,
                };
                let mut f = Finding::with_suggestion(
                    rule,
                    check.severity,
                    format!("{} {} on {}: {count} failing row(s)", label(check.integrity_type), check.constraint, check.table),
                    match check.integrity_type {
                        IntegrityType::Fk => {
                            "Delete or re-parent the orphans, then make the key enforced (VALIDATE CONSTRAINT / foreign_keys=ON)."
                        }
                        IntegrityType::Pk | IntegrityType::Unique => "Merge or remove the duplicates (see duplicate_group in the samples).",
                        _ => "Fix the offending rows, or the rule if the data is right.",
                    },
                );
                f.sample_records = samples;
                findings.push(f);
            }
        }
        Err(error) => {
            findings.push(Finding::with_suggestion(
                FindingId::IntegrityCheckError,
                Severity::Low,
                format!("could not run {} {} on {}: {error}", label(check.integrity_type), check.constraint, check.table),
                "Raise the check timeout, or run this check off-peak.",
            ));
            result.error = Some(error);
        }
    }
    results.push(result);
}

fn label(t: IntegrityType) -> &'static str {
    match t {
        IntegrityType::Pk => "primary key",
        IntegrityType::Fk => "foreign key",
        IntegrityType::Unique => "unique",
        IntegrityType::NotNull => "NOT NULL",
        IntegrityType::Check => "check",
        IntegrityType::Rule => "rule",
    }
}

fn summarize(tables: usize, results: &[IntegrityResult]) -> String {
    let failed: Vec<&IntegrityResult> = results.iter().filter(|r| r.failure_count > 0).collect();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let error_text = if errors > 0 { format!("; {} could not run", plural(errors, "check")) } else { String::new() };
    if failed.is_empty() {
        return format!(
            "Integrity check of {}: all {} passed{error_text}.",
            plural(tables, "table"),
            plural(results.len() - errors, "check")
        );
    }
    let worst: Vec<String> =
        failed.iter().take(3).map(|r| format!("{} {} {}: {}", r.table_name, r.integrity_type, r.constraint, r.failure_count)).collect();
    let more = if failed.len() > 3 { format!(", and {} more", failed.len() - 3) } else { String::new() };
    format!(
        "Integrity check of {}: {} of {} failed ({}{more}){error_text}.",
        plural(tables, "table"),
        failed.len(),
        plural(results.len(), "check"),
        worst.join("; ")
    )
}
