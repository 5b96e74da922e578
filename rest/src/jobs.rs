//! Asynchronous runs: a request with `Prefer: respond-async` is queued as a job in the store
//! and answered `202 Accepted` with its `Location`; workers (inside `dbconsultant serve`, or
//! `dbconsultant worker` processes on other machines sharing a PostgreSQL store) lease jobs,
//! run them and renew their leases while they run. A job stores its run under its own id, so
//! a job taken over after its worker died stores its run once: the store refuses a second run
//! with that id, and a worker that finds the run stored already just closes the job.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbconsultant::ops::Role;
use dbconsultant::store::{Job, JobState, Lease};
use serde_json::{json, Map, Value};

use crate::endpoints::{Endpoint, Governed};
use crate::problem::Problem;
use crate::routes::{API, DB};
use crate::Service;

/// How often a running job's progress is stored.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long a lease lasts without a heartbeat (a dead worker's job waits this long).
    pub lease: Duration,
    /// How long an idle worker waits before looking at the queue again.
    pub poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions { lease: Duration::from_secs(30), poll: Duration::from_millis(500) }
    }
}

/// A worker's name in leases: host, process and a random part (two workers in one process
/// differ).
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// The job document callers see.
pub fn document(job: &Job) -> Value {
    let mut doc = serde_json::to_value(job).unwrap_or_default();
    doc["location"] = json!(format!("{API}{DB}/jobs/{}", job.job_id));
    if let Some(run) = &job.test_run_id {
        doc["run_location"] = json!(format!("{API}{DB}/test-runs/{run}"));
    }
    doc
}

impl Service {
    /// Queue a job for an endpoint the caller may call (checked by the caller of this).
    pub(crate) async fn enqueue(&self, e: &Endpoint, caller: &str, input: &Map<String, Value>) -> Result<Job, Problem> {
        let id = uuid::Uuid::new_v4().to_string();
        Ok(self.consultant.store().enqueue_job(&id, e.name(), &Value::Object(input.clone()), caller).await?)
    }

    /// Work the queue until the process ends.
    pub async fn work(self: Arc<Self>, options: WorkerOptions) {
        let name = worker_name();
        tracing::info!(worker = %name, "worker started");
        loop {
            match self.consultant.store().claim_job(&name, options.lease).await {
                Ok(Some(job)) => self.run_job(&name, job, &options).await,
                Ok(None) => tokio::time::sleep(options.poll).await,
                Err(e) => {
                    tracing::warn!("worker {name}: cannot read the queue: {e}");
                    tokio::time::sleep(options.poll * 4).await;
                }
            }
        }
    }

    async fn run_job(&self, me: &str, job: Job, options: &WorkerOptions) {
        let store = self.consultant.store();
        let id = job.job_id.clone();
        tracing::info!(job = %id, operation = %job.operation, attempt = job.attempts, "job started");
        // A previous attempt stored the run and died before closing the job.
        if store.get(&id).await.is_ok() {
            let _ = store.finish_job(&id, me, JobState::Succeeded, Some(&id), None).await;
            return;
        }
        // The run reports its progress here; the loop below stores it once a second.
        let latest: Mutex<Option<Value>> = Mutex::new(None);
        let report = |done: usize, total: usize, what: &str| {
            *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(json!({"done": done, "total": total, "what": what}));
        };
        let running = self.execute(&job, &report);
        tokio::pin!(running);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        let mut last_beat = Instant::now();
        let mut stored: Option<Value> = None;
        let outcome = loop {
            tokio::select! {
                outcome = &mut running => break outcome,
                _ = tick.tick() => {
                    self.store_progress(&id, me, &latest, &mut stored).await;
                    if last_beat.elapsed() < options.lease / 3 {
                        continue;
                    }
                    last_beat = Instant::now();
                    match store.heartbeat_job(&id, me, options.lease).await {
                        Ok(Lease::Held) => {}
                        Ok(Lease::CancelRequested) => {
                            let _ = store.finish_job(&id, me, JobState::Cancelled, None, None).await;
                            tracing::info!(job = %id, "job cancelled");
                            return;
                        }
                        Ok(Lease::Lost) => {
                            tracing::warn!(job = %id, "lease lost to another worker; stopping");
                            return;
                        }
                        Err(e) => tracing::warn!(job = %id, "heartbeat: {e}"),
                    }
                }
            }
        };
        self.store_progress(&id, me, &latest, &mut stored).await;
        let finished = match outcome {
            Ok(run) => store.finish_job(&id, me, JobState::Succeeded, Some(&run), None).await,
            Err(p) => {
                // The run may have been stored by an attempt that lost its lease meanwhile.
                if store.get(&id).await.is_ok() {
                    store.finish_job(&id, me, JobState::Succeeded, Some(&id), None).await
                } else {
                    let problem = serde_json::to_value(p.details()).unwrap_or_default();
                    store.finish_job(&id, me, JobState::Failed, None, Some(&problem)).await
                }
            }
        };
        if let Err(e) = finished {
            tracing::warn!(job = %id, "closing the job: {e}");
        }
    }

    /// Store the run's latest progress when it moved since last stored.
    async fn store_progress(&self, id: &str, me: &str, latest: &Mutex<Option<Value>>, stored: &mut Option<Value>) {
        let now = latest.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if now.is_some() && now != *stored {
            if let Err(e) = self.consultant.store().job_progress(id, me, now.as_ref().unwrap_or(&Value::Null)).await {
                tracing::warn!(job = %id, "progress: {e}");
            }
            *stored = now;
        }
    }

    /// Run a job's operation as the caller who queued it; the run's id is the job's.
    async fn execute(&self, job: &Job, progress: dbconsultant::ops::Progress<'_>) -> Result<String, Problem> {
        let e = self
            .endpoints
            .iter()
            .find(|e| e.name() == job.operation && e.role == Role::Runner)
            .ok_or_else(|| Problem::invalid(format!("job {}: '{}' is not an operation that runs", job.job_id, job.operation)))?;
        let input = job.input.as_object().cloned().unwrap_or_default();
        let governed = Governed { config: &self.config, caller: &job.requested_by };
        let (mut request, _) = e.request(input, &self.targets, &governed)?;
        request["run_id"] = json!(job.job_id);
        let run = e.op.call_with_progress(&self.consultant, request, Some(progress)).await?;
        Ok(run.get("test_run_id").and_then(Value::as_str).unwrap_or(&job.job_id).to_string())
    }
}
