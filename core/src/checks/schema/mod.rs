//! Schema validation: static rules, sandbox execution, diff, new-constraint
//! verification, risk and summary.

pub mod constraint_check;
pub mod diff;
pub mod estimate;
pub(crate) mod findings;
pub mod full_data;
pub mod ignores;
pub mod observe;
pub mod summary;
pub mod verify;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::dialect::Dialect;
use crate::driver::{self, Sandbox};
use crate::error::{Error, Result};
use crate::findings::FindingId;
use crate::masking::Masker;
use crate::migrations::history::{self, MigrationPlan};
use crate::migrations::{Layout, Migration, MigrationSet};
use crate::model::{Environment, Finding, RunKind, RunStatus, SchemaSnapshot, Severity, TestRun, TriggerType};
use crate::risk;
use crate::rules;
use crate::sql::{parse_script, Grammar, MigrationSource, Script};
use crate::url::DatabaseUrl;

/// Validate a migration against a database: the request behind `validate_schema` on every
/// surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["database_url"]))]
#[serde(default, deny_unknown_fields)]
pub struct SchemaValidationRequest {
    /// The target database: `sqlite://PATH`, `postgres://...`, `mysql://...`. It is only read;
    /// the migration runs in a sandbox.
    pub database_url: String,
    /// The password of the URL's user, when the URL holds none (else PostgreSQL's
    /// `PGPASSWORD` / `~/.pgpass`, MySQL's option files / `MYSQL_PWD` are used). Never stored
    /// or echoed.
    #[serde(skip_serializing)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "format" = "password"))]
    pub database_password: Option<crate::driver::credentials::Password>,
    /// Migration files, or directories of `*.sql` files, applied in order (read where the
    /// library runs).
    #[serde(deserialize_with = "crate::inputs::one_or_many")]
    #[schemars(with = "crate::inputs::OneOrMany", extend("x-local-files" = true))]
    pub migration_script: Vec<std::path::PathBuf>,
    /// A migration given as SQL text (applied after `migration_script`).
    pub migration_sql: Option<String>,
    /// The name reports give `migration_sql` (default `<inline>`).
    pub migration_name: Option<String>,
    /// Migrations given as named texts, applied first.
    pub migrations: Vec<MigrationSource>,
    /// The migration tool whose layout the directories follow (default: detected from the
    /// files): flyway, golang-migrate, sqlx, diesel, prisma, dbmate, goose or plain.
    pub layout: Option<Layout>,
    /// Validate only the migrations the tool's history table on the target does not list as
    /// applied (default: when the target has such a table; `false` validates every migration,
    /// `true` requires the table).
    pub pending: Option<bool>,
    pub environment: Environment,
    pub trigger_type: TriggerType,
    /// Who asks for the run (recorded on it and as the actor of its `created` audit event;
    /// the REST service sets the authenticated caller). Whoever requested a run cannot decide it.
    pub requested_by: Option<String>,
    /// Store the run under this id (default: a new UUID; letters, digits, `-` and `_`, at most
    /// 64). A second run with an id already stored is refused, so a retried request stores
    /// its run once.
    pub run_id: Option<String>,
    /// Hold the run for a human decision instead of passing it.
    pub require_human_approval: bool,
    /// Fail the run when the risk score is above this, 0-100 (overrides the config's).
    pub fail_above: Option<u32>,
    /// Must match the URL's dialect when given.
    pub dialect: Option<Dialect>,
    /// Where to run the migration instead of the target's server: a shadow database
    /// (PostgreSQL) or a server for the scratch database (MySQL); overrides the config's
    /// `[sandbox] sandbox_url`.
    pub sandbox_url: Option<String>,
    /// `dbconsultant.toml` inline, or its path.
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for SchemaValidationRequest {
    fn default() -> Self {
        SchemaValidationRequest {
            database_url: String::new(),
            database_password: None,
            migration_script: Vec::new(),
            migration_sql: None,
            migration_name: None,
            migrations: Vec::new(),
            layout: None,
            pending: None,
            environment: Environment::Qa,
            trigger_type: TriggerType::Migration,
            requested_by: None,
            run_id: None,
            require_human_approval: false,
            fail_above: None,
            dialect: None,
            sandbox_url: None,
            config: Config::default(),
        }
    }
}

impl SchemaValidationRequest {
    /// Every migration, read: `migrations`, then `migration_script` in its tool's layout,
    /// then `migration_sql`.
    pub fn inputs(&self) -> Result<Inputs> {
        Inputs::read(&self.migrations, &self.migration_script, self.layout, self.migration_sql.as_deref(), self.migration_name.as_deref())
    }
}

/// Lint a migration without a database: static rules only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LintRequest {
    /// Migration files, or directories of `*.sql` files, linted in order.
    #[serde(deserialize_with = "crate::inputs::one_or_many")]
    #[schemars(with = "crate::inputs::OneOrMany", extend("x-local-files" = true))]
    pub migration_script: Vec<std::path::PathBuf>,
    /// A migration given as SQL text.
    pub migration_sql: Option<String>,
    /// The name reports give `migration_sql` (default `<inline>`).
    pub migration_name: Option<String>,
    /// Migrations given as named texts, linted first.
    pub migrations: Vec<MigrationSource>,
    /// The migration tool whose layout the directories follow (default: detected from the
    /// files).
    pub layout: Option<Layout>,
    /// The SQL dialect the migration is written in.
    pub dialect: Dialect,
    /// Fail the run when the risk score is above this, 0-100 (overrides the config's).
    pub fail_above: Option<u32>,
    /// `dbconsultant.toml` inline, or its path.
    #[serde(deserialize_with = "crate::inputs::config")]
    #[schemars(with = "crate::inputs::ConfigInput", extend("x-local-files" = true))]
    pub config: Config,
}

impl Default for LintRequest {
    fn default() -> Self {
        LintRequest {
            migration_script: Vec::new(),
            migration_sql: None,
            migration_name: None,
            migrations: Vec::new(),
            layout: None,
            dialect: Dialect::Postgres,
            fail_above: None,
            config: Config::default(),
        }
    }
}

impl LintRequest {
    /// Every migration, read: `migrations`, then `migration_script` in its tool's layout,
    /// then `migration_sql`.
    pub fn inputs(&self) -> Result<Inputs> {
        Inputs::read(&self.migrations, &self.migration_script, self.layout, self.migration_sql.as_deref(), self.migration_name.as_deref())
    }
}

/// A request's migrations: files and directories in their tool's layout, and inline texts.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub before: Vec<MigrationSource>,
    pub set: MigrationSet,
    pub after: Option<MigrationSource>,
}

impl Inputs {
    fn read(
        migrations: &[MigrationSource],
        paths: &[std::path::PathBuf],
        layout: Option<Layout>,
        sql: Option<&str>,
        name: Option<&str>,
    ) -> Result<Inputs> {
        let set = crate::migrations::read(paths, layout)?;
        let after = sql.map(|sql| MigrationSource::named(name.unwrap_or("<inline>"), sql));
        if migrations.is_empty() && set.migrations.is_empty() && set.ignored.is_empty() && after.is_none() {
            return Err(Error::invalid("no migration given: give migration_script (files or directories), migration_sql or migrations"));
        }
        Ok(Inputs { before: migrations.to_vec(), set, after })
    }

    /// The texts to validate, in order, with the migrations of the set given.
    fn sources(&self, files: &[Migration]) -> Vec<MigrationSource> {
        self.before.iter().cloned().chain(files.iter().map(Migration::source)).chain(self.after.clone()).collect()
    }

    fn plan(&self, layout: Layout, history: Option<&str>, applied: Vec<String>, pending: &[Migration]) -> MigrationPlan {
        MigrationPlan {
            layout: layout.to_string(),
            detected: self.set.detected,
            history_table: history.map(String::from),
            applied,
            pending: pending.iter().map(|m| m.name.clone()).collect(),
            ignored: self.set.ignored.clone(),
        }
    }
}

/// Parse every input; an empty or comment-only one is noted, not refused.
fn parse_inputs(migrations: &[MigrationSource], dialect: Dialect) -> (Script, Vec<Finding>) {
    let script = parse_script(migrations, dialect);
    let with_statements: std::collections::HashSet<&str> = script.statements.iter().map(|s| s.file.as_str()).collect();
    let empty = migrations
        .iter()
        .filter(|m| !with_statements.contains(m.name.as_str()))
        .map(|m| {
            let mut f = Finding::with_suggestion(
                FindingId::EmptyMigration,
                Severity::Info,
                format!("migration {} holds no SQL statement (empty or comments only)", m.name),
                "Nothing to change.",
            );
            f.file = Some(m.name.clone());
            f
        })
        .collect();
    (script, empty)
}

fn check_threshold(fail_above: Option<u32>) -> Result<()> {
    match fail_above {
        Some(t) if t > 100 => Err(Error::invalid(format!("fail-above must be between 0 and 100, got {t}"))),
        _ => Ok(()),
    }
}

pub fn lint(req: &LintRequest) -> Result<TestRun> {
    req.config.validate()?;
    check_threshold(req.fail_above)?;
    let inputs = req.inputs()?;
    let migrations = inputs.sources(&inputs.set.migrations);
    let (script, mut findings) = parse_inputs(&migrations, req.dialect);
    findings.extend(rules::lint(&script, req.dialect, &req.config.rule_config(), None));
    ignores::apply(&migrations, &script, &mut findings);
    let fail_above = req.fail_above.or(req.config.fail_above);
    let mut run = new_run(Environment::Dev, TriggerType::Pr, req.dialect, None, fail_above, &migrations);
    run.migration_plan = Some(inputs.plan(inputs.set.layout, None, Vec::new(), &inputs.set.migrations));
    finish(&mut run, findings, Vec::new(), None, false);
    Ok(run)
}

pub async fn validate(req: &SchemaValidationRequest) -> Result<TestRun> {
    req.config.validate()?;
    check_threshold(req.fail_above)?;
    let url = DatabaseUrl::parse(&crate::driver::credentials::request_url(&req.database_url, &req.database_password)?)?;
    let dialect = url.dialect();
    if let Some(d) = req.dialect {
        if d != dialect {
            return Err(Error::invalid(format!("dialect {d} does not match the database URL ({dialect})")));
        }
    }
    let inputs = req.inputs()?;
    let mut sandbox_options = req.config.sandbox.clone();
    if req.sandbox_url.is_some() {
        sandbox_options.sandbox_url = req.sandbox_url.clone();
    }
    // Checks of the target's full data are bounded on the server too, not only here.
    let session = driver::SessionOptions { statement_timeout_ms: sandbox_options.full_data_timeout_ms, ..Default::default() };
    let target = driver::connect_with(&url, session).await?;
    let started = std::time::Instant::now();
    let target_schema = target.introspect().await?;
    tracing::info!(tables = target_schema.tables.len(), ms = started.elapsed().as_millis() as u64, "target introspected");
    // Only what the migration tool has not applied yet, when it keeps a history on the target.
    let layout = history::refine(inputs.set.layout, &target_schema);
    let found = match req.pending {
        Some(false) => None,
        _ => history::read(target.as_ref(), &target_schema, layout).await?,
    };
    if req.pending == Some(true) && found.is_none() {
        let table = history::table_of(layout).map(|t| format!(" ({t})")).unwrap_or_default();
        return Err(Error::invalid(format!("pending migrations requested, but the target has no {layout} history table{table}")));
    }
    let (files, applied, mut findings) = match &found {
        Some(h) => {
            let p = history::pending(&inputs.set, h);
            (p.pending, p.applied, p.findings)
        }
        None => (inputs.set.migrations.clone(), Vec::new(), Vec::new()),
    };
    let plan = inputs.plan(found.as_ref().map(|h| h.layout).unwrap_or(layout), found.as_ref().map(|h| h.table.as_str()), applied, &files);
    let migrations = inputs.sources(&files);
    let (script, empty) = parse_inputs(&migrations, dialect);
    findings.extend(empty);
    findings.extend(rules::lint(&script, dialect, &req.config.rule_config(), Some(&target_schema)));

    let started = std::time::Instant::now();
    sandbox_options.focus = crate::sql::mentions::mentioned_names(&migrations.iter().map(|m| m.sql.as_str()).collect::<Vec<_>>());
    sandbox_options.known = Some(std::sync::Arc::new(crate::driver::KnownCatalog::of(&target_schema)));
    let mut sandbox = target.open_sandbox(&sandbox_options).await?;
    let sandbox_description = sandbox.description();
    tracing::info!(sandbox = %sandbox_description, ms = started.elapsed().as_millis() as u64, "sandbox open");
    let masker = req.config.masker();
    // Whatever happens inside, the sandbox is closed (rolled back / deleted / dropped).
    let target_data = verify::TargetData {
        driver: target.as_ref(),
        schema: &target_schema,
        changed: full_data::changed_tables(&script),
        timeout: std::time::Duration::from_millis(sandbox_options.full_data_timeout_ms),
    };
    let notes = sandbox_findings(sandbox.as_ref());
    let outcome = run_in_sandbox(sandbox.as_mut(), &script, &target_data, &masker, req.config.sample_limit).await;
    let started = std::time::Instant::now();
    let closed = sandbox.close().await;
    tracing::info!(ms = started.elapsed().as_millis() as u64, "sandbox closed");
    let outcome = outcome?;
    closed?;

    // A statement the static parser could not read but the database ran is not an error.
    for f in findings.iter_mut().filter(|f| f.rule == FindingId::SyntaxError) {
        if f.statement.is_some_and(|i| outcome.executed.contains(&i)) {
            f.severity = Severity::Info;
            f.message = format!("{} (the database accepted it in the sandbox; static rules skipped it)", f.message);
        }
    }
    let changes = diff::diff(&outcome.before, &outcome.after);
    findings.extend(notes);
    findings.extend(outcome.observations);
    findings.extend(outcome.failure.clone());
    findings.extend(outcome.verification.findings);
    ignores::apply(&migrations, &script, &mut findings);
    let fail_above = req.fail_above.or(req.config.fail_above);
    let mut run = new_run(req.environment, req.trigger_type, dialect, Some(url.redacted()), fail_above, &migrations);
    run.migration_plan = Some(plan);
    run.integrity_results = outcome.verification.integrity_results;
    run.sandbox = Some(sandbox_description);
    finish(&mut run, findings, changes, outcome.failure.as_ref(), req.require_human_approval);
    Ok(run)
}

struct SandboxOutcome {
    before: SchemaSnapshot,
    after: SchemaSnapshot,
    /// Statements the sandbox ran (by index).
    executed: Vec<usize>,
    /// The statement that failed, as a critical finding with the rows that make it fail.
    failure: Option<Finding>,
    /// Locks, rewrites, algorithms and notes, per statement.
    observations: Vec<Finding>,
    verification: verify::Verification,
}

/// How the sandbox was built, when the report must say it: the migration ran on the target
/// itself, objects could not be recreated, rows were not copied.
fn sandbox_findings(sandbox: &dyn Sandbox) -> Vec<Finding> {
    let mut out: Vec<Finding> = sandbox
        .notes()
        .into_iter()
        .map(|note| {
            Finding::with_suggestion(FindingId::SandboxNote, Severity::Info, note, "Nothing to do unless a statement depends on it.")
        })
        .collect();
    if sandbox.on_target() {
        out.push(Finding::with_suggestion(
            FindingId::SandboxOnTarget,
            Severity::Medium,
            format!("the migration was validated on the target itself ({}): its locks were taken there, each bounded by a short lock_timeout", sandbox.description()),
            "Give a shadow server (--sandbox-url) or install the PostgreSQL server binaries of the target's version, so the migration runs on a copy.",
        ));
    }
    out
}

async fn run_in_sandbox(
    sandbox: &mut dyn Sandbox,
    script: &Script,
    target: &verify::TargetData<'_>,
    masker: &Masker,
    limit: usize,
) -> Result<SandboxOutcome> {
    let started = std::time::Instant::now();
    let before = sandbox.introspect().await?;
    tracing::info!(ms = started.elapsed().as_millis() as u64, tables = before.tables.len(), "sandbox introspected before");
    let started = std::time::Instant::now();
    let mut executed = Vec::new();
    let mut observations = Vec::new();
    let mut failure = None;
    for stmt in &script.statements {
        match sandbox.execute(stmt).await {
            Ok(execution) => {
                if execution.skipped.is_none() && !execution.timed_out {
                    executed.push(stmt.index);
                }
                observations.extend(observe::findings_for(stmt, &execution, target.schema));
            }
            Err(error) if error.sandbox_fault => {
                let log = sandbox.server_last_words().map(|line| format!(" (its server's log: {line})")).unwrap_or_default();
                return Err(Error::Sandbox(format!(
                    "the sandbox failed while running statement {} ({}:{}), so the migration was not judged: {}{log}. A throwaway server lives under TMPDIR: give it more room, or a --sandbox-url",
                    stmt.index, stmt.file, stmt.line, error.message
                )));
            }
            Err(error) => {
                let samples = if error.on_existing_data {
                    verify::sample_statement_failure(sandbox, error.violation.as_ref(), stmt.statement(), &before, masker, limit).await
                } else {
                    Vec::new()
                };
                let on_data = if error.on_existing_data { " against the existing data" } else { "" };
                // Where no grammar of the database was at hand (MySQL, MariaDB), the server's
                // refusal is the syntax verdict; elsewhere the grammar has already said so.
                let server_grammar = error.syntax && stmt.grammar == Grammar::NotChecked;
                failure = Some(Finding {
                    rule: if server_grammar { FindingId::SyntaxError } else { FindingId::MigrationFails },
                    severity: Severity::Critical,
                    message: match server_grammar {
                        true => format!("statement {}: the server refuses its syntax: {}", stmt.index, error.message),
                        false => format!("statement {} fails{on_data}: {}", stmt.index, error.message),
                    },
                    statement: Some(stmt.index),
                    line: Some(stmt.line),
                    column: Some(stmt.column),
                    suggestion: Some(if error.on_existing_data {
                        "Fix the offending rows first (see sample records), or change the constraint.".into()
                    } else {
                        "Fix the statement; it would abort the migration in production.".into()
                    }),
                    file: Some(stmt.file.clone()),
                    sample_records: samples,
                    suppressed: None,
                });
                break; // the real migration would stop here too
            }
        }
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, statements = script.statements.len(), "migration ran in the sandbox");
    let started = std::time::Instant::now();
    let after = sandbox.introspect().await?;
    tracing::info!(ms = started.elapsed().as_millis() as u64, "sandbox introspected after");
    let started = std::time::Instant::now();
    let verification = verify::verify_new_constraints(sandbox, Some(target), &before, &after, masker, limit).await;
    tracing::info!(ms = started.elapsed().as_millis() as u64, "new constraints verified");
    Ok(SandboxOutcome { before, after, executed, failure, observations, verification })
}

fn new_run(
    environment: Environment,
    trigger_type: TriggerType,
    dialect: Dialect,
    target: Option<String>,
    fail_above: Option<u32>,
    inputs: &[MigrationSource],
) -> TestRun {
    TestRun {
        fail_above,
        inputs: inputs.iter().map(|m| m.name.clone()).collect(),
        ..TestRun::new(RunKind::Schema, environment, trigger_type, dialect, target)
    }
}

/// Score, summarize and decide the status: failed on any critical finding or a score above
/// the threshold; otherwise passed, or pending approval when a human must sign off.
fn finish(
    run: &mut TestRun,
    findings: Vec<Finding>,
    changes: Vec<crate::model::SchemaChange>,
    failure: Option<&Finding>,
    require_approval: bool,
) {
    let (score, breakdown) = risk::score(&findings, &changes);
    run.summary = summary::summarize(&changes, &findings, failure);
    run.risk_score = score;
    run.risk_breakdown = breakdown;
    let critical = findings.iter().any(|f| f.severity == Severity::Critical && f.suppressed.is_none());
    let over = run.fail_above.is_some_and(|t| score > t);
    run.status = if critical || over {
        RunStatus::Failed
    } else if require_approval {
        RunStatus::PendingApproval
    } else {
        RunStatus::Passed
    };
    run.findings = findings;
    run.schema_changes = changes;
}
