//! The read-only guard against hostile input (tests/fixtures/hostile_queries.json plus very
//! long, deeply nested and invalid UTF-8 inputs), on SQLite, PostgreSQL and MariaDB: every
//! input is refused or runs harmlessly through the read-only session — the list of objects and
//! a checksum of every table are identical before and after.

mod common;

use std::time::Duration;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::driver::{connect, Driver};
use dbconsultant::guard::{check_read_only, check_read_only_bytes};
use dbconsultant::url::DatabaseUrl;
use dbconsultant::Dialect;

/// Objects and a digest of every table's rows.
async fn snapshot(driver: &dyn Driver) -> (Vec<String>, Vec<String>) {
    let schema = driver.introspect().await.unwrap();
    let mut objects: Vec<String> =
        schema.tables.values().flat_map(|t| std::iter::once(t.name.clone()).chain(t.indexes.iter().map(|i| i.name.clone()))).collect();
    objects.extend(schema.views.iter().cloned());
    objects.sort();
    let mut digests = Vec::new();
    for table in schema.tables.keys() {
        let q = driver.dialect().quote_ident(table);
        let rows = driver.query(&format!("SELECT * FROM {q} ORDER BY 1"), 1_000_000).await.unwrap();
        digests.push(format!("{table}:{}", dbconsultant::driver::md5_hex(serde_json::to_string(&rows.rows).unwrap().as_bytes())));
    }
    (objects, digests)
}

fn hostile() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/hostile_queries.json")).unwrap();
    let mut inputs: Vec<String> = serde_json::from_str(&text).unwrap();
    inputs.push(format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000)));
    inputs.push(format!("SELECT 1{}", " + 1".repeat(20_000)));
    inputs.push(format!("SELECT * FROM orders WHERE id IN ({})", (0..30_000).map(|i| i.to_string()).collect::<Vec<_>>().join(",")));
    inputs
}

/// Escapes known to have broken other servers: refused on every dialect
/// (tests/fixtures/must_refuse.json, shared with the MCP tests).
fn must_refuse() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/must_refuse.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

const HARMLESS: &[&str] =
    &["SELECT count(*) FROM orders", "SELECT * FROM customers WHERE id = 1", "WITH x AS (SELECT id FROM orders) SELECT count(*) FROM x"];

async fn attack(url: &str, dialect: Dialect) {
    let driver = connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let before = snapshot(driver.as_ref()).await;
    let inputs = hostile();
    let (mut refused, mut ran) = (0usize, 0usize);
    for input in &inputs {
        match check_read_only(input, dialect) {
            Err(_) => refused += 1,
            Ok(()) => {
                ran += 1;
                // Whatever passed runs on the read-only session, bounded in time.
                let _ = tokio::time::timeout(Duration::from_secs(10), driver.query(input, 100)).await;
            }
        }
    }
    assert!(check_read_only_bytes(b"SELECT '\xff\xfe'", dialect).is_err(), "invalid UTF-8");
    refused += 1;
    for sql in must_refuse() {
        assert!(check_read_only(&sql, dialect).is_err(), "{dialect}: {sql} must be refused");
    }
    for sql in HARMLESS {
        assert_eq!(check_read_only(sql, dialect), Ok(()), "{dialect}: {sql}");
        driver.query(sql, 10).await.unwrap_or_else(|e| panic!("{dialect}: {sql}: {e}"));
    }
    let tried = inputs.len() + 1;
    println!("{dialect}: {tried} hostile inputs tried, {refused} refused, {ran} ran harmlessly");
    assert!(tried >= 100);
    assert_eq!(snapshot(driver.as_ref()).await, before, "{dialect}: objects or rows changed");
}

#[tokio::test]
async fn sqlite_survives_the_hostile_suite() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let before = sha256ish(&db);
    attack(&format!("sqlite://{}", db.display()), Dialect::Sqlite).await;
    assert_eq!(sha256ish(&db), before, "the SQLite file changed");
    assert!(!std::path::Path::new("/tmp/pwn.db").exists() || std::fs::metadata("/tmp/pwn.db").unwrap().len() == 0);
}

#[tokio::test]
async fn postgres_survives_the_hostile_suite() {
    let Some(db) = TestDb::shop(Server::Postgres).await else { return };
    attack(&db.url, Dialect::Postgres).await;
}

#[tokio::test]
async fn mariadb_survives_the_hostile_suite() {
    let Some(db) = TestDb::shop(Server::Mysql).await else { return };
    attack(&db.url, Dialect::Mysql).await;
}
