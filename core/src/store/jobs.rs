//! Runs as jobs in the store: queued by the REST service, leased by workers. A lease is a
//! deadline a worker renews while it runs the job (its heartbeat); a worker that dies stops
//! renewing, and once the deadline passes another worker takes the job over. On PostgreSQL any
//! number of servers and workers share the queue (`FOR UPDATE SKIP LOCKED`: each job goes to
//! one claimer, and claimers never wait on each other); on SQLite, one machine's processes do
//! (the database's write lock orders them).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use super::{now, store_error, Backend, Store};
use crate::error::{Error, Result};

/// Attempts after which a job whose workers keep dying is failed rather than retried.
pub const MAX_ATTEMPTS: i64 = 3;

string_enum!(JobState { Queued => "queued", Running => "running", Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled" });

impl JobState {
    pub fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

/// One job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Job {
    pub job_id: String,
    /// The registry operation it runs.
    pub operation: String,
    /// What the caller sent (target names, never URLs or passwords).
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub input: Value,
    pub requested_by: String,
    pub state: JobState,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The worker holding it while it runs.
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    /// How many times a worker took it (more than once when a worker died).
    pub attempts: i64,
    pub cancel_requested: bool,
    /// The run it stored (the job's own id).
    pub test_run_id: Option<String>,
    /// Why it failed, as problem details.
    pub problem: Option<Value>,
    /// How far the run got, for operations that report it: `{"done", "total", "what"}`
    /// (integrity checks count tables, ETL rows).
    pub progress: Option<Value>,
}

const COLUMNS: &str = "id, operation, input, requested_by, state, created_at, updated_at, started_at, finished_at, \
                       lease_owner, lease_until, attempts, cancel_requested, test_run_id, problem, progress";

fn job(r: &sqlx::any::AnyRow) -> Result<Job> {
    let text = |i: usize| -> Option<String> { r.get(i) };
    let json = |s: Option<String>| s.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| Error::Store(format!("job: {e}")));
    let state: String = r.get(4);
    Ok(Job {
        job_id: r.get(0),
        operation: r.get(1),
        input: json(text(2))?.unwrap_or(Value::Null),
        requested_by: r.get(3),
        state: state.parse()?,
        created_at: r.get(5),
        updated_at: r.get(6),
        started_at: text(7),
        finished_at: text(8),
        lease_owner: text(9),
        lease_until: text(10),
        attempts: r.get(11),
        cancel_requested: r.get::<i64, _>(12) != 0,
        test_run_id: text(13),
        problem: json(text(14))?,
        progress: json(text(15))?,
    })
}

fn later(lease: Duration) -> String {
    let until = chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
    until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Still ours; go on.
    Held,
    /// Still ours, and someone asked to cancel it.
    CancelRequested,
    /// Another worker took it over (we were presumed dead): stop without finishing it.
    Lost,
}

impl Store {
    /// Queue a job.
    pub async fn enqueue_job(&self, id: &str, operation: &str, input: &Value, requested_by: &str) -> Result<Job> {
        let at = now();
        sqlx::query(
            "INSERT INTO jobs (id, operation, input, requested_by, state, created_at, updated_at) VALUES ($1,$2,$3,$4,'queued',$5,$5)",
        )
        .bind(id)
        .bind(operation)
        .bind(input.to_string())
        .bind(requested_by)
        .bind(&at)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error(&self.label, e))?;
        self.job(id).await
    }

    pub async fn job(&self, id: &str) -> Result<Job> {
        let query = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(&self.label, e))?
            .ok_or_else(|| Error::NotFound(format!("no job with id '{id}' in {}", self.label)))?;
        job(&row)
    }

    /// Take the oldest job that is queued, or whose worker's lease ran out, for `owner`.
    /// Jobs whose workers died [`MAX_ATTEMPTS`] times are failed, and those asked to cancel
    /// are cancelled, on the way.
    pub async fn claim_job(&self, owner: &str, lease: Duration) -> Result<Option<Job>> {
        let err = |e: sqlx::Error| store_error(&self.label, e);
        let at = now();
        let mut conn = self.pool.acquire().await.map_err(err)?;
        let begin = if self.backend == Backend::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        sqlx::query(sqlx::AssertSqlSafe(begin)).execute(&mut *conn).await.map_err(err)?;
        let claimed = async {
            let gave_up = serde_json::json!({"type": "urn:dbconsultant:problem:internal", "title": "Internal Server Error", "status": 500,
                "detail": format!("the workers running this job stopped {MAX_ATTEMPTS} times (killed or lost) before it finished"), "kind": "internal"});
            sqlx::query(
                "UPDATE jobs SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END, \
                 problem = CASE WHEN cancel_requested = 1 THEN NULL ELSE $2 END, finished_at = $1, updated_at = $1, lease_owner = NULL \
                 WHERE state = 'running' AND lease_until < $1 AND (cancel_requested = 1 OR attempts >= $3)",
            )
            .bind(&at)
            .bind(gave_up.to_string())
            .bind(MAX_ATTEMPTS)
            .execute(&mut *conn)
            .await?;
            let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            let pick = format!(
                "SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_until < $1) ORDER BY created_at, id LIMIT 1{lock}"
            );
            let Some(id) = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(pick)).bind(&at).fetch_optional(&mut *conn).await? else {
                return Ok(None);
            };
            sqlx::query(
                "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
                 started_at = COALESCE(started_at, $3), updated_at = $3 WHERE id = $4",
            )
            .bind(owner)
            .bind(later(lease))
            .bind(&at)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>(Some(id))
        }
        .await;
        let end = if claimed.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(sqlx::AssertSqlSafe(end)).execute(&mut *conn).await.map_err(err)?;
        drop(conn);
        match claimed.map_err(err)? {
            Some(id) => Ok(Some(self.job(&id).await?)),
            None => Ok(None),
        }
    }

    /// Renew `owner`'s lease on a running job.
    pub async fn heartbeat_job(&self, id: &str, owner: &str, lease: Duration) -> Result<Lease> {
        let done =
            sqlx::query("UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'running'")
                .bind(later(lease))
                .bind(now())
                .bind(id)
                .bind(owner)
                .execute(&self.pool)
                .await
                .map_err(|e| store_error(&self.label, e))?;
        if done.rows_affected() == 0 {
            return Ok(Lease::Lost);
        }
        Ok(if self.job(id).await?.cancel_requested { Lease::CancelRequested } else { Lease::Held })
    }

    /// Record how far `owner`'s run of a job got.
    pub async fn job_progress(&self, id: &str, owner: &str, progress: &Value) -> Result<()> {
        sqlx::query("UPDATE jobs SET progress = $1, updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'running'")
            .bind(progress.to_string())
            .bind(now())
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| store_error(&self.label, e))
    }

    /// End a job `owner` holds: succeeded with its run, failed with a problem, or cancelled.
    /// `false` when the job is no longer `owner`'s (another worker took it over).
    pub async fn finish_job(&self, id: &str, owner: &str, state: JobState, run: Option<&str>, problem: Option<&Value>) -> Result<bool> {
        let at = now();
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, test_run_id = $2, problem = $3, finished_at = $4, updated_at = $4, lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_owner = $6 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(run)
        .bind(problem.map(Value::to_string))
        .bind(&at)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error(&self.label, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancel a job: a queued one at once, a running one at its worker's next heartbeat.
    pub async fn cancel_job(&self, id: &str) -> Result<Job> {
        let at = now();
        let err = |e: sqlx::Error| store_error(&self.label, e);
        sqlx::query("UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1 WHERE id = $2 AND state = 'queued'")
            .bind(&at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(err)?;
        sqlx::query("UPDATE jobs SET cancel_requested = 1, updated_at = $1 WHERE id = $2 AND state = 'running'")
            .bind(&at)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(err)?;
        let job = self.job(id).await?;
        if matches!(job.state, JobState::Succeeded | JobState::Failed) {
            return Err(Error::ApprovalState(format!("job {id} has {} already; there is nothing to cancel", job.state)));
        }
        Ok(job)
    }
}
