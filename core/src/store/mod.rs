//! The artifact store: runs and their results, approvals and the audit trail, in an embedded
//! SQLite file. Every write is one transaction, so a failed write leaves
//! nothing half-written.

mod jobs;
mod keys;
pub mod migrations;
mod save;
mod sqlite_file;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::any::AnyPoolOptions;
use sqlx::Row;
use sqlx::{AnyConnection, AnyPool};

use crate::error::{Error, Result};
use crate::model::{RunKind, RunStatus, TestRun, TestRunSummary};
use migrations::{for_postgres, MIGRATIONS};

pub use jobs::{Job, JobState, Lease, MAX_ATTEMPTS};
pub use keys::StoredKey;

/// The store's schema version (0 when it has no migration yet).
const VERSION_QUERY: &str = "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM store_migrations";

/// Environment variable naming the store file.
pub const STORE_ENV: &str = "DBCONSULTANT_STORE";

/// One entry of a run's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEvent {
    pub test_run_id: Option<String>,
    pub event: String,
    pub actor: String,
    pub details: Option<String>,
    pub created_at: String,
}

/// Filters for listing runs; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub kind: Option<RunKind>,
    pub environment: Option<crate::model::Environment>,
    pub requested_by: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Filters for the audit log; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuditFilter {
    /// Events whose name starts with this (`tool_call`, `approved`, ...).
    pub event: Option<String>,
    /// At most this many, newest first (default 50).
    pub limit: Option<u32>,
}

/// An approval decision. Escalating hands the run to someone else and leaves it waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
    /// To whom (a person or a group).
    Escalated(String),
}

impl Decision {
    fn status(&self) -> RunStatus {
        match self {
            Decision::Approved => RunStatus::Approved,
            Decision::Rejected => RunStatus::Rejected,
            Decision::Escalated(_) => RunStatus::Escalated,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Runs, approvals and audit events in SQLite (a file) or PostgreSQL (a URL). Queries are
/// written once with `$N` placeholders, which both databases accept.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The file path, or the URL with its password redacted.
    label: String,
}

/// Where the store lives when nobody says: `$DBCONSULTANT_STORE` (a path or a
/// `postgres://` URL), else `$XDG_DATA_HOME/dbconsultant/store.db`, else
/// `~/.local/share/dbconsultant/store.db`, else `.dbconsultant/store.db` in the working
/// directory.
pub fn default_store_path() -> String {
    if let Some(p) = std::env::var_os(STORE_ENV).filter(|p| !p.is_empty()) {
        return p.to_string_lossy().into_owned();
    }
    let path = if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        PathBuf::from(xdg).join("dbconsultant").join("store.db")
    } else if let Some(home) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        PathBuf::from(home).join(".local/share/dbconsultant/store.db")
    } else {
        PathBuf::from(".dbconsultant/store.db")
    };
    path.to_string_lossy().into_owned()
}

/// `label` is the SQLite file's path or the PostgreSQL store's redacted URL.
fn store_error(label: &str, e: impl std::fmt::Display) -> Error {
    let hint = if label.contains("://") { None } else { sqlite_file::full_disk_hint(label) };
    let message = match hint {
        Some(hint) => format!("{label}: {hint} ({e})"),
        None => format!("{label}: {e}"),
    };
    Error::Store(crate::url::redact_url(&message))
}

impl Store {
    /// Open (creating and upgrading as needed) the store at a file path (or `sqlite://path`)
    /// or a `postgres://` URL.
    pub async fn open_location(location: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let lower = location.to_ascii_lowercase();
        let (backend, url, label) = if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            (Backend::Postgres, location.to_string(), crate::url::redact_url(location))
        } else {
            let path = location.strip_prefix("sqlite://").unwrap_or(location);
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| store_error(path, format!("cannot create directory: {e}")))?;
            }
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"), path.to_string())
        };
        let sqlite = backend == Backend::Sqlite;
        if sqlite {
            sqlite_file::probe(&url).await.map_err(|e| store_error(&label, e))?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 1 } else { 4 })
            .acquire_timeout(std::time::Duration::from_secs(15))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        sqlite_file::configure(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| store_error(&label, e))?;
        let store = Store { pool, backend, label };
        store.upgrade().await?;
        Ok(store)
    }

    /// Open the SQLite store at `path`.
    pub async fn open(path: &Path) -> Result<Store> {
        Store::open_location(&path.to_string_lossy()).await
    }

    /// The file path, or the URL with its password redacted.
    pub fn location(&self) -> &str {
        &self.label
    }

    /// Bring the store's schema to the newest version. Any number of processes may open a new
    /// or old store at once: the check and every migration run under one exclusive lock
    /// (SQLite's `BEGIN EXCLUSIVE`, a PostgreSQL transaction-scoped advisory lock) in one
    /// transaction, so exactly one opener upgrades and the others then find it done.
    async fn upgrade(&self) -> Result<()> {
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let newest = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        // The common case takes no write lock: an up-to-date store is only read.
        if let Ok(current) = sqlx::query_scalar::<_, i64>(VERSION_QUERY).fetch_one(&self.pool).await {
            if current == newest {
                return Ok(());
            }
        }
        let mut conn = self.pool.acquire().await.map_err(err)?;
        let sqlite = self.backend == Backend::Sqlite;
        if sqlite {
            // SQLite takes this pragma only outside a transaction; tables others refer to are
            // rebuilt with it off and checked before commit, the procedure SQLite documents.
            sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(err)?;
        }
        let (begin, lock) = match self.backend {
            Backend::Sqlite => ("BEGIN EXCLUSIVE", None),
            Backend::Postgres => ("BEGIN", Some("SELECT pg_advisory_xact_lock(7205759403792793) :: TEXT")),
        };
        sqlx::query(sqlx::AssertSqlSafe(begin)).execute(&mut *conn).await.map_err(err)?;
        let applied = async {
            if let Some(lock) = lock {
                sqlx::query(sqlx::AssertSqlSafe(lock)).execute(&mut *conn).await.map_err(err)?;
            }
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS store_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .execute(&mut *conn)
            .await
            .map_err(|e| store_error(&self.label, format!("not a dbconsultant store ({e})")))?;
            let current: i64 = sqlx::query_scalar(VERSION_QUERY).fetch_one(&mut *conn).await.map_err(err)?;
            if current > newest {
                return Err(Error::Store(format!(
                    "{}: store schema version {current} is newer than this dbconsultant understands ({newest}); upgrade dbconsultant",
                    self.label
                )));
            }
            for m in MIGRATIONS.iter().filter(|m| m.version > current) {
                let sql = match (self.backend, m.postgres) {
                    (Backend::Sqlite, _) => m.sql.to_string(),
                    (Backend::Postgres, Some(own)) => own.to_string(),
                    (Backend::Postgres, None) => for_postgres(m.sql),
                };
                sqlx::raw_sql(sqlx::AssertSqlSafe(&*sql)).execute(&mut *conn).await.map_err(err)?;
                sqlx::query("INSERT INTO store_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                    .bind(m.version)
                    .bind(m.description)
                    .bind(now())
                    .execute(&mut *conn)
                    .await
                    .map_err(err)?;
                tracing::info!(version = m.version, "artifact store upgraded");
            }
            if sqlite {
                let broken: Vec<sqlx::any::AnyRow> = sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut *conn).await.map_err(err)?;
                if !broken.is_empty() {
                    return Err(store_error(&self.label, format!("{} rows break a foreign key after the upgrade", broken.len())));
                }
            }
            Ok(())
        }
        .await;
        let end = if applied.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = sqlx::query(sqlx::AssertSqlSafe(end)).execute(&mut *conn).await.map_err(err);
        if sqlite {
            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await.map_err(err)?;
        }
        applied?;
        ended.map(|_| ())
    }

    pub async fn schema_version(&self) -> Result<i64> {
        sqlx::query_scalar(VERSION_QUERY).fetch_one(&self.pool).await.map_err(|e| store_error(&self.label, e))
    }

    /// Store a new run with all its result rows and a `created` audit event, atomically.
    pub async fn save(&self, run: &TestRun) -> Result<()> {
        let started = std::time::Instant::now();
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let document = serde_json::to_string(run).map_err(|e| Error::Internal(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(err)?;
        if let Err(e) = save::insert_run(&mut tx, run, &document).await {
            drop(tx);
            if self.get(&run.test_run_id).await.is_ok() {
                return Err(Error::invalid(format!("a run with id '{}' is stored already", run.test_run_id)));
            }
            return Err(err(e));
        }
        insert_audit(
            &mut tx,
            Some(&run.test_run_id),
            "created",
            run.requested_by.as_deref().unwrap_or("dbconsultant"),
            Some(&format!("{} run {}, risk {}", run.kind, run.status, run.risk_score)),
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, results = run.integrity_results.len() + run.findings.len(), "run stored");
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<TestRun> {
        let row = sqlx::query("SELECT document FROM database_test_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(&self.label, e))?
            .ok_or_else(|| Error::NotFound(format!("no test run with id '{id}' in {}", self.label)))?;
        let document: String = row.get(0);
        serde_json::from_str(&document).map_err(|e| Error::Store(format!("run {id} has an unreadable document: {e}")))
    }

    pub async fn list(&self, filter: &RunFilter) -> Result<Vec<TestRunSummary>> {
        let rows = sqlx::query(
            // Placeholders appear in the text in their numeric order: SQLite numbers `$N` by first
            // appearance, not by N.
            "SELECT document FROM database_test_runs WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR kind = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR environment = $3) AND (CAST($4 AS TEXT) IS NULL OR requested_by = $4) \
             ORDER BY created_at DESC, id LIMIT $5 OFFSET $6",
        )
        .bind(filter.status.map(|s| s.as_str()))
        .bind(filter.kind.map(|k| k.as_str()))
        .bind(filter.environment.map(|e| e.as_str()))
        .bind(filter.requested_by.as_deref())
        .bind(filter.limit.map(|l| l as i64).unwrap_or(50))
        .bind(filter.offset.map(|o| o as i64).unwrap_or(0))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error(&self.label, e))?;
        rows.iter()
            .map(|r| {
                let doc: String = r.get(0);
                serde_json::from_str::<TestRun>(&doc)
                    .map(|run| TestRunSummary::from(&run))
                    .map_err(|e| Error::Store(format!("unreadable run document: {e}")))
            })
            .collect()
    }

    /// Decide a run that waits for a decision (pending approval or escalated). An approved or
    /// rejected run cannot be decided again; the check and the update happen in one write
    /// transaction, so two approvers cannot race.
    pub async fn decide(&self, id: &str, decision: Decision, by: &str, comment: Option<&str>) -> Result<TestRun> {
        let by = by.trim();
        if by.is_empty() {
            return Err(Error::invalid("an approver name is required (--by NAME)"));
        }
        if let Decision::Escalated(to) = &decision {
            if to.trim().is_empty() {
                return Err(Error::invalid("say whom the run is escalated to (--to NAME)"));
            }
        }
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let mut conn = self.pool.acquire().await.map_err(err)?;
        // Take the write lock before reading the status: SQLite's BEGIN IMMEDIATE, or the
        // row lock of PostgreSQL's SELECT ... FOR UPDATE.
        let (begin, select) = match self.backend {
            Backend::Sqlite => ("BEGIN IMMEDIATE", "SELECT document FROM database_test_runs WHERE id = $1"),
            Backend::Postgres => ("BEGIN", "SELECT document FROM database_test_runs WHERE id = $1 FOR UPDATE"),
        };
        sqlx::query(sqlx::AssertSqlSafe(begin)).execute(&mut *conn).await.map_err(err)?;
        let result = async {
            let document: Option<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(select)).bind(id).fetch_optional(&mut *conn).await.map_err(err)?;
            let document = document.ok_or_else(|| Error::NotFound(format!("no test run with id '{id}' in {}", self.label)))?;
            let mut run: TestRun = serde_json::from_str(&document).map_err(|e| Error::Store(e.to_string()))?;
            if !matches!(run.status, RunStatus::PendingApproval | RunStatus::Escalated) {
                let already = match (&run.decided_by, &run.decided_at) {
                    (Some(who), Some(when)) => format!(" by {who} at {when}"),
                    _ => String::new(),
                };
                return Err(Error::ApprovalState(format!(
                    "run {id} is {}{already}; only runs pending approval or escalated can be decided",
                    run.status
                )));
            }
            // Four eyes: whoever asked for the run does not decide it.
            if run.requested_by.as_deref() == Some(by) {
                return Err(Error::ApprovalState(format!("run {id} was requested by {by}; someone else must decide it")));
            }
            let at = now();
            run.status = decision.status();
            run.approved_by = (decision == Decision::Approved).then(|| by.to_string());
            if let Decision::Escalated(to) = &decision {
                run.escalated_to = Some(to.trim().to_string());
            }
            run.decided_by = Some(by.to_string());
            run.decided_at = Some(at.clone());
            run.decision_comment = comment.map(str::to_string);
            let document = serde_json::to_string(&run).map_err(|e| Error::Internal(e.to_string()))?;
            sqlx::query("UPDATE database_test_runs SET status = $1, approved_by = $2, decided_at = $3, document = $4 WHERE id = $5")
                .bind(run.status.as_str())
                .bind(&run.approved_by)
                .bind(&at)
                .bind(&document)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            let decision_text = run.status.as_str();
            // An escalation's audit line says to whom.
            let details = match (&decision, comment) {
                (Decision::Escalated(to), Some(c)) => Some(format!("to {}: {c}", to.trim())),
                (Decision::Escalated(to), None) => Some(format!("to {}", to.trim())),
                (_, c) => c.map(str::to_string),
            };
            let comment = details.as_deref();
            sqlx::query("INSERT INTO approvals (test_run_id, decision, approver, comment, decided_at) VALUES ($1,$2,$3,$4,$5)")
                .bind(id)
                .bind(decision_text)
                .bind(by)
                .bind(comment)
                .bind(&at)
                .execute(&mut *conn)
                .await
                .map_err(err)?;
            insert_audit(&mut conn, Some(id), decision_text, by, comment).await.map_err(err)?;
            Ok(run)
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(sqlx::AssertSqlSafe(end)).execute(&mut *conn).await.map_err(err)?;
        result
    }

    pub async fn audit_trail(&self, id: &str) -> Result<Vec<AuditEvent>> {
        let rows =
            sqlx::query("SELECT test_run_id, event, actor, details, created_at FROM audit_events WHERE test_run_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| store_error(&self.label, e))?;
        Ok(rows.iter().map(audit_event).collect())
    }

    /// Record events that belong to no run (REST requests), `(event, actor, details)`, in one
    /// transaction: a service under load commits its requests' audit lines in groups.
    pub async fn record_events(&self, events: &[(String, String, String)]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let at = now();
        let rows: Vec<String> =
            (0..events.len()).map(|i| format!("(NULL, ${}, ${}, ${}, ${})", i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4)).collect();
        let sql = format!("INSERT INTO audit_events (test_run_id, event, actor, details, created_at) VALUES {}", rows.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (event, actor, details) in events {
            query = query.bind(event.as_str()).bind(actor.as_str()).bind(details.as_str()).bind(at.as_str());
        }
        query.execute(&self.pool).await.map_err(err).map(|_| ())
    }

    /// Record an event that belongs to no run (an MCP tool call), in its own transaction.
    pub async fn record_event(&self, event: &str, actor: &str, details: &str) -> Result<()> {
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let mut conn = self.pool.acquire().await.map_err(err)?;
        insert_audit(&mut conn, None, event, actor, Some(details)).await.map_err(err)
    }

    /// The audit log across runs, newest first: every event, or those whose name starts with
    /// `filter.event`.
    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
        let prefix = filter.event.as_deref().map(|e| format!("{}%", e.replace('%', "")));
        let rows = sqlx::query(
            "SELECT test_run_id, event, actor, details, created_at FROM audit_events WHERE (CAST($1 AS TEXT) IS NULL OR event LIKE $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(prefix)
        .bind(filter.limit.map(|l| l as i64).unwrap_or(50))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error(&self.label, e))?;
        Ok(rows.iter().map(audit_event).collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A row of `SELECT test_run_id, event, actor, details, created_at FROM audit_events`.
fn audit_event(r: &sqlx::any::AnyRow) -> AuditEvent {
    AuditEvent { test_run_id: r.get(0), event: r.get(1), actor: r.get(2), details: r.get(3), created_at: r.get(4) }
}

async fn insert_audit(
    conn: &mut AnyConnection,
    run: Option<&str>,
    event: &str,
    actor: &str,
    details: Option<&str>,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO audit_events (test_run_id, event, actor, details, created_at) VALUES ($1,$2,$3,$4,$5)")
        .bind(run)
        .bind(event)
        .bind(actor)
        .bind(details)
        .bind(now())
        .execute(conn)
        .await
        .map(|_| ())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
