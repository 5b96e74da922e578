//! Every differing key of an ETL comparison: the run document lists the first 100 of each kind
//! (counts exact), `keys_out` streams all of them to a JSON Lines file with masked values,
//! and a comparison that fails leaves no file behind. Approval gates ETL and integrity runs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::model::RunStatus;
use dbconsultant::{EtlRequest, EtlStrategy, IntegrityRequest};
use serde_json::Value;

const ROWS: u64 = 20_000;

/// Every 4th row deleted, 300 inserted, every 10th (not deleted) changed: email and amount.
fn differences() -> (BTreeSet<u64>, BTreeSet<u64>, BTreeSet<u64>) {
    let missing: BTreeSet<u64> = (1..=ROWS).filter(|i| i % 4 == 0).collect();
    let extra: BTreeSet<u64> = (ROWS + 1..=ROWS + 300).collect();
    let changed: BTreeSet<u64> = (1..=ROWS).filter(|i| i % 10 == 1).collect();
    (missing, extra, changed)
}

fn table_sql(ids: impl Iterator<Item = u64>, changed: &BTreeSet<u64>) -> String {
    let rows: Vec<String> = ids
        .map(|i| {
            let (email, amount) =
                if changed.contains(&i) { (format!("new{i}@example.org"), i + 1) } else { (format!("u{i}@example.com"), i) };
            format!("({i}, '{email}', {amount})")
        })
        .collect();
    let mut sql = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, amount INTEGER);".to_string();
    for chunk in rows.chunks(1000) {
        sql.push_str(&format!("\nINSERT INTO accounts VALUES {};", chunk.join(", ")));
    }
    sql
}

fn source_sql() -> String {
    table_sql(1..=ROWS, &BTreeSet::new())
}

fn target_sql() -> String {
    let (missing, extra, changed) = differences();
    table_sql((1..=ROWS).filter(|i| !missing.contains(i)).chain(extra), &changed)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn id(v: &Value) -> u64 {
    v["key"]["id"].as_u64().unwrap_or_else(|| v["key"]["id"].as_str().unwrap().parse().unwrap())
}

fn of_kind(lines: &[Value], kind: &str) -> BTreeSet<u64> {
    lines.iter().filter(|l| l["kind"] == kind).map(id).collect()
}

/// Nothing but the named files in the directory (no partial file left behind).
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// A directory for the keys file alone.
fn keys_dir(parent: &Path) -> std::path::PathBuf {
    let dir = parent.join("out");
    std::fs::create_dir(&dir).unwrap();
    dir
}

fn assert_every_key(path: &Path, r: &dbconsultant::model::EtlResult) {
    let (missing, extra, changed) = differences();
    let all = lines(path);
    assert_eq!(of_kind(&all, "missing"), missing);
    assert_eq!(of_kind(&all, "extra"), extra);
    assert_eq!(of_kind(&all, "changed"), changed);
    assert_eq!(all.len() as u64, r.missing_count + r.extra_count + r.changed_count);
    assert_eq!(r.keys_out.as_ref().unwrap().lines, all.len() as u64);
    // Changed lines carry the differing columns; emails are masked like every sample.
    let first = all.iter().find(|l| l["kind"] == "changed").unwrap();
    let columns = first["columns"].as_object().unwrap();
    assert_eq!(columns.keys().cloned().collect::<BTreeSet<_>>(), BTreeSet::from(["amount".into(), "email".into()]));
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains("@example.org") && !text.contains("@example.com"), "unmasked emails in keys_out");
    assert!(columns["amount"]["source"].is_string() && columns["amount"]["target"].is_string(), "{first}");
}

#[tokio::test]
async fn every_differing_key_goes_to_keys_out_and_the_document_lists_100() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    build_db(&a, &source_sql()).await;
    build_db(&b, &target_sql()).await;
    let out = keys_dir(dir.path()).join("keys.jsonl");
    let req = EtlRequest {
        source_url: format!("sqlite://{}", a.display()),
        target_url: format!("sqlite://{}", b.display()),
        source_table: "accounts".into(),
        keys_out: Some(out.display().to_string()),
        ..Default::default()
    };
    let run = consultant(dir.path()).await.validate_etl(&req).await.unwrap();
    let r = &run.etl_results[0];
    let (missing, extra, changed) = differences();
    assert_eq!((r.missing_count, r.extra_count, r.changed_count), (missing.len() as u64, extra.len() as u64, changed.len() as u64));
    assert_eq!((r.missing_in_target.len(), r.extra_in_target.len(), r.changed.len()), (100, 100, 100));
    assert_every_key(&out, r);
    assert_eq!(files_in(out.parent().unwrap()), BTreeSet::from(["keys.jsonl".into()]));

    // Without keys_out the inline lists are the same 100 per kind; with a sample limit, that many.
    let listed =
        consultant(dir.path()).await.validate_etl(&EtlRequest { keys_out: None, sample_limit: Some(7), ..req.clone() }).await.unwrap();
    let l = &listed.etl_results[0];
    assert_eq!((l.missing_in_target.len(), l.extra_in_target.len(), l.changed.len()), (7, 7, 7));
    assert_eq!(l.keys_out, None);
    let e = consultant(dir.path()).await.validate_etl(&EtlRequest { sample_limit: Some(1_000_000), ..req.clone() }).await.unwrap_err();
    assert!(e.to_string().contains("keys_out"), "{e}");
}

#[tokio::test]
async fn keys_out_across_postgres_and_mariadb() {
    let Some(pg) = TestDb::new(Server::Postgres, &source_sql().replace("INTEGER PRIMARY KEY", "bigint PRIMARY KEY")).await else { return };
    let Some(my) = TestDb::new(Server::Mysql, &target_sql().replace("INTEGER PRIMARY KEY", "bigint PRIMARY KEY")).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys.jsonl");
    let req = EtlRequest {
        source_url: pg.url.clone(),
        target_url: my.url.clone(),
        source_table: "accounts".into(),
        keys_out: Some(out.display().to_string()),
        ..Default::default()
    };
    let run = consultant(dir.path()).await.validate_etl(&req).await.unwrap();
    assert_eq!(run.etl_results[0].strategy, "bisection");
    assert_every_key(&out, &run.etl_results[0]);
}

#[tokio::test]
async fn keys_out_in_one_database_uses_the_bisection_and_join_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("one.db");
    build_db(&db, &format!("{};\n{}", source_sql(), target_sql().replace("accounts", "accounts_copy"))).await;
    let url = format!("sqlite://{}", db.display());
    let out = dir.path().join("keys.jsonl");
    let req = EtlRequest {
        source_url: url.clone(),
        target_url: url,
        source_table: "accounts".into(),
        target_table: Some("accounts_copy".into()),
        keys_out: Some(out.display().to_string()),
        ..Default::default()
    };
    let run = consultant(dir.path()).await.validate_etl(&req).await.unwrap();
    assert_eq!(run.etl_results[0].strategy, "bisection");
    assert_every_key(&out, &run.etl_results[0]);
    std::fs::remove_file(&out).unwrap();
    let e = consultant(dir.path()).await.validate_etl(&EtlRequest { strategy: EtlStrategy::Join, ..req }).await.unwrap_err();
    assert!(e.to_string().contains("keys_out") && e.to_string().contains("join"), "{e}");
    assert!(!out.exists());
}

#[tokio::test]
async fn a_comparison_that_fails_leaves_no_keys_file() {
    let Some(pg) = TestDb::new(Server::Postgres, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = keys_dir(dir.path()).join("keys.jsonl");
    let req = EtlRequest {
        source_url: pg.url.clone(),
        target_url: pg.url.clone(),
        source_table: "t".into(),
        where_clause: Some("pg_sleep(3) IS NOT NULL".into()),
        statement_timeout_ms: 300,
        keys_out: Some(out.display().to_string()),
        ..Default::default()
    };
    let e = consultant(dir.path()).await.validate_etl(&req).await.unwrap_err();
    assert!(e.to_string().contains("statement timeout"), "{e}");
    assert_eq!(files_in(out.parent().unwrap()), BTreeSet::new(), "a partial keys file was left behind");
    // A path that cannot be written is named.
    let nowhere = EtlRequest { keys_out: Some("/nonexistent-dir/keys.jsonl".into()), where_clause: None, ..req };
    let e = consultant(dir.path()).await.validate_etl(&nowhere).await.unwrap_err();
    assert!(e.to_string().contains("cannot write keys_out '/nonexistent-dir/keys.jsonl'"), "{e}");
}

#[tokio::test]
async fn etl_and_integrity_runs_wait_for_approval_and_can_be_escalated() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    build_db(&a, &source_sql()).await;
    build_db(&b, &source_sql()).await;
    let c = consultant(dir.path()).await;
    let req = EtlRequest {
        source_url: format!("sqlite://{}", a.display()),
        target_url: format!("sqlite://{}", b.display()),
        source_table: "accounts".into(),
        require_human_approval: true,
        ..Default::default()
    };
    let etl = c.validate_etl(&req).await.unwrap();
    assert_eq!(etl.status, RunStatus::PendingApproval);
    assert_eq!(etl.exit_code(), 2);
    let escalated = c.escalate(&etl.test_run_id, "alice", "data-governance", Some("PII table")).await.unwrap();
    assert_eq!((escalated.status, escalated.escalated_to.as_deref()), (RunStatus::Escalated, Some("data-governance")));
    assert_eq!(escalated.exit_code(), 2);
    let approved = c.approve(&etl.test_run_id, "bob", Some("checked with governance")).await.unwrap();
    assert_eq!((approved.status, approved.approved_by.as_deref()), (RunStatus::Approved, Some("bob")));
    let trail: Vec<String> = c.audit_trail(&etl.test_run_id).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(trail, ["created", "escalated", "approved"]);
    let e = c.escalate(&etl.test_run_id, "carol", "cto", None).await.unwrap_err();
    assert_eq!(e.kind(), dbconsultant::ErrorKind::ApprovalState, "{e}");
    let e = c.escalate(&etl.test_run_id, "carol", "  ", None).await.unwrap_err();
    assert!(e.to_string().contains("escalated to"), "{e}");

    // A failing ETL run is failed, never put up for approval.
    build_db(&dir.path().join("c.db"), &target_sql()).await;
    let failing =
        c.validate_etl(&EtlRequest { target_url: format!("sqlite://{}", dir.path().join("c.db").display()), ..req }).await.unwrap();
    assert_eq!(failing.status, RunStatus::Failed);

    let integrity =
        IntegrityRequest { database_url: format!("sqlite://{}", a.display()), require_human_approval: true, ..Default::default() };
    let run = c.check_integrity(&integrity).await.unwrap();
    assert_eq!(run.status, RunStatus::PendingApproval, "{run:#?}");
    let rejected = c.reject(&run.test_run_id, "bob", Some("not now")).await.unwrap();
    assert_eq!(rejected.status, RunStatus::Rejected);
}
