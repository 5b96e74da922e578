//! The artifact store: lifecycle, approvals, audit trail, versioned schema.

mod common;

use common::*;
use dbconsultant::model::RunStatus;
use dbconsultant::store::{RunFilter, Store};
use dbconsultant::{ErrorKind, MigrationSource};
use sqlx::Connection;

async fn pending_run(dir: &std::path::Path) -> (dbconsultant::Consultant, String) {
    let db = shop_db(dir).await;
    let c = consultant(dir).await;
    let mut req = request(&db, vec![MigrationSource::inline("CREATE INDEX ix_orders_placed ON orders (placed_at);")]);
    req.require_human_approval = true;
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::PendingApproval);
    (c, run.test_run_id)
}

#[tokio::test]
async fn approve_once_with_who_when_why_and_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let (c, id) = pending_run(dir.path()).await;
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

#[tokio::test]
async fn reject_records_the_rejecter_not_an_approver() {
    let dir = tempfile::tempdir().unwrap();
    let (c, id) = pending_run(dir.path()).await;
    let rejected = c.reject(&id, "carol", Some("needs CONCURRENTLY")).await.unwrap();
    assert_eq!(rejected.status, RunStatus::Rejected);
    assert_eq!(rejected.approved_by, None);
    assert_eq!(rejected.decided_by.as_deref(), Some("carol"));
    assert_eq!(rejected.exit_code(), 1);
}

#[tokio::test]
async fn passed_runs_and_unknown_ids_cannot_be_decided() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![MigrationSource::inline("CREATE INDEX i ON orders (status);")])).await.unwrap();
    assert_eq!(c.approve(&run.test_run_id, "alice", None).await.unwrap_err().kind(), ErrorKind::ApprovalState);
    let missing = c.approve("00000000-0000-0000-0000-000000000000", "alice", None).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert_eq!(c.test_run("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(c.approve(&run.test_run_id, "  ", None).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    // The failed decisions left no audit event behind.
    assert_eq!(c.audit_trail(&run.test_run_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn list_filters_and_orders_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let (c, pending) = pending_run(dir.path()).await;
    let db = dir.path().join("shop.db");
    let failed = c.validate_schema(&request(&db, vec![example_migration("002_unique_customer_email.sql")])).await.unwrap();
    let all = c.list_test_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let only_pending = c.list_test_runs(&RunFilter { status: Some(RunStatus::PendingApproval), ..Default::default() }).await.unwrap();
    assert_eq!(only_pending.len(), 1);
    assert_eq!(only_pending[0].test_run_id, pending);
    let only_failed = c.list_test_runs(&RunFilter { status: Some(RunStatus::Failed), ..Default::default() }).await.unwrap();
    assert_eq!(only_failed[0].test_run_id, failed.test_run_id);
}

#[tokio::test]
async fn result_rows_land_in_the_seed_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("004_orders_foreign_key.sql")])).await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("store.db").display())).await.unwrap();
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table} WHERE test_run_id = ?");
    for (table, expected) in [
        ("schema_validation_results", run.schema_changes.len()),
        ("data_integrity_results", run.integrity_results.len()),
        ("findings", run.findings.len()),
    ] {
        let n: i64 = sqlx::query_scalar(&count(table)).bind(&run.test_run_id).fetch_one(&mut conn).await.unwrap();
        assert_eq!(n as usize, expected, "{table}");
    }
}

#[tokio::test]
async fn store_schema_is_versioned_and_refuses_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    store.close().await;
    // Reopening applies nothing twice.
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("INSERT INTO store_migrations VALUES (99, 'from the future', 'now')").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let err = Store::open(&path).await.err().unwrap();
    assert!(err.to_string().contains("newer than this dbconsultant understands"), "{err}");
}

#[tokio::test]
async fn a_non_store_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::write(&path, "definitely not sqlite, definitely not a store, long enough header").unwrap();
    let err = Store::open(&path).await.err().unwrap();
    assert!(err.to_string().contains("store.db"), "{err}");
}
