//! Performance profiling scenario on PostgreSQL: a 1,000,000-row table and a workload of 20
//! queries, 5 of which need a missing index. The profiler must recommend exactly those 5
//! indexes, each verified by hypopg, with no recommendation for the 15 queries an index
//! already serves (or that an index would not help); each recommended index, really created
//! in the sandbox, must cut the planner's cost at least tenfold.

mod common;

use common::servers::{Server, TestDb};
use dbconsultant::driver::{connect, SandboxOptions};
use dbconsultant::model::RunStatus;
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{MigrationSource, PerfRequest};

const SETUP: &str = "CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status int NOT NULL, region int NOT NULL,
  created_at timestamp NOT NULL, amount numeric(12,2) NOT NULL, sku text NOT NULL, note text NOT NULL);
INSERT INTO orders SELECT g, g % 50000, g % 5, g % 1000, timestamp '2024-01-01' + g * interval '1 minute',
  (g % 100000) / 100.0, 'sku-' || (g % 200000), 'n-' || (g % 100000) FROM generate_series(1, 1000000) g;
CREATE INDEX idx_orders_customer ON orders (customer_id);
CREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO regions SELECT g, 'r' || g FROM generate_series(1, 100) g;
ANALYZE orders; ANALYZE regions;";

const NEED_INDEX: [(&str, &str); 5] = [
    ("SELECT * FROM orders WHERE sku = 'sku-123'", r#"CREATE INDEX "idx_orders_sku" ON "orders" ("sku")"#),
    (
        "SELECT id, amount FROM orders WHERE created_at BETWEEN '2024-03-01 00:00' AND '2024-03-01 01:00'",
        r#"CREATE INDEX "idx_orders_created_at" ON "orders" ("created_at")"#,
    ),
    (
        "SELECT count(*) FROM orders WHERE region = 7 AND status = 2",
        r#"CREATE INDEX "idx_orders_region_status" ON "orders" ("region", "status")"#,
    ),
    ("SELECT * FROM orders WHERE note = 'n-55'", r#"CREATE INDEX "idx_orders_note" ON "orders" ("note")"#),
    ("SELECT id FROM orders WHERE amount = 123.45", r#"CREATE INDEX "idx_orders_amount" ON "orders" ("amount")"#),
];

const SERVED: [&str; 15] = [
    "SELECT * FROM orders WHERE id = 5",
    "SELECT * FROM orders WHERE id BETWEEN 1 AND 100",
    "SELECT * FROM orders WHERE customer_id = 42",
    "SELECT * FROM orders WHERE customer_id IN (1, 2, 3)",
    "SELECT count(*) FROM orders",
    "SELECT * FROM orders WHERE status = 3",
    "SELECT max(id) FROM orders",
    "SELECT * FROM orders ORDER BY id LIMIT 10",
    "SELECT count(*) FROM orders WHERE customer_id = 7",
    "SELECT status, count(*) FROM orders GROUP BY status",
    "SELECT * FROM regions WHERE name = 'r5'",
    "SELECT * FROM orders WHERE id > 999990",
    "SELECT sum(amount) FROM orders WHERE customer_id = 9",
    "SELECT count(*) FROM orders WHERE region > 0",
    "SELECT o.id, r.name FROM orders o JOIN regions r ON r.id = o.region WHERE o.customer_id = 5",
];

#[tokio::test]
async fn recommends_exactly_the_missing_indexes_and_they_work() {
    let Some(db) = TestDb::new(Server::Postgres, SETUP).await else { return };
    let mut queries: Vec<String> = NEED_INDEX.iter().map(|(q, _)| q.to_string()).collect();
    queries.extend(SERVED.iter().map(|q| q.to_string()));
    let request = PerfRequest { database_url: db.url.clone(), queries, runs: 2, ..Default::default() };
    let dir = tempfile::tempdir().unwrap();
    let run = common::consultant(dir.path()).await.profile_performance(&request).await.unwrap();
    assert_eq!(run.performance_metrics.len(), 20);
    assert_eq!(run.status, RunStatus::Failed, "full scans of a large table are high findings");
    for m in &run.performance_metrics {
        assert!(m.error.is_none(), "{m:#?}");
        assert_eq!(m.query_hash.len(), 16);
        let timing = m.timing.as_ref().unwrap();
        assert!(timing.min_ms <= timing.median_ms && timing.median_ms <= timing.p95_ms);
    }
    let recommended: Vec<(&str, &str)> =
        run.performance_metrics.iter().filter_map(|m| m.recommendation.as_deref().map(|r| (m.query.as_str(), r))).collect();
    assert_eq!(
        recommended,
        NEED_INDEX.to_vec(),
        "{:#?}",
        run.performance_metrics.iter().map(|m| (&m.query, &m.recommendations, &m.findings)).collect::<Vec<_>>()
    );
    for m in run.performance_metrics.iter().filter(|m| m.recommendation.is_some()) {
        let v = &m.recommendations[0]["verification"];
        assert_eq!((v["method"].as_str(), v["used"].as_bool()), (Some("hypopg"), Some(true)), "{m:#?}");
    }
    // Each index, really created in the sandbox (a shadow holding every row, sample_rows
    // above the table's size): the planner's cost drops at least tenfold.
    let driver = connect(&DatabaseUrl::parse(&db.url).unwrap()).await.unwrap();
    let mut sandbox = driver.open_sandbox(&SandboxOptions { sample_rows: 10_000_000, ..Default::default() }).await.unwrap();
    for (query, create) in NEED_INDEX {
        let before = sandbox.explain(query).await.unwrap().total_cost.unwrap();
        let script = dbconsultant::sql::parse_script(&[MigrationSource::inline(create)], dbconsultant::Dialect::Postgres);
        sandbox.execute(&script.statements[0]).await.unwrap();
        let after = sandbox.explain(query).await.unwrap().total_cost.unwrap();
        assert!(after * 10.0 <= before, "{query}: cost {before} → {after}");
    }
    sandbox.close().await.unwrap();
    assert!(
        !driver.introspect().await.unwrap().tables["orders"].indexes.iter().any(|i| i.name == "idx_orders_sku"),
        "the target keeps its indexes"
    );
    // Stored with the run.
    let stored = common::consultant(dir.path()).await.test_run(&run.test_run_id).await.unwrap();
    assert_eq!(stored.performance_metrics, run.performance_metrics);
}

async fn from_stats(server: Server, setup: &str, run_sql: &str, needle: &str) {
    let Some(db) = TestDb::new(server, setup).await else { return };
    for _ in 0..3 {
        db.exec(run_sql).await;
    }
    let mut request = PerfRequest { database_url: db.url.clone(), from_stats: true, runs: 2, ..Default::default() };
    // MariaDB verifies in a scratch database on its own server.
    request.config.sandbox.allow_scratch_on_target = true;
    let dir = tempfile::tempdir().unwrap();
    let run = common::consultant(dir.path()).await.profile_performance(&request).await.unwrap();
    let m = run
        .performance_metrics
        .iter()
        .find(|m| m.query.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not among {:#?}", run.performance_metrics.iter().map(|m| &m.query).collect::<Vec<_>>()));
    assert!(m.stats.as_ref().unwrap()["calls"].as_u64().unwrap() >= 3, "{m:#?}");
    assert!(m.error.is_none(), "{m:#?}");
    assert!(!m.read_only && m.timing.is_none(), "statements with placeholders are explained, never run: {m:#?}");
    assert_eq!(m.recommendation.as_deref().map(|r| r.contains("(\"v\")") || r.contains("(`v`)")), Some(true), "{m:#?}");
}

#[tokio::test]
async fn from_stats_on_postgres_reads_pg_stat_statements() {
    from_stats(
        Server::Postgres,
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg;
         CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO t SELECT g, g % 5000 FROM generate_series(1, 50000) g; ANALYZE t;",
        "SELECT * FROM t WHERE v = 17",
        "FROM t WHERE v = $1",
    )
    .await;
}

#[tokio::test]
async fn from_stats_on_mariadb_reads_performance_schema() {
    let rows: Vec<String> = (1..=20000).map(|g| format!("({g}, {})", g % 2000)).collect();
    from_stats(
        Server::Mysql,
        &format!("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL); INSERT INTO t VALUES {}; ANALYZE TABLE t;", rows.join(",")),
        "SELECT * FROM t WHERE v = 17",
        "WHERE `v` = ?",
    )
    .await;
}

#[tokio::test]
async fn from_stats_on_sqlite_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    common::build_db(&path, "CREATE TABLE t (a INTEGER);").await;
    let request = PerfRequest { database_url: format!("sqlite://{}", path.display()), from_stats: true, ..Default::default() };
    let e = common::consultant(dir.path()).await.profile_performance(&request).await.unwrap_err();
    assert!(e.to_string().contains("sqlite keeps no statement statistics"), "{e}");
}
