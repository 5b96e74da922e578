//! `dbconsultant`: the CI/CD entry point. Thin: parse arguments, call the core, render, map
//! the outcome to an exit code (0 passed/approved, 1 failed/rejected, 2 pending approval,
//! 3 bad input or error).

mod inputs;
mod inspect;
mod progress;
mod serve;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use dbconsultant::model::TestRun;
use dbconsultant::report::{render, Format};
use dbconsultant::store::RunFilter;
use dbconsultant::url::redact_url;
use dbconsultant::{Consultant, ConsultantOptions, LintRequest, SchemaValidationRequest};

use dbconsultant_cli::args::{AuditCommand, Cli, Command, EtlCommand, IntegrityCommand, PerfCommand, RunsCommand, SchemaCommand};

const EXIT_ERROR: u8 = 3;

/// mimalloc, not glibc's malloc: linting a large migration directory builds ~90 MB of parse
/// trees on every core, and the kernel zeroing fresh 4 KiB pages for glibc's per-thread heaps
/// was over a third of the run (25k page faults for 400 files). mimalloc takes its arenas in
/// huge pages (~900 faults) and allocates small nodes faster: 86 -> 50 ms on
/// `tests/bench/run.sh`'s 400 files. Only the binary chooses; the libraries leave their host
/// application's allocator alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    init_logging(&cli.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Parsed SQL from outside can nest up to the guard's limits; walking such trees
        // recursively needs more than tokio's 2 MiB default (pages are only used when touched).
        .thread_stack_size(32 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run(cli) => Ok(outcome),
            signal = interrupted() => Err(signal),
        }
    });
    // Sandbox servers this process started (their templates too) go, whatever the outcome.
    runtime.block_on(dbconsultant::driver::cleanup_interrupted());
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err((name, number)) => {
            // A run is saved in one transaction at its end, so it is either stored whole or
            // not at all; the scratch databases were dropped above. The shell's code for
            // death by signal.
            eprintln!("error: interrupted by {name}");
            return ExitCode::from(128 + number);
        }
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // One line, secrets redacted, cause chain included.
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {}", redact_url(&message));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Ctrl-C (SIGINT) or SIGTERM (what CI runners and `timeout` send): its name and number.
async fn interrupted() -> (&'static str, u8) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => ("SIGINT", 2),
                _ = term.recv() => ("SIGTERM", 15),
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    ("SIGINT", 2)
}

/// Help and version go to stdout with exit 0; a usage error is one line on stderr and exit 3,
/// like every other bad input (clap's own code, 2, means "pending approval" here).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // A bare `dbconsultant` or `dbconsultant schema`: the help, on stderr, as a usage error.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(EXIT_ERROR);
        }
        _ => {}
    }
    let rendered = e.render().to_string();
    // clap's message, up to its usage block, on one line.
    let mut message: String =
        rendered.lines().take_while(|l| !l.starts_with("Usage:")).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    for (flag, var) in [
        ("--db <DB>", "DBCONSULTANT_DB_URL"),
        ("--source <SOURCE>", "DBCONSULTANT_SOURCE_URL"),
        ("--target <TARGET>", "DBCONSULTANT_TARGET_URL"),
    ] {
        if e.kind() == ErrorKind::MissingRequiredArgument && message.contains(flag) {
            message.push_str(&format!(" ({flag} may also come from ${var})"));
        }
    }
    let message = message.strip_prefix("error: ").unwrap_or(&message).to_string();
    eprintln!("error: {}", redact_url(&message));
    ExitCode::from(EXIT_ERROR)
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

async fn open(store: Option<String>) -> anyhow::Result<Consultant> {
    Ok(Consultant::open(ConsultantOptions { store }).await?)
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Schema(SchemaCommand::Validate(a)) => {
            let format: Format = a.output.format.parse()?;
            let mut config = inputs::load_config(&a.rules)?;
            config.sandbox.allow_scratch_on_target |= a.sandbox_on_target;
            if let Some(n) = a.sample_rows {
                config.sandbox.sample_rows = n;
            }
            let request = SchemaValidationRequest {
                database_url: a.database.db.clone(),
                database_password: inputs::password(&a.database.password_file)?,
                migration_script: a.files.clone(),
                layout: a.layout.as_deref().map(str::parse).transpose()?,
                pending: if a.pending {
                    Some(true)
                } else if a.all {
                    Some(false)
                } else {
                    None
                },
                environment: a.env.parse()?,
                trigger_type: a.trigger.parse()?,
                requested_by: a.identity.requested_by.clone(),
                run_id: a.identity.run_id.clone(),
                require_human_approval: a.require_approval,
                fail_above: a.rules.fail_above,
                dialect: a.dialect.as_deref().map(str::parse).transpose()?,
                sandbox_url: a.sandbox_url.clone(),
                config,
                ..Default::default()
            };
            let consultant = open(cli.store).await?;
            let run = consultant.validate_schema(&request).await?;
            emit(&run, format, a.output.output.as_deref())?;
            Ok(run.exit_code() as u8)
        }
        Command::Schema(SchemaCommand::Lint(a)) => {
            let format: Format = a.output.format.parse()?;
            let request = LintRequest {
                migration_script: a.files.clone(),
                layout: a.layout.as_deref().map(str::parse).transpose()?,
                dialect: a.dialect.parse()?,
                fail_above: a.rules.fail_above,
                config: inputs::load_config(&a.rules)?,
                ..Default::default()
            };
            let run = dbconsultant::checks::schema::lint(&request)?;
            emit(&run, format, a.output.output.as_deref())?;
            Ok(run.exit_code() as u8)
        }
        Command::Schema(SchemaCommand::Rules) => {
            let mut out = std::io::stdout().lock();
            for id in dbconsultant::findings::FindingId::ALL {
                let doc = id.doc();
                let policy = if doc.policy.is_some() { " [zero-delete policy]" } else { "" };
                writeln!(out, "{:<40} {:<8} {:<24} {}{policy}", id, doc.severity, doc.scope.label(), doc.summary)?;
            }
            Ok(0)
        }
        Command::Integrity(IntegrityCommand::Check(a)) => {
            let format: Format = a.output.format.parse()?;
            let mut config = inputs::load_config(&a.rule_args)?;
            if let Some(n) = a.sample_limit {
                config.sample_limit = n;
            }
            config.validate()?;
            let request = dbconsultant::IntegrityRequest {
                database_url: a.database.db.clone(),
                database_password: inputs::password(&a.database.password_file)?,
                tables: a.tables.clone(),
                rules: match &a.rules {
                    Some(path) => dbconsultant::RulesFile::load(path)?.rules,
                    None => Vec::new(),
                },
                environment: a.env.parse()?,
                trigger_type: a.trigger.parse()?,
                requested_by: a.identity.requested_by.clone(),
                run_id: a.identity.run_id.clone(),
                fail_above: a.rule_args.fail_above,
                check_timeout_ms: a.timeout_ms,
                jobs: a.jobs,
                require_human_approval: a.require_approval,
                config,
            };
            let consultant = open(cli.store).await?;
            let progress = progress::Progress::new("checking");
            let run =
                consultant.check_integrity_with_progress(&request, Some(&|done, total, table| progress.update(done, total, table))).await?;
            progress.finish();
            emit(&run, format, a.output.output.as_deref())?;
            Ok(run.exit_code() as u8)
        }
        Command::Etl(EtlCommand::Validate(a)) => {
            let format: Format = a.output.format.parse()?;
            let request = inputs::etl_request(&a, inputs::load_config(&a.rule_args)?)?;
            let consultant = open(cli.store).await?;
            let progress = progress::Progress::new("reconciled");
            let run =
                consultant.validate_etl_with_progress(&request, Some(&|done, total, what| progress.update(done, total, what))).await?;
            progress.finish();
            emit(&run, format, a.output.output.as_deref())?;
            Ok(run.exit_code() as u8)
        }
        Command::Perf(PerfCommand::Profile(a)) => {
            let format: Format = a.output.format.parse()?;
            let request = dbconsultant::PerfRequest {
                database_url: a.database.db.clone(),
                database_password: inputs::password(&a.database.password_file)?,
                queries: a.queries.clone(),
                query_file: a.file.clone(),
                from_stats: a.from_stats,
                stats_limit: a.stats_limit,
                runs: a.runs,
                analyze: !a.no_analyze,
                large_table_rows: a.large_table_rows,
                repeat_threshold: a.repeat_threshold,
                sandbox_verification: !a.no_sandbox_verification,
                environment: a.env.parse()?,
                trigger_type: a.trigger.parse()?,
                requested_by: a.identity.requested_by.clone(),
                run_id: a.identity.run_id.clone(),
                config: inputs::load_config(&a.rule_args)?,
            };
            let consultant = open(cli.store).await?;
            let run = consultant.profile_performance(&request).await?;
            emit(&run, format, a.output.output.as_deref())?;
            Ok(run.exit_code() as u8)
        }
        Command::Runs(RunsCommand::Show { id, format }) => {
            let format: Format = format.parse()?;
            let consultant = open(cli.store).await?;
            let run = consultant.test_run(&id).await?;
            emit(&run, format, None)?;
            if format == Format::Text {
                let trail = consultant.audit_trail(&id).await?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "\nAudit trail")?;
                for e in trail {
                    writeln!(out, "  {}  {:<10} {:<16} {}", e.created_at, e.event, e.actor, e.details.unwrap_or_default())?;
                }
            }
            Ok(0)
        }
        Command::Runs(RunsCommand::Trail { id, format }) => {
            let consultant = open(cli.store).await?;
            let trail = consultant.audit_trail(&id).await?;
            let mut out = std::io::stdout().lock();
            match format.as_str() {
                "json" => writeln!(out, "{}", serde_json::to_string_pretty(&trail)?)?,
                "text" => {
                    for e in trail {
                        writeln!(out, "{}  {:<10} {:<16} {}", e.created_at, e.event, e.actor, e.details.unwrap_or_default())?;
                    }
                }
                other => anyhow::bail!("unknown format '{other}' for runs trail (expected text or json)"),
            }
            Ok(0)
        }
        Command::Runs(RunsCommand::List { status, kind, env, requested_by, limit, offset, format }) => {
            let consultant = open(cli.store).await?;
            let filter = RunFilter {
                status: status.as_deref().map(str::parse).transpose()?,
                kind: kind.as_deref().map(str::parse).transpose()?,
                environment: env.as_deref().map(str::parse).transpose()?,
                requested_by,
                limit: Some(limit),
                offset: Some(offset),
            };
            let runs = consultant.list_test_runs(&filter).await?;
            let mut out = std::io::stdout().lock();
            match format.as_str() {
                "json" => writeln!(out, "{}", serde_json::to_string_pretty(&runs)?)?,
                "text" => {
                    if runs.is_empty() {
                        writeln!(out, "no runs")?;
                    }
                    for r in runs {
                        writeln!(
                            out,
                            "{}  {}  {:<9} {:<16} risk {:>3}  {}",
                            r.test_run_id, r.created_at, r.kind, r.status, r.risk_score, r.summary
                        )?;
                    }
                }
                other => anyhow::bail!("unknown format '{other}' for runs list (expected text or json)"),
            }
            Ok(0)
        }
        Command::Inspect(command) => inspect::run(command).await,
        Command::Registry => {
            let document = dbconsultant::ops::describe(dbconsultant::ops::registry());
            writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&document)?)?;
            Ok(0)
        }
        Command::Mcp(a) => {
            let options = inputs::mcp_options(&a, open(cli.store).await?)?;
            let served = match a.http {
                Some(addr) => {
                    let announce = |bound| eprintln!("dbconsultant mcp: listening on http://{bound}/mcp");
                    dbconsultant_mcp::http::serve_http(options, addr, a.http_token.clone(), announce).await
                }
                None => dbconsultant_mcp::serve_stdio(options).await,
            };
            served.map_err(|e| anyhow::anyhow!("mcp server: {e}"))?;
            Ok(0)
        }
        Command::Serve(a) => serve::serve(a, open(cli.store).await?).await,
        Command::Worker(a) => serve::worker(a, open(cli.store).await?).await,
        Command::Keys(command) => serve::keys(command, open(cli.store).await?).await,
        Command::Audit(AuditCommand::List { event, limit, format }) => {
            let consultant = open(cli.store).await?;
            let events = consultant.audit_log(&dbconsultant::store::AuditFilter { event, limit: Some(limit) }).await?;
            let mut out = std::io::stdout().lock();
            match format.as_str() {
                "json" => writeln!(out, "{}", serde_json::to_string_pretty(&events)?)?,
                "text" => {
                    if events.is_empty() {
                        writeln!(out, "no events")?;
                    }
                    for e in events {
                        let run = e.test_run_id.as_deref().unwrap_or("-");
                        writeln!(out, "{}  {:<10} {:<20} {:<36}  {}", e.created_at, e.event, e.actor, run, e.details.unwrap_or_default())?;
                    }
                }
                other => anyhow::bail!("unknown format '{other}' for audit list (expected text or json)"),
            }
            Ok(0)
        }
        Command::Runs(RunsCommand::Approve(d)) => {
            let consultant = open(cli.store).await?;
            let run = consultant.approve(&d.id, &d.by, d.comment.as_deref()).await?;
            println!("run {} approved by {}", run.test_run_id, d.by.trim());
            Ok(run.exit_code() as u8)
        }
        Command::Runs(RunsCommand::Reject(d)) => {
            let consultant = open(cli.store).await?;
            let run = consultant.reject(&d.id, &d.by, d.comment.as_deref()).await?;
            println!("run {} rejected by {}", run.test_run_id, d.by.trim());
            Ok(run.exit_code() as u8)
        }
        Command::Runs(RunsCommand::Escalate { decision: d, to }) => {
            let consultant = open(cli.store).await?;
            let run = consultant.escalate(&d.id, &d.by, &to, d.comment.as_deref()).await?;
            println!("run {} escalated by {} to {}", run.test_run_id, d.by.trim(), to.trim());
            Ok(run.exit_code() as u8)
        }
    }
}

/// Print the run (text to a terminal gets colour), or write it to `--output`.
fn emit(run: &TestRun, format: Format, output: Option<&std::path::Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, render(run, format, false)).with_context(|| format!("cannot write {}", path.display()))?;
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            write!(stdout.lock(), "{}", render(run, Format::Text, color))?;
        }
        None => {
            let stdout = std::io::stdout();
            let color = format == Format::Text && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            write!(stdout.lock(), "{}", render(run, format, color))?;
        }
    }
    Ok(())
}
