//! Inspection on SQLite (the MCP server's read path; the server dialects are covered by the
//! MCP and SDK tests): exact truncation, masking, refusals, and a runaway query interrupted
//! so its connection serves the next call.

mod common;

use std::time::{Duration, Instant};

use common::*;
use dbconsultant::driver::{connect_with, SessionOptions};
use dbconsultant::inspect::{describe_table, run_query};
use dbconsultant::masking::Masker;
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{Error, ErrorKind};

#[tokio::test]
async fn run_query_caps_exactly_masks_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let driver =
        connect_with(&DatabaseUrl::parse(&format!("sqlite://{}", db.display())).unwrap(), SessionOptions::default()).await.unwrap();
    let masker = Masker::default();
    let four = run_query(driver.as_ref(), "SELECT id FROM orders ORDER BY id", 4, &masker).await.unwrap();
    assert_eq!((four.row_count, four.truncated), (4, true));
    let five = run_query(driver.as_ref(), "SELECT id FROM orders ORDER BY id", 5, &masker).await.unwrap();
    assert_eq!((five.row_count, five.truncated), (5, false));
    let customers = run_query(driver.as_ref(), "SELECT email, phone, full_name FROM customers", 10, &masker).await.unwrap();
    assert_eq!(customers.masked_columns, ["email", "phone"]);
    assert!(!serde_json::to_string(&customers.rows).unwrap().contains("@example.com"));
    let refused = run_query(driver.as_ref(), "ATTACH DATABASE '/tmp/x.db' AS x", 10, &masker).await.unwrap_err();
    assert!(matches!(refused, Error::Refused(_)) && refused.kind() == ErrorKind::InvalidInput, "{refused}");
    let described = describe_table(driver.as_ref(), "order_items").await.unwrap();
    assert_eq!(described.primary_key, ["order_id", "product_id"]);
    assert_eq!(described.foreign_keys.len(), 2);
}

#[tokio::test]
async fn a_runaway_sqlite_query_is_interrupted_and_frees_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let session = SessionOptions { statement_timeout_ms: 300, ..SessionOptions::default() };
    let driver = connect_with(&DatabaseUrl::parse(&format!("sqlite://{}", db.display())).unwrap(), session).await.unwrap();
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    for _ in 0..3 {
        let started = Instant::now();
        let err = driver.query(endless, 1).await.unwrap_err();
        assert!(err.to_string().contains("statement timeout (300 ms)"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    // Abandoned by the caller (a dropped future) instead of timed out: interrupted as well.
    let _ = tokio::time::timeout(Duration::from_millis(100), driver.query(endless, 1)).await;
    let _ = tokio::time::timeout(Duration::from_millis(100), driver.query(endless, 1)).await;
    let started = Instant::now();
    let one = driver.query("SELECT 1 AS one", 1).await.unwrap();
    assert_eq!(one.scalar_u64(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(2), "both pool connections are free again");
}
