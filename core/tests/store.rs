//! The artifact store: lifecycle, approvals, audit trail, versioned schema — the same tests
//! on the embedded SQLite store and on a PostgreSQL store.

mod common;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::model::RunStatus;
use dbconsultant::store::{RunFilter, Store};
use dbconsultant::{Consultant, ConsultantOptions, ErrorKind, MigrationSource};
use sqlx::Connection;

/// Where the store under test lives.
enum Backing {
    Sqlite(std::path::PathBuf),
    Postgres(TestDb),
}

impl Backing {
    async fn new(postgres: bool, dir: &std::path::Path) -> Option<Backing> {
        if postgres {
            Some(Backing::Postgres(TestDb::new(Server::Postgres, "SELECT 1").await?))
        } else {
            Some(Backing::Sqlite(dir.join("store.db")))
        }
    }

    fn location(&self) -> String {
        match self {
            Backing::Sqlite(p) => p.to_string_lossy().into_owned(),
            Backing::Postgres(db) => db.url.clone(),
        }
    }

    async fn consultant(&self) -> Consultant {
        Consultant::open(ConsultantOptions { store: Some(self.location()) }).await.unwrap()
    }

    async fn scalar(&self, sql: &str) -> i64 {
        match self {
            Backing::Sqlite(p) => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", p.display())).await.unwrap();
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut conn).await.unwrap()
            }
            Backing::Postgres(db) => db.scalar(sql).await,
        }
    }

    async fn exec(&self, sql: &str) {
        match self {
            Backing::Sqlite(p) => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", p.display())).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            Backing::Postgres(db) => db.exec(sql).await,
        }
    }
}

async fn pending_run(dir: &std::path::Path, c: &Consultant) -> String {
    let db = shop_db(dir).await;
    let mut req = request(&db, vec![MigrationSource::inline("CREATE INDEX ix_orders_placed ON orders (placed_at);")]);
    req.require_human_approval = true;
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::PendingApproval);
    run.test_run_id
}

async fn approve_once_with_who_when_why_and_audit_trail(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let id = pending_run(dir.path(), &c).await;
    let approved = c.approve(&id, "alice", Some("reviewed the index")).await.unwrap();
    assert_eq!(approved.status, RunStatus::Approved);
    assert_eq!(approved.approved_by.as_deref(), Some("alice"));
    assert_eq!(approved.decision_comment.as_deref(), Some("reviewed the index"));
    assert!(approved.decided_at.is_some());
    assert_eq!(c.test_run(&id).await.unwrap(), approved, "the stored document follows the decision");

    let again = c.approve(&id, "bob", None).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::ApprovalState);
    assert!(again.to_string().contains("is approved by alice"), "{again}");
    let reject = c.reject(&id, "bob", None).await.unwrap_err();
    assert_eq!(reject.kind(), ErrorKind::ApprovalState);

    let trail = c.audit_trail(&id).await.unwrap();
    let events: Vec<(&str, &str)> = trail.iter().map(|e| (e.event.as_str(), e.actor.as_str())).collect();
    assert_eq!(events, vec![("created", "dbconsultant"), ("approved", "alice")]);
}

async fn whoever_requested_a_run_cannot_decide_it(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let db = shop_db(dir.path()).await;
    let mut req = request(&db, vec![MigrationSource::inline("CREATE INDEX ix_orders_placed ON orders (placed_at);")]);
    req.require_human_approval = true;
    req.requested_by = Some("ci-pipeline".into());
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.requested_by.as_deref(), Some("ci-pipeline"));
    let own = c.approve(&run.test_run_id, "ci-pipeline", None).await.unwrap_err();
    assert_eq!(own.kind(), ErrorKind::ApprovalState);
    assert!(own.to_string().contains("requested by ci-pipeline"), "{own}");
    assert_eq!(c.escalate(&run.test_run_id, "ci-pipeline", "dba", None).await.unwrap_err().kind(), ErrorKind::ApprovalState);
    assert_eq!(c.approve(&run.test_run_id, "alice", None).await.unwrap().status, RunStatus::Approved);
    let trail = c.audit_trail(&run.test_run_id).await.unwrap();
    let events: Vec<(&str, &str)> = trail.iter().map(|e| (e.event.as_str(), e.actor.as_str())).collect();
    assert_eq!(events, vec![("created", "ci-pipeline"), ("approved", "alice")], "the requester is the creation's actor");
}

async fn api_keys_are_stored_listed_and_revoked_once(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let s = c.store();
    let grants = vec!["runner:qa,stage".to_string(), "viewer".to_string()];
    let key = s.insert_api_key("0123456789ab", "ci", &grants, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").await.unwrap();
    assert_eq!(s.api_key("0123456789ab").await.unwrap().unwrap(), key);
    assert_eq!(key.grants, grants);
    assert!(s.api_key("ffffffffffff").await.unwrap().is_none());
    assert!(!serde_json::to_string(&key).unwrap().contains("argon2"), "the hash is never serialized");
    let revoked = s.revoke_api_key("0123456789ab").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(s.api_keys().await.unwrap(), vec![revoked]);
    assert_eq!(s.revoke_api_key("0123456789ab").await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(s.revoke_api_key("ffffffffffff").await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn a_run_id_stores_a_run_once(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let db = shop_db(dir.path()).await;
    let mut req = request(&db, vec![MigrationSource::inline("CREATE INDEX ix_orders_placed ON orders (placed_at);")]);
    req.run_id = Some("job-7f3a".into());
    assert_eq!(c.validate_schema(&req).await.unwrap().test_run_id, "job-7f3a");
    let again = c.validate_schema(&req).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidInput);
    assert!(again.to_string().contains("stored already"), "{again}");
    assert_eq!(store.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM database_test_runs").await, 1);
    req.run_id = Some("../etc".into());
    assert!(c.validate_schema(&req).await.unwrap_err().to_string().contains("run_id '../etc'"));
}

async fn jobs_go_to_one_worker_and_to_another_when_its_lease_runs_out(postgres: bool) {
    use dbconsultant::store::{JobState, Lease};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let s = c.store();
    for i in 0..3 {
        s.enqueue_job(&format!("j{i}"), "validate_schema", &serde_json::json!({"database": "x"}), "ci").await.unwrap();
    }
    let lease = Duration::from_secs(1);
    let claims = futures_util::future::join_all((0..6).map(|w| async move { s.claim_job(&format!("w{w}"), lease).await.unwrap() })).await;
    let mut claimed: Vec<String> = claims.iter().flatten().map(|j| j.job_id.clone()).collect();
    claimed.sort();
    assert_eq!(claimed, ["j0", "j1", "j2"], "each job to exactly one of six concurrent claimers");
    let j0 = claims.iter().flatten().find(|j| j.job_id == "j0").unwrap().clone();
    let owner = j0.lease_owner.clone().unwrap();
    assert_eq!((j0.state, j0.attempts), (JobState::Running, 1));
    assert_eq!(s.heartbeat_job("j0", &owner, lease).await.unwrap(), Lease::Held);
    assert_eq!(s.heartbeat_job("j0", "someone-else", lease).await.unwrap(), Lease::Lost);
    assert!(s.claim_job("w9", lease).await.unwrap().is_none(), "nothing is free while leases hold");

    // j0's worker stops beating: after the lease another worker takes it over.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let taken = s.claim_job("w9", lease).await.unwrap().expect("an expired lease is taken over");
    assert_eq!(taken.attempts, 2);
    assert!(!s.finish_job(&taken.job_id, &owner.replace("w", "x"), JobState::Succeeded, None, None).await.unwrap());
    assert!(s.finish_job(&taken.job_id, "w9", JobState::Succeeded, Some(&taken.job_id), None).await.unwrap());
    let finished = s.job(&taken.job_id).await.unwrap();
    assert_eq!(
        (finished.state, finished.test_run_id.as_deref(), finished.lease_owner),
        (JobState::Succeeded, Some(taken.job_id.as_str()), None)
    );
    assert_eq!(s.cancel_job(&taken.job_id).await.unwrap_err().kind(), ErrorKind::ApprovalState);

    s.enqueue_job("q", "validate_schema", &serde_json::json!({}), "ci").await.unwrap();
    assert_eq!(s.cancel_job("q").await.unwrap().state, JobState::Cancelled, "a queued job is cancelled at once");
    let running = s.job("j1").await.unwrap();
    let j1_owner = running.lease_owner.unwrap();
    s.heartbeat_job("j1", &j1_owner, lease).await.unwrap();
    assert!(s.cancel_job("j1").await.unwrap().cancel_requested);
    assert_eq!(s.heartbeat_job("j1", &j1_owner, lease).await.unwrap(), Lease::CancelRequested);
    assert_eq!(s.job("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn concurrent_decisions_have_one_winner(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let id = pending_run(dir.path(), &c).await;
    let (a, b) = tokio::join!(c.approve(&id, "alice", None), c.reject(&id, "bob", None));
    assert!(a.is_ok() != b.is_ok(), "exactly one decision wins: {a:?} / {b:?}");
    assert_eq!(store.scalar(&format!("SELECT COUNT(*) FROM approvals WHERE test_run_id = '{id}'")).await, 1);
}

async fn reject_records_the_rejecter_not_an_approver(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let id = pending_run(dir.path(), &c).await;
    let rejected = c.reject(&id, "carol", Some("needs CONCURRENTLY")).await.unwrap();
    assert_eq!(rejected.status, RunStatus::Rejected);
    assert_eq!(rejected.approved_by, None);
    assert_eq!(rejected.decided_by.as_deref(), Some("carol"));
    assert_eq!(rejected.exit_code(), 1);
}

async fn passed_runs_and_unknown_ids_cannot_be_decided(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let db = shop_db(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![MigrationSource::inline("CREATE INDEX i ON orders (status);")])).await.unwrap();
    assert_eq!(c.approve(&run.test_run_id, "alice", None).await.unwrap_err().kind(), ErrorKind::ApprovalState);
    let missing = c.approve("00000000-0000-0000-0000-000000000000", "alice", None).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(c.test_run("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(c.approve(&run.test_run_id, "  ", None).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    // The failed decisions left no audit event behind.
    assert_eq!(c.audit_trail(&run.test_run_id).await.unwrap().len(), 1);
}

async fn list_filters_and_orders_newest_first(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let pending = pending_run(dir.path(), &c).await;
    let db = dir.path().join("shop.db");
    let failed = c.validate_schema(&request(&db, vec![example_migration("002_unique_customer_email.sql")])).await.unwrap();
    let all = c.list_test_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let only_pending = c.list_test_runs(&RunFilter { status: Some(RunStatus::PendingApproval), ..Default::default() }).await.unwrap();
    assert_eq!(only_pending.len(), 1);
    assert_eq!(only_pending[0].test_run_id, pending);
    let only_failed = c.list_test_runs(&RunFilter { status: Some(RunStatus::Failed), ..Default::default() }).await.unwrap();
    assert_eq!(only_failed[0].test_run_id, failed.test_run_id);
    assert_eq!(c.list_test_runs(&RunFilter { limit: Some(1), ..Default::default() }).await.unwrap().len(), 1);

    // Pages: limit and offset walk the same order without overlap.
    let mut req = request(&db, vec![MigrationSource::inline("CREATE INDEX i3 ON orders (status);")]);
    req.requested_by = Some("ci".into());
    req.environment = dbconsultant::model::Environment::Prod;
    let third = c.validate_schema(&req).await.unwrap();
    let page = |offset| RunFilter { limit: Some(2), offset: Some(offset), ..Default::default() };
    let (first, second) = (c.list_test_runs(&page(0)).await.unwrap(), c.list_test_runs(&page(2)).await.unwrap());
    let walked: Vec<String> = first.iter().chain(&second).map(|r| r.test_run_id.clone()).collect();
    let everything: Vec<String> = c.list_test_runs(&RunFilter::default()).await.unwrap().into_iter().map(|r| r.test_run_id).collect();
    assert_eq!((first.len(), second.len(), &walked), (2, 1, &everything));
    let by_ci = c.list_test_runs(&RunFilter { requested_by: Some("ci".into()), ..Default::default() }).await.unwrap();
    let in_prod =
        c.list_test_runs(&RunFilter { environment: Some(dbconsultant::model::Environment::Prod), ..Default::default() }).await.unwrap();
    assert_eq!((by_ci.len(), in_prod.len()), (1, 1));
    assert_eq!((&by_ci[0].test_run_id, &in_prod[0].test_run_id), (&third.test_run_id, &third.test_run_id));
}

async fn result_rows_land_in_the_seed_tables(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(store) = Backing::new(postgres, dir.path()).await else { return };
    let c = store.consultant().await;
    let db = shop_db(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("004_orders_foreign_key.sql")])).await.unwrap();
    for (table, expected) in [
        ("schema_validation_results", run.schema_changes.len()),
        ("data_integrity_results", run.integrity_results.len()),
        ("findings", run.findings.len()),
        ("database_test_runs", 1),
    ] {
        let column = if table == "database_test_runs" { "id" } else { "test_run_id" };
        let n = store.scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = '{}'", run.test_run_id)).await;
        assert_eq!(n as usize, expected, "{table}");
    }
}

async fn store_schema_is_versioned_and_refuses_the_future(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(backing) = Backing::new(postgres, dir.path()).await else { return };
    let store = Store::open_location(&backing.location()).await.unwrap();
    let newest = dbconsultant::store::migrations::MIGRATIONS.last().unwrap().version;
    assert_eq!(store.schema_version().await.unwrap(), newest);
    store.close().await;
    // Reopening applies nothing twice.
    let store = Store::open_location(&backing.location()).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), newest);
    store.close().await;
    backing.exec("INSERT INTO store_migrations VALUES (99, 'from the future', 'now')").await;
    let err = Store::open_location(&backing.location()).await.err().unwrap();
    assert!(err.to_string().contains("newer than this dbconsultant understands"), "{err}");
    if postgres {
        let password = Server::Postgres.password();
        assert!(!err.to_string().contains(&password), "{err}");
    }
}

/// A store written by version 1 of the schema, with a pending and a decided run, upgrades in
/// place: nothing lost, foreign keys intact, and the pending run can then be escalated.
async fn a_version_1_store_upgrades_with_its_runs(postgres: bool) {
    use dbconsultant::store::migrations::{for_postgres, MIGRATIONS};
    let dir = tempfile::tempdir().unwrap();
    let Some(backing) = Backing::new(postgres, dir.path()).await else { return };
    // Two real run documents, from a scratch store.
    let scratch = Consultant::open(ConsultantOptions { store: Some(dir.path().join("scratch.db").display().to_string()) }).await.unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pending = scratch.test_run(&pending_run(a.path(), &scratch).await).await.unwrap();
    let decided = scratch.test_run(&pending_run(b.path(), &scratch).await).await.unwrap();
    let v1 = if postgres { for_postgres(MIGRATIONS[0].sql) } else { MIGRATIONS[0].sql.to_string() };
    let row = |run: &dbconsultant::model::TestRun, status: &str| {
        format!(
            "INSERT INTO database_test_runs (id, kind, environment, trigger_type, status, risk_score, summary, created_at, document) \
             VALUES ('{}', 'schema', 'qa', 'migration', '{status}', 0, 's', '{}', '{}');",
            run.test_run_id,
            run.created_at,
            serde_json::to_string(run).unwrap().replace('\'', "''")
        )
    };
    backing
        .exec(&format!(
            "CREATE TABLE store_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL);\
             INSERT INTO store_migrations VALUES (1, 'v1', 'then');{v1}{}{}\
             INSERT INTO findings (test_run_id, rule, severity, message) VALUES ('{p}', 'require-lock-timeout', 'low', 'm');\
             INSERT INTO approvals (test_run_id, decision, approver, decided_at) VALUES ('{d}', 'approved', 'alice', 'then');",
            row(&pending, "pending_approval"),
            row(&decided, "approved"),
            p = pending.test_run_id,
            d = decided.test_run_id,
        ))
        .await;
    let c = backing.consultant().await;
    assert_eq!(backing.scalar("SELECT CAST(MAX(version) AS BIGINT) FROM store_migrations").await, MIGRATIONS.len() as i64);
    assert_eq!(backing.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM database_test_runs").await, 2);
    assert_eq!(backing.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM findings").await, 1);
    assert_eq!(backing.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM approvals").await, 1);
    let escalated = c.escalate(&pending.test_run_id, "bob", "dba-team", None).await.unwrap();
    assert_eq!(escalated.status, RunStatus::Escalated);
    c.approve(&pending.test_run_id, "carol", None).await.unwrap();
    assert_eq!(
        backing.scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM approvals WHERE test_run_id = '{}'", pending.test_run_id)).await,
        2
    );
    // The findings' foreign key still points at the rebuilt runs table.
    let still_escalated = c.list_test_runs(&RunFilter { status: Some(RunStatus::Escalated), ..Default::default() }).await.unwrap();
    assert!(still_escalated.is_empty());
    let fk = if postgres {
        "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.table_constraints WHERE table_name = 'findings' AND constraint_type = 'FOREIGN KEY'"
    } else {
        "SELECT COUNT(*) FROM pragma_foreign_key_list('findings') WHERE \"table\" = 'database_test_runs'"
    };
    assert_eq!(backing.scalar(fk).await, 1);
}

/// Many clients opening a store that does not exist yet, at once: every one opens it (the
/// first-use migrations run once, under an exclusive lock) and every run it then writes lands.
/// Before the lock, 1–3 of 10 SQLite and 27 of 30 PostgreSQL opens failed this way.
async fn concurrent_first_use_opens_and_stores_every_time(postgres: bool) {
    use dbconsultant::store::migrations::MIGRATIONS;
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let Some(backing) = Backing::new(postgres, dir.path()).await else { return };
        let location = backing.location();
        let opens = (0..12).map(|_| {
            let location = location.clone();
            tokio::spawn(async move { Consultant::open(ConsultantOptions { store: Some(location) }).await })
        });
        let consultants: Vec<Consultant> = futures_util::future::join_all(opens)
            .await
            .into_iter()
            .enumerate()
            .map(|(i, joined)| joined.unwrap().unwrap_or_else(|e| panic!("round {round}, client {i}: {e}")))
            .collect();
        let migrations = backing.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM store_migrations").await;
        assert_eq!(migrations, MIGRATIONS.len() as i64, "each migration recorded once");
        let mut ids = Vec::new();
        for c in &consultants {
            let source = tempfile::tempdir().unwrap();
            ids.push(pending_run(source.path(), c).await);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), consultants.len());
        assert_eq!(backing.scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM database_test_runs").await, ids.len() as i64);
    }
}

macro_rules! on_every_store {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_store {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(false).await })+
        }
        mod postgres_store {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(true).await })+
        }
    };
}

on_every_store!(
    approve_once_with_who_when_why_and_audit_trail,
    whoever_requested_a_run_cannot_decide_it,
    api_keys_are_stored_listed_and_revoked_once,
    a_run_id_stores_a_run_once,
    jobs_go_to_one_worker_and_to_another_when_its_lease_runs_out,
    concurrent_decisions_have_one_winner,
    reject_records_the_rejecter_not_an_approver,
    passed_runs_and_unknown_ids_cannot_be_decided,
    list_filters_and_orders_newest_first,
    result_rows_land_in_the_seed_tables,
    store_schema_is_versioned_and_refuses_the_future,
    a_version_1_store_upgrades_with_its_runs,
    concurrent_first_use_opens_and_stores_every_time,
);

#[tokio::test]
async fn a_non_store_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::write(&path, "definitely not sqlite, definitely not a store, long enough header").unwrap();
    let err = Store::open(&path).await.err().unwrap();
    assert!(err.to_string().contains("store.db"), "{err}");
}
