//! [`Consultant`]: the one entry point every surface wraps. It runs a check and stores the
//! run; bindings only convert arguments and map errors.

use crate::checks::etl::{self, EtlRequest};
use crate::checks::integrity::{self, IntegrityRequest, Progress};
use crate::checks::perf::{self, PerfRequest};
use crate::checks::schema::{self, LintRequest, SchemaValidationRequest};
use crate::error::{Error, Result};
use crate::inspect::{self, QueryOutput, SchemaSummary, TableDescription, TableSummary};
use crate::model::Plan;
use crate::model::{TestRun, TestRunSummary};
use crate::ops::requests::{DescribeTableRequest, ExplainQueryRequest, ListSchemasRequest, ListTablesRequest, RunQueryRequest};
use crate::store::{default_store_path, AuditEvent, Decision, RunFilter, Store};

/// Options for [`Consultant::open`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ConsultantOptions {
    /// Store: a SQLite file path or a `postgres://` URL; `None` uses [`default_store_path`].
    pub store: Option<String>,
}

#[derive(Clone)]
pub struct Consultant {
    store: Store,
    sessions: std::sync::Arc<InspectionSessions>,
}

/// Read-only inspection sessions kept per (URL, statement timeout), so repeated inspection
/// calls (an assistant's list_tables, describe_table, run_query ...) reuse one connection pool
/// instead of connecting every time. A handful are kept; the oldest goes first.
#[derive(Default)]
struct InspectionSessions {
    open: tokio::sync::Mutex<Vec<Session>>,
}

/// An open session: (database URL, statement timeout, driver).
type Session = (String, u64, std::sync::Arc<dyn crate::driver::Driver>);

const KEPT_SESSIONS: usize = 16;

impl InspectionSessions {
    /// The session for a request's URL and separately given password (kept under the URL
    /// they make together).
    async fn get(
        &self,
        database_url: &str,
        password: &Option<crate::driver::credentials::Password>,
        timeout_ms: u64,
    ) -> Result<std::sync::Arc<dyn crate::driver::Driver>> {
        let database_url = &crate::driver::credentials::request_url(database_url, password)?;
        if let Some((_, _, driver)) = self.open.lock().await.iter().find(|(u, t, _)| u == database_url && *t == timeout_ms) {
            return Ok(driver.clone());
        }
        let url = crate::url::DatabaseUrl::parse(database_url)?;
        let session = crate::driver::SessionOptions { statement_timeout_ms: timeout_ms, ..Default::default() };
        let driver: std::sync::Arc<dyn crate::driver::Driver> = crate::driver::connect_with(&url, session).await?.into();
        let mut open = self.open.lock().await;
        if let Some((_, _, existing)) = open.iter().find(|(u, t, _)| u == database_url && *t == timeout_ms) {
            return Ok(existing.clone());
        }
        if open.len() >= KEPT_SESSIONS {
            open.remove(0);
        }
        open.push((database_url.to_string(), timeout_ms, driver.clone()));
        Ok(driver)
    }
}

impl Consultant {
    pub async fn open(options: ConsultantOptions) -> Result<Consultant> {
        let location = options.store.unwrap_or_else(default_store_path);
        Ok(Consultant { store: Store::open_location(&location).await?, sessions: Default::default() })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A run id a request asks for: well-formed and not stored yet (checked before the run,
    /// and again by the store's key when it is saved).
    async fn check_run_id(&self, id: Option<&str>) -> Result<()> {
        let Some(id) = id else { return Ok(()) };
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(Error::invalid(format!("run_id '{id}': use 1 to 64 letters, digits, '-' or '_'")));
        }
        if self.store.get(id).await.is_ok() {
            return Err(Error::invalid(format!("a run with id '{id}' is stored already")));
        }
        Ok(())
    }

    /// Validate a migration against a database (sandboxed) and store the run.
    pub async fn validate_schema(&self, request: &SchemaValidationRequest) -> Result<TestRun> {
        self.check_run_id(request.run_id.as_deref()).await?;
        let mut run = schema::validate(request).await?;
        run.requested_by = request.requested_by.clone();
        if let Some(id) = &request.run_id {
            run.test_run_id = id.clone();
        }
        self.store.save(&run).await?;
        Ok(run)
    }

    /// Check the data against its declared constraints and the user's rules; store the run.
    pub async fn check_integrity(&self, request: &IntegrityRequest) -> Result<TestRun> {
        self.check_integrity_with_progress(request, None).await
    }

    /// [`Consultant::check_integrity`], reporting (tables done, total, current table).
    pub async fn check_integrity_with_progress(&self, request: &IntegrityRequest, progress: Option<Progress<'_>>) -> Result<TestRun> {
        self.check_run_id(request.run_id.as_deref()).await?;
        let mut run = integrity::check(request, progress).await?;
        run.requested_by = request.requested_by.clone();
        if let Some(id) = &request.run_id {
            run.test_run_id = id.clone();
        }
        self.store.save(&run).await?;
        Ok(run)
    }

    /// Reconcile a target table with its source table; store the run.
    pub async fn validate_etl(&self, request: &EtlRequest) -> Result<TestRun> {
        self.validate_etl_with_progress(request, None).await
    }

    /// [`Consultant::validate_etl`], reporting (rows settled, rows in total, "rows").
    pub async fn validate_etl_with_progress(&self, request: &EtlRequest, progress: Option<Progress<'_>>) -> Result<TestRun> {
        self.check_run_id(request.run_id.as_deref()).await?;
        let mut run = etl::validate(request, progress).await?;
        run.requested_by = request.requested_by.clone();
        if let Some(id) = &request.run_id {
            run.test_run_id = id.clone();
        }
        self.store.save(&run).await?;
        Ok(run)
    }

    /// Profile a workload's queries: plans, timings, findings, verified index
    /// recommendations; store the run (metrics in `performance_metrics`).
    pub async fn profile_performance(&self, request: &PerfRequest) -> Result<TestRun> {
        self.check_run_id(request.run_id.as_deref()).await?;
        let mut run = perf::profile(request).await?;
        run.requested_by = request.requested_by.clone();
        if let Some(id) = &request.run_id {
            run.test_run_id = id.clone();
        }
        self.store.save(&run).await?;
        Ok(run)
    }

    /// Static rules only, no database. Lint runs are not stored.
    pub fn lint_schema(&self, request: &LintRequest) -> Result<TestRun> {
        schema::lint(request)
    }

    pub async fn test_run(&self, id: &str) -> Result<TestRun> {
        self.store.get(id).await
    }

    pub async fn list_test_runs(&self, filter: &RunFilter) -> Result<Vec<TestRunSummary>> {
        self.store.list(filter).await
    }

    pub async fn approve(&self, id: &str, approver: &str, comment: Option<&str>) -> Result<TestRun> {
        self.store.decide(id, Decision::Approved, approver, comment).await
    }

    pub async fn reject(&self, id: &str, approver: &str, comment: Option<&str>) -> Result<TestRun> {
        self.store.decide(id, Decision::Rejected, approver, comment).await
    }

    /// Hand a waiting run to someone else (a person or a group); it keeps waiting for their
    /// approval or rejection.
    pub async fn escalate(&self, id: &str, by: &str, to: &str, comment: Option<&str>) -> Result<TestRun> {
        self.store.decide(id, Decision::Escalated(to.to_string()), by, comment).await
    }

    pub async fn audit_trail(&self, id: &str) -> Result<Vec<AuditEvent>> {
        self.store.get(id).await?;
        self.store.audit_trail(id).await
    }

    /// The audit log across runs (approvals, MCP tool calls ...), newest first.
    pub async fn audit_log(&self, filter: &crate::store::AuditFilter) -> Result<Vec<AuditEvent>> {
        self.store.audit_log(filter).await
    }

    /// Schemas of a database with their table and view counts (read-only; nothing stored).
    pub async fn list_schemas(&self, request: &ListSchemasRequest) -> Result<Vec<SchemaSummary>> {
        inspect::list_schemas(self.sessions.get(&request.database_url, &request.database_password, request.timeout_ms).await?.as_ref())
            .await
    }

    /// Tables and views of a schema (read-only; nothing stored).
    pub async fn list_tables(&self, request: &ListTablesRequest) -> Result<Vec<TableSummary>> {
        inspect::list_tables(
            self.sessions.get(&request.database_url, &request.database_password, request.timeout_ms).await?.as_ref(),
            request.schema.as_deref(),
        )
        .await
    }

    /// One table in full (read-only; nothing stored).
    pub async fn describe_table(&self, request: &DescribeTableRequest) -> Result<TableDescription> {
        inspect::describe_table(
            self.sessions.get(&request.database_url, &request.database_password, request.timeout_ms).await?.as_ref(),
            &request.table,
        )
        .await
    }

    /// One guarded read-only statement; rows capped, sensitive values masked.
    pub async fn run_query(&self, request: &RunQueryRequest) -> Result<QueryOutput> {
        let driver = self.sessions.get(&request.database_url, &request.database_password, request.timeout_ms).await?;
        let max_rows = request.max_rows.unwrap_or(request.config.mcp.max_rows);
        inspect::run_query(driver.as_ref(), &request.sql, max_rows, &request.config.masker()).await
    }

    /// The plan of one statement; writes are planned, never run.
    pub async fn explain_query(&self, request: &ExplainQueryRequest) -> Result<Plan> {
        inspect::explain_query(
            self.sessions.get(&request.database_url, &request.database_password, request.timeout_ms).await?.as_ref(),
            &request.sql,
            request.analyze,
        )
        .await
    }
}
