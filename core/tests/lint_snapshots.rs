//! Snapshots of rule findings on the fixtures and examples: any change to a rule's message,
//! severity, position or suggestion shows up as a reviewed diff.

mod common;

use common::repo_root;
use dbconsultant::checks::schema::{lint, LintRequest};
use dbconsultant::{Dialect, MigrationSource};

fn lint_file(rel: &str, dialect: Dialect) -> Vec<dbconsultant::model::Finding> {
    let sql = std::fs::read_to_string(repo_root().join(rel)).unwrap();
    let req = LintRequest { migrations: vec![MigrationSource::named(rel, sql)], dialect, ..Default::default() };
    lint(&req).unwrap().findings
}

#[test]
fn postgres_lock_hazards() {
    insta::assert_yaml_snapshot!(lint_file("tests/fixtures/postgres_lock_hazards.sql", Dialect::Postgres));
}

#[test]
fn sqlite_examples() {
    for m in ["001_index_order_status.sql", "002_unique_customer_email.sql", "003_cleanup_legacy.sql", "004_orders_foreign_key.sql"] {
        let rel = format!("examples/migrations/{m}");
        insta::assert_yaml_snapshot!(m, lint_file(&rel, Dialect::Sqlite));
    }
}

#[test]
fn mysql_hazards() {
    insta::assert_yaml_snapshot!(lint_file("tests/fixtures/mysql_hazards.sql", Dialect::Mysql));
}
