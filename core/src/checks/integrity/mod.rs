//! Data integrity: do the rows obey the keys and constraints the schema declares,
//! and the user's rules? Everything runs as SQL in the database over a read-only session:
//! one aggregate scan per table answers every row-level check at once (NOT NULL, CHECK,
//! accepted values, ranges, regex, null fractions, row counts, freshness), and one
//! grouping or anti-join query per key check (primary key, unique, foreign key). Only counts
//! and bounded, masked samples cross the wire.

pub(crate) mod findings;
pub mod user_rules;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checks::schema::constraint_check::{CheckBuilder, ConstraintCheck, Querier};
use crate::config::Config;
use crate::dialect::Dialect;
use crate::driver::{self, Driver};
use crate::error::{Error, Result};
use crate::findings::FindingId;
use crate::masking::Masker;
use crate::model::{
    Environment, Finding, IntegrityResult, IntegrityType, RunKind, RunStatus, SchemaSnapshot, Severity, Table, TestRun, TriggerType,
};
use crate::risk;
use crate::url::DatabaseUrl;
use user_rules::{parse_age, Bound, RuleCheck, UserRule};

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
    /// Fail the run when the risk score is above this, 0-100 (overrides the config's).
    pub fail_above: Option<u32>,
    /// How long one check may run before it is reported as not run, in ms.
    #[serde(rename = "timeout_ms")]
    pub check_timeout_ms: u64,
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
            fail_above: None,
            check_timeout_ms: 30_000,
            require_human_approval: false,
            config: Config::default(),
        }
    }
}

/// Progress callback: (tables done, tables in total, table being checked).
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &str) + Send + Sync);

/// How a check is answered.
enum Probe {
    /// A counter in the table's aggregate scan.
    Scan(ScanKind),
    /// Its own grouping / anti-join query.
    Query(ConstraintCheck),
}

enum ScanKind {
    /// Rows for which the condition holds are failures.
    Rows(String),
    /// NULLs are fine up to a fraction of the rows.
    NullFraction {
        column: String,
        max: f64,
    },
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    Freshness {
        column: String,
        max_age: i64,
        max_age_text: String,
    },
}

struct PlannedCheck {
    table: String,
    integrity_type: IntegrityType,
    constraint: String,
    severity: Severity,
    probe: Probe,
}

type Row = serde_json::Map<String, serde_json::Value>;

/// What one check found: a failure count and samples, or why it could not run.
type Outcome = std::result::Result<(u64, Vec<Row>), String>;

pub async fn check(req: &IntegrityRequest, progress: Option<Progress<'_>>) -> Result<TestRun> {
    req.config.validate()?;
    if let Some(t) = req.fail_above.filter(|t| *t > 100) {
        return Err(Error::invalid(format!("fail-above must be between 0 and 100, got {t}")));
    }
    let url = DatabaseUrl::parse(&crate::driver::credentials::request_url(&req.database_url, &req.database_password)?)?;
    let dialect = url.dialect();
    let target = driver::connect(&url).await?;
    let schema = target.introspect().await?;
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
    let timeout = Duration::from_millis(req.check_timeout_ms.max(1));

    let mut results = Vec::new();
    let mut findings = Vec::new();
    for (i, table) in selected.iter().enumerate() {
        if let Some(p) = progress {
            p(i, selected.len(), &table.name);
        }
        if table.primary_key.is_empty() {
            findings.push(Finding::with_suggestion(
                FindingId::TableWithoutPrimaryKey,
                Severity::Low,
                format!("table {} has no primary key: duplicate rows cannot be found by key", table.name),
                "Add a primary key, or a unique rule over the columns that identify a row.",
            ));
        }
        let plan = plan_table(dialect, &builder, table, &schema, &req.rules);
        let outcomes = run_table(target.as_ref(), dialect, table, &plan, &masker, limit, timeout).await;
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

/// Every check of one table, in a fixed order: keys, NOT NULL, CHECK, unique, foreign keys,
/// then the user's rules in file order.
fn plan_table(d: Dialect, b: &CheckBuilder<'_>, t: &Table, schema: &SchemaSnapshot, rules: &[UserRule]) -> Vec<PlannedCheck> {
    let q = |c: &str| d.quote_ident(c);
    let mut plan = Vec::new();
    let mut push = |integrity_type, constraint: String, severity, probe| {
        plan.push(PlannedCheck { table: t.name.clone(), integrity_type, constraint, severity, probe })
    };
    if !t.primary_key.is_empty() {
        let pk = format!("primary key ({})", t.primary_key.join(", "));
        let nulls = t.primary_key.iter().map(|c| format!("{} IS NULL", q(c))).collect::<Vec<_>>().join(" OR ");
        push(IntegrityType::Pk, format!("{pk} not null"), Severity::Critical, Probe::Scan(ScanKind::Rows(nulls)));
        push(
            IntegrityType::Pk,
            pk.clone(),
            Severity::Critical,
            Probe::Query(b.unique(&t.name, &t.primary_key, None, IntegrityType::Pk, pk)),
        );
    }
    for col in t.columns.iter().filter(|c| !c.nullable && !t.primary_key.contains(&c.name)) {
        push(
            IntegrityType::NotNull,
            format!("{} NOT NULL", col.name),
            Severity::High,
            Probe::Scan(ScanKind::Rows(format!("{} IS NULL", q(&col.name)))),
        );
    }
    for ck in &t.check_constraints {
        let name = ck.name.clone().unwrap_or_else(|| format!("check ({})", ck.expression));
        push(IntegrityType::Check, name, Severity::High, Probe::Scan(ScanKind::Rows(format!("NOT ({})", ck.expression))));
    }
    let mut unique_sets: Vec<&Vec<String>> = Vec::new();
    for (name, cols, predicate) in t
        .unique_constraints
        .iter()
        .map(|u| (u.name.clone().unwrap_or_else(|| format!("unique ({})", u.columns.join(", "))), &u.columns, None))
        .chain(t.indexes.iter().filter(|i| i.unique).map(|i| (i.name.clone(), &i.columns, i.predicate.clone())))
    {
        // A unique constraint and its backing index are one check; expression keys cannot
        // be grouped by name.
        if *cols == t.primary_key || unique_sets.contains(&cols) || cols.iter().any(|c| c.contains('(') || c == "<expression>") {
            continue;
        }
        unique_sets.push(cols);
        push(
            IntegrityType::Unique,
            name.clone(),
            Severity::High,
            Probe::Query(b.unique(&t.name, cols, predicate.as_deref(), IntegrityType::Unique, name)),
        );
    }
    for fk in &t.foreign_keys {
        let parent_cols: Vec<String> = if fk.referenced_columns.iter().all(|c| c.is_empty()) {
            schema.table(&fk.referenced_table).map(|p| p.primary_key.clone()).unwrap_or_default()
        } else if schema.table(&fk.referenced_table).is_some() {
            fk.referenced_columns.clone()
        } else {
            Vec::new()
        };
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| format!("({}) -> {}({})", fk.columns.join(", "), fk.referenced_table, parent_cols.join(", ")));
        let check = b.foreign_key(&t.name, &fk.columns, &fk.referenced_table, &parent_cols, name.clone());
        push(IntegrityType::Fk, name, Severity::High, Probe::Query(check));
    }
    for rule in rules.iter().filter(|r| r.table.eq_ignore_ascii_case(&t.name)) {
        let name = rule.display_name();
        let severity = rule.severity.unwrap_or(Severity::Medium);
        let column = rule.column.as_deref().map(&q).unwrap_or_default();
        let probe = match &rule.check {
            RuleCheck::AcceptedValues { values } => {
                let list = values
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => d.string_literal(s),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND {column} NOT IN ({list})")))
            }
            RuleCheck::Range { min, max } => {
                let bound = |b: &Bound| match b {
                    Bound::Number(n) => n.to_string(),
                    Bound::Text(s) => d.string_literal(s),
                };
                let mut outside = Vec::new();
                if let Some(m) = min {
                    outside.push(format!("{column} < {}", bound(m)));
                }
                if let Some(m) = max {
                    outside.push(format!("{column} > {}", bound(m)));
                }
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND ({})", outside.join(" OR "))))
            }
            RuleCheck::Regex { pattern } => {
                Probe::Scan(ScanKind::Rows(format!("{column} IS NOT NULL AND NOT ({})", d.regex_match(&column, pattern))))
            }
            RuleCheck::MaxNullFraction { max } => Probe::Scan(ScanKind::NullFraction { column: column.clone(), max: *max }),
            RuleCheck::RowCount { min, max } => Probe::Scan(ScanKind::RowCount { min: *min, max: *max }),
            RuleCheck::Freshness { max_age } => Probe::Scan(ScanKind::Freshness {
                column: column.clone(),
                max_age: parse_age(max_age).unwrap_or(0),
                max_age_text: max_age.clone(),
            }),
            RuleCheck::Unique => Probe::Query(b.unique(&t.name, &rule.target_columns(), None, IntegrityType::Rule, name.clone())),
            RuleCheck::ImpliedFk { references, referenced_columns } => {
                Probe::Query(b.foreign_key(&t.name, &rule.target_columns(), references, referenced_columns, name.clone()))
            }
        };
        let integrity_type = match rule.check {
            RuleCheck::ImpliedFk { .. } => IntegrityType::Fk,
            _ => IntegrityType::Rule,
        };
        push(integrity_type, name, severity, probe);
    }
    plan
}

/// The aggregate expression a scan check contributes, if any.
fn scan_expression(kind: &ScanKind, alias: &str) -> Option<String> {
    match kind {
        ScanKind::Rows(cond) => Some(format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS {alias}")),
        ScanKind::NullFraction { column, .. } => Some(format!("COALESCE(SUM(CASE WHEN {column} IS NULL THEN 1 ELSE 0 END), 0) AS {alias}")),
        ScanKind::Freshness { column, .. } => Some(format!("MAX({column}) AS {alias}")),
        ScanKind::RowCount { .. } => None,
    }
}

fn as_u64(v: Option<&serde_json::Value>) -> u64 {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)).unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().map(|f| f as u64).unwrap_or(0),
        _ => 0,
    }
}

async fn run_table(
    target: &dyn Driver,
    d: Dialect,
    t: &Table,
    plan: &[PlannedCheck],
    masker: &Masker,
    limit: usize,
    timeout: Duration,
) -> Vec<Outcome> {
    let table = d.quote_ident(&t.name);
    let mut q = Querier::Target(target, timeout);
    let mut outcomes: Vec<Option<Outcome>> = plan.iter().map(|_| None).collect();

    // One scan answers every scan check; if it fails (a timeout, one bad expression), each
    // check is retried alone so the others still get an answer.
    let scans: Vec<(usize, &ScanKind)> = plan
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match &c.probe {
            Probe::Scan(k) => Some((i, k)),
            Probe::Query(_) => None,
        })
        .collect();
    if !scans.is_empty() {
        let exprs: Vec<String> = scans.iter().filter_map(|(i, k)| scan_expression(k, &format!("c{i}"))).collect();
        let all = format!("SELECT COUNT(*) AS total{} FROM {table}", exprs.iter().map(|e| format!(", {e}")).collect::<String>());
        let aggregates: Vec<(usize, std::result::Result<Row, String>)> = match q.query(&all, 1).await {
            Ok(r) => {
                let row = r.rows.into_iter().next().unwrap_or_default();
                scans.iter().map(|(i, _)| (*i, Ok(row.clone()))).collect()
            }
            Err(_) => {
                let mut each = Vec::new();
                for (i, k) in &scans {
                    let expr = scan_expression(k, &format!("c{i}")).map(|e| format!(", {e}")).unwrap_or_default();
                    let one = format!("SELECT COUNT(*) AS total{expr} FROM {table}");
                    each.push((*i, q.query(&one, 1).await.map(|r| r.rows.into_iter().next().unwrap_or_default())));
                }
                each
            }
        };
        for (i, aggregate) in aggregates {
            let Probe::Scan(kind) = &plan[i].probe else { continue };
            let outcome = match aggregate {
                Err(e) => Err(e),
                Ok(row) => scan_outcome(&mut q, d, t, &table, kind, &row, &format!("c{i}"), masker, limit).await,
            };
            outcomes[i] = Some(outcome);
        }
    }
    for (i, check) in plan.iter().enumerate() {
        if let Probe::Query(query) = &check.probe {
            outcomes[i] = Some(query.run(&mut q, masker).await);
        }
    }
    outcomes.into_iter().map(|o| o.unwrap_or_else(|| Err("not run".into()))).collect()
}

#[allow(clippy::too_many_arguments)]
async fn scan_outcome(
    q: &mut Querier<'_>,
    d: Dialect,
    t: &Table,
    table: &str,
    kind: &ScanKind,
    row: &Row,
    alias: &str,
    masker: &Masker,
    limit: usize,
) -> Outcome {
    let total = as_u64(row.get("total"));
    let summary =
        |pairs: Vec<(&str, serde_json::Value)>| -> Vec<Row> { vec![pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()] };
    match kind {
        ScanKind::Rows(cond) => {
            let count = as_u64(row.get(alias));
            if count == 0 {
                return Ok((0, Vec::new()));
            }
            let order = t.columns.iter().map(|c| d.quote_ident(&c.name)).collect::<Vec<_>>().join(", ");
            let sample = format!("SELECT * FROM {table} WHERE {cond} ORDER BY {order} LIMIT {limit}");
            let rows = q.query(&sample, limit).await.map(|r| r.rows).unwrap_or_default();
            Ok((count, rows.into_iter().map(|r| masker.mask_row(r)).collect()))
        }
        ScanKind::NullFraction { max, .. } => {
            let nulls = as_u64(row.get(alias));
            let fraction = if total == 0 { 0.0 } else { nulls as f64 / total as f64 };
            if fraction > *max {
                Ok((
                    nulls,
                    summary(vec![
                        ("null_rows", nulls.into()),
                        ("total_rows", total.into()),
                        ("null_fraction", fraction.into()),
                        ("max_null_fraction", (*max).into()),
                    ]),
                ))
            } else {
                Ok((0, Vec::new()))
            }
        }
        ScanKind::RowCount { min, max } => {
            let outside = min.is_some_and(|m| total < m) || max.is_some_and(|m| total > m);
            if outside {
                Ok((1, summary(vec![("row_count", total.into()), ("min", (*min).into()), ("max", (*max).into())])))
            } else {
                Ok((0, Vec::new()))
            }
        }
        ScanKind::Freshness { max_age, max_age_text, .. } => {
            let newest = row.get(alias).cloned().unwrap_or(serde_json::Value::Null);
            let parsed = newest.as_str().and_then(parse_timestamp);
            match (&newest, parsed) {
                (serde_json::Value::Null, _) => Ok((
                    1,
                    summary(vec![
                        ("newest", newest.clone()),
                        ("max_age", max_age_text.clone().into()),
                        ("reason", "no rows with a timestamp".into()),
                    ]),
                )),
                (_, None) => Err(format!("cannot read the newest value {newest} as a timestamp")),
                (_, Some(ts)) => {
                    let age = (chrono::Utc::now() - ts).num_seconds();
                    if age > *max_age {
                        Ok((
                            1,
                            summary(vec![
                                ("newest", newest.clone()),
                                ("age_seconds", age.into()),
                                ("max_age", max_age_text.clone().into()),
                            ]),
                        ))
                    } else {
                        Ok((0, Vec::new()))
                    }
                }
            }
        }
    }
}

/// Timestamps as the three databases print them: RFC 3339, or naive (taken as UTC).
fn parse_timestamp(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = text.trim();
    if let Ok(ts) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(ts.with_timezone(&chrono::Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%#z"] {
        if let Ok(ts) = chrono::DateTime::parse_from_str(t, format) {
            return Some(ts.with_timezone(&chrono::Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(ts) = chrono::NaiveDateTime::parse_from_str(t, format) {
            return Some(ts.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|ts| ts.and_utc())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn reads_every_dialects_timestamps() {
        for text in [
            "2025-05-01T10:00:00+00:00",
            "2025-05-01 10:00:00",
            "2025-05-01 10:00:00.123",
            "2025-05-01T10:00:00.5+00:00",
            "2025-05-01 10:00:00+00",
            "2025-05-01",
        ] {
            assert!(parse_timestamp(text).is_some(), "{text}");
        }
        assert!(parse_timestamp("yesterday").is_none());
    }
}
