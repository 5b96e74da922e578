//! Integrity checks on SQLite, PostgreSQL and MariaDB: declared constraints (including ones
//! the database does not enforce), user rules, timeouts, bad input.

mod common;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::findings::FindingId;
use dbconsultant::model::{IntegrityResult, IntegrityType, RunStatus, TestRun};
use dbconsultant::{ErrorKind, IntegrityRequest, RulesFile};

fn shop_rules() -> RulesFile {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/shop_rules.toml")).unwrap();
    RulesFile::from_toml(&text, "shop_rules.toml").unwrap()
}

fn result<'a>(run: &'a TestRun, constraint: &str) -> &'a IntegrityResult {
    run.integrity_results.iter().find(|r| r.constraint == constraint).unwrap_or_else(|| {
        panic!("no result for {constraint}: {:#?}", run.integrity_results.iter().map(|r| &r.constraint).collect::<Vec<_>>())
    })
}

async fn run_on(url: &str, rules: RulesFile) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    let c = consultant(dir.path()).await;
    let req = IntegrityRequest { database_url: url.into(), rules: rules.rules, ..Default::default() };
    let run = c.check_integrity(&req).await.unwrap();
    assert_eq!(c.test_run(&run.test_run_id).await.unwrap(), run, "stored");
    run
}

/// The same user rules give the same answers on every dialect's copy of the shop.
fn assert_shop_rules(run: &TestRun) {
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(result(run, "accepted_values orders.status").failure_count, 1, "cancelled is not accepted");
    assert_eq!(result(run, "range orders.total").failure_count, 1, "28900 > 20000");
    assert_eq!(result(run, "regex customers.email").failure_count, 0);
    let nulls = result(run, "max_null_fraction customers.phone");
    assert_eq!(nulls.failure_count, 2);
    assert_eq!(nulls.sample_records[0]["total_rows"], 7);
    assert_eq!(result(run, "row_count orders").failure_count, 0);
    assert_eq!(result(run, "freshness orders.placed_at").failure_count, 1, "newest order is from 2025");
    let dups = result(run, "one account per e-mail");
    assert_eq!(dups.failure_count, 4);
    assert!(dups.sample_records.iter().all(|r| r["email"] == "<masked>"), "{:#?}", dups.sample_records);
    let orphans = result(run, "orders belong to customers");
    assert_eq!(orphans.integrity_type, IntegrityType::Fk);
    let ids: Vec<i64> = orphans.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [42, 99]);
    // Declared constraints hold in the shop.
    for r in run.integrity_results.iter().filter(|r| r.integrity_type != IntegrityType::Rule && r.integrity_type != IntegrityType::Fk) {
        assert_eq!(r.failure_count, 0, "{r:?}");
    }
    assert!(run.summary.starts_with("Integrity check of 5 tables: 6 of "), "{}", run.summary);
    let f = run.findings.iter().find(|f| f.rule == FindingId::IntegrityFk).unwrap();
    assert_eq!(f.severity, dbconsultant::model::Severity::Critical, "the rule's severity");
}

#[tokio::test]
async fn sqlite_shop_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    assert_shop_rules(&run_on(&format!("sqlite://{}", db.display()), shop_rules()).await);
}

#[tokio::test]
async fn postgres_shop_rules() {
    let Some(db) = TestDb::shop(Server::Postgres).await else { return };
    assert_shop_rules(&run_on(&db.url, shop_rules()).await);
}

#[tokio::test]
async fn mysql_shop_rules() {
    let Some(db) = TestDb::shop(Server::Mysql).await else { return };
    assert_shop_rules(&run_on(&db.url, shop_rules()).await);
}

/// Constraints the database does not enforce still get checked: SQLite with foreign_keys
/// off and ignored CHECKs, PostgreSQL NOT VALID, MySQL imports with FOREIGN_KEY_CHECKS=0.
#[tokio::test]
async fn sqlite_unenforced_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("broken.db");
    build_db(
        &db,
        "PRAGMA foreign_keys = OFF;
        CREATE TABLE parent (a INTEGER, b INTEGER, PRIMARY KEY (a, b));
        CREATE TABLE child (id INTEGER PRIMARY KEY, pa INTEGER, pb INTEGER, qty INTEGER CHECK (qty > 0),
            FOREIGN KEY (pa, pb) REFERENCES parent (a, b));
        INSERT INTO parent VALUES (1, 1), (1, 2);
        PRAGMA ignore_check_constraints = 1;
        INSERT INTO child VALUES (1, 1, 1, 5), (2, 1, 3, 5), (3, NULL, 3, 0), (4, 2, 2, -1);",
    )
    .await;
    let run = run_on(&format!("sqlite://{}", db.display()), RulesFile::default()).await;
    let fk = run.integrity_results.iter().find(|r| r.integrity_type == IntegrityType::Fk).unwrap();
    assert_eq!(fk.failure_count, 2, "composite key (1,3) and (2,2); (NULL,3) is not a reference");
    let check = run.integrity_results.iter().find(|r| r.integrity_type == IntegrityType::Check).unwrap();
    assert_eq!(check.failure_count, 2);
}

#[tokio::test]
async fn postgres_not_valid_constraints_and_timeouts() {
    let Some(db) = TestDb::shop(Server::Postgres).await else { return };
    db.exec(
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
        ALTER TABLE products DROP CONSTRAINT products_price_cents_check;
        INSERT INTO products VALUES (4, 'NEG-01', 'Refund voucher', -500, NULL);
        ALTER TABLE products ADD CONSTRAINT products_price_cents_check CHECK (price_cents >= 0) NOT VALID;
        CREATE FUNCTION slow_true(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT pg_sleep(0.3) IS NOT NULL $$;
        CREATE TABLE slow (id int PRIMARY KEY, n int NOT NULL);
        INSERT INTO slow SELECT g, g FROM generate_series(1, 10) g;
        ALTER TABLE slow ADD CONSTRAINT slow_check CHECK (slow_true(n)) NOT VALID;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let c = consultant(dir.path()).await;
    let req = IntegrityRequest { database_url: db.url.clone(), check_timeout_ms: 1000, ..Default::default() };
    let run = c.check_integrity(&req).await.unwrap();
    assert_eq!(result(&run, "fk_orders_customer").failure_count, 2);
    assert_eq!(result(&run, "products_price_cents_check").failure_count, 1);
    // The slow check times out alone; the rest of its table still answers.
    let slow = result(&run, "slow_check");
    assert!(slow.error.as_deref().unwrap_or("").contains("timed out"), "{slow:?}");
    assert_eq!(result(&run, "n NOT NULL").failure_count, 0);
    assert!(result(&run, "n NOT NULL").error.is_none());
    assert!(run.findings.iter().any(|f| f.rule == FindingId::IntegrityCheckError));
    assert_eq!(run.status, RunStatus::Failed);
}

#[tokio::test]
async fn mysql_foreign_keys_loaded_without_checks() {
    let Some(db) = TestDb::shop(Server::Mysql).await else { return };
    db.exec("SET FOREIGN_KEY_CHECKS = 0; ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id); SET FOREIGN_KEY_CHECKS = 1;").await;
    let run = run_on(&db.url, RulesFile::default()).await;
    let fk = result(&run, "fk_orders_customer");
    assert_eq!(fk.failure_count, 2);
}

#[tokio::test]
async fn chosen_tables_only_and_a_clean_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let req =
        IntegrityRequest { database_url: format!("sqlite://{}", db.display()), tables: vec!["products".into()], ..Default::default() };
    let run = c.check_integrity(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::Passed);
    assert!(run.integrity_results.iter().all(|r| r.table_name == "products"));
    assert_eq!(run.summary, format!("Integrity check of 1 table: all {} checks passed.", run.integrity_results.len()));
    assert_eq!(run.risk_score, 0);
}

mod bad_input {
    use super::*;

    async fn error_for(rules: &str, tables: Vec<String>) -> dbconsultant::Error {
        let dir = tempfile::tempdir().unwrap();
        let db = shop_db(dir.path()).await;
        let c = consultant(dir.path()).await;
        let rules = RulesFile::from_toml(rules, "rules.toml").unwrap();
        let req = IntegrityRequest { database_url: format!("sqlite://{}", db.display()), rules: rules.rules, tables, ..Default::default() };
        let err = c.check_integrity(&req).await.unwrap_err();
        assert!(c.list_test_runs(&Default::default()).await.unwrap().is_empty(), "nothing stored");
        err
    }

    #[tokio::test]
    async fn unknown_table_column_and_invalid_regex() {
        let cases = [
            ("[[rule]]\ntable = \"ordres\"\ntype = \"row_count\"\nmin = 1\n", "unknown table 'ordres'"),
            ("[[rule]]\ntable = \"orders\"\ncolumn = \"stat\"\ntype = \"regex\"\npattern = \"x\"\n", "unknown column 'stat'"),
            ("[[rule]]\ntable = \"orders\"\ncolumn = \"status\"\ntype = \"regex\"\npattern = \"(unclosed\"\n", "invalid regex"),
            ("[[rule]]\ntable = \"orders\"\ncolumn = \"total\"\ntype = \"max_null_fraction\"\nmax = 2\n", "between 0 and 1"),
            ("[[rule]]\ntable = \"orders\"\ncolumn = \"placed_at\"\ntype = \"freshness\"\nmax_age = \"soon\"\n", "invalid max_age"),
        ];
        for (rules, expected) in cases {
            let err = error_for(rules, vec![]).await;
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
        let err = error_for("", vec!["nope".into()]).await;
        assert!(err.to_string().contains("unknown table 'nope'"), "{err}");
    }

    #[tokio::test]
    async fn table_without_primary_key_is_a_finding() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("log.db");
        build_db(&db, "CREATE TABLE log (at TEXT, msg TEXT); INSERT INTO log VALUES ('x', 'y');").await;
        let run = run_on(&format!("sqlite://{}", db.display()), RulesFile::default()).await;
        assert!(run.findings.iter().any(|f| f.rule == FindingId::TableWithoutPrimaryKey));
        assert_eq!(run.status, RunStatus::Passed);
    }
}
