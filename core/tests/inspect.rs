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
    // Renamed, transformed, aggregated or passed through a subquery: masked as the source is.
    for sql in [
        "SELECT id, email AS contact FROM customers",
        "SELECT upper(email) AS loud, lower(c.email) FROM customers c",
        "SELECT group_concat(full_name || ' <' || email || '>', '; ') AS everyone FROM customers",
        "WITH a AS (SELECT email AS x FROM customers) SELECT * FROM (SELECT x AS y FROM a) s",
        "SELECT substr(email, 1, 40) AS part FROM customers UNION ALL SELECT full_name FROM customers",
        "SELECT replace(phone, ' ', '') AS digits FROM customers",
    ] {
        let out = run_query(driver.as_ref(), sql, 20, &masker).await.unwrap();
        let text = serde_json::to_string(&out.rows).unwrap();
        assert!(!text.contains("@example.com") && !text.contains("+1"), "{sql}: {text}");
        assert!(!out.masked_columns.is_empty(), "{sql}");
    }
    // What carries no value of the source is left alone.
    let counted = run_query(driver.as_ref(), "SELECT count(email) AS n, max(id) AS top FROM customers", 5, &masker).await.unwrap();
    assert!(counted.masked_columns.is_empty(), "{:?}", counted.masked_columns);
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

/// A view that renames a sensitive column hands its values on under the new name: the view's
/// definition is read from the database and the query that reads the view is masked by it,
/// through a view of the view too.
#[tokio::test]
async fn lineage_follows_views() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::raw_sql(
        "CREATE VIEW people AS SELECT id, full_name AS who, upper(full_name) AS loud FROM customers; \
         CREATE VIEW people_again AS SELECT who AS person, id FROM people;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let driver =
        connect_with(&DatabaseUrl::parse(&format!("sqlite://{}", db.display())).unwrap(), SessionOptions::default()).await.unwrap();
    let masker = Masker { extra_columns: vec!["full_name".into()], ..Default::default() };
    for (sql, masked) in [
        ("SELECT who, loud FROM people ORDER BY id", vec!["who", "loud"]),
        ("SELECT person FROM people_again", vec!["person"]),
        ("SELECT p.person || '!' AS shout FROM people_again p", vec!["shout"]),
    ] {
        let out = run_query(driver.as_ref(), sql, 20, &masker).await.unwrap();
        assert_eq!(out.masked_columns, masked, "{sql}");
        assert!(!serde_json::to_string(&out.rows).unwrap().to_lowercase().contains("lovelace"), "{sql}");
    }
    // The view's other columns are left alone.
    let ids = run_query(driver.as_ref(), "SELECT id FROM people_again ORDER BY id", 20, &masker).await.unwrap();
    assert!(ids.masked_columns.is_empty() && ids.row_count > 0);
}
