//! EXPLAIN on every dialect into one plan shape: full scans and index lookups recognised,
//! ANALYZE only for queries and never persisting anything, writes explained but not run.

mod common;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::driver::connect;
use dbconsultant::findings::FindingId;
use dbconsultant::model::Access;
use dbconsultant::url::DatabaseUrl;

fn table_sql(rows: u32) -> String {
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, {}, {})", i % 500, i % 7)).collect();
    let mut sql = String::from("CREATE TABLE items (id INTEGER PRIMARY KEY, indexed_col INTEGER, plain_col INTEGER);\nCREATE INDEX idx_items_indexed ON items (indexed_col);\n");
    for chunk in values.chunks(1000) {
        sql.push_str(&format!("INSERT INTO items VALUES {};\n", chunk.join(", ")));
    }
    sql
}

async fn check(url: &str, analyzes: bool) {
    let driver = connect(&DatabaseUrl::parse(url).unwrap()).await.unwrap();
    let full = driver.explain("SELECT * FROM items WHERE plain_col = 3", false).await.unwrap();
    let scans: Vec<_> = full.root.nodes().into_iter().filter(|n| n.relation.as_deref() == Some("items")).collect();
    assert!(scans.iter().any(|n| n.access == Access::FullScan), "{full:#?}");
    assert!(!full.root.uses_index(), "{full:#?}");
    let lookup = driver.explain("SELECT * FROM items WHERE indexed_col = 3", true).await.unwrap();
    let node =
        lookup.root.nodes().into_iter().find(|n| n.index.as_deref() == Some("idx_items_indexed")).unwrap_or_else(|| panic!("{lookup:#?}"));
    assert_eq!(node.relation.as_deref(), Some("items"));
    assert_eq!(lookup.analyzed, analyzes);
    if analyzes {
        assert!(lookup.execution_ms.is_some() || node.time_ms.is_some(), "{lookup:#?}");
        assert_eq!(node.actual_rows, Some(40.0), "{lookup:#?}");
    }
    // A write is explained, never run; asking to run it is refused.
    driver.explain("UPDATE items SET plain_col = 0 WHERE id = 1", false).await.unwrap();
    let refused = driver.explain("DELETE FROM items", true).await.unwrap_err();
    assert!(refused.to_string().contains("never executed"), "{refused}");
    let refused = driver.explain("SELECT 1; DROP TABLE items", false).await.unwrap_err();
    assert!(refused.to_string().contains("one statement"), "{refused}");
    let rows = driver.query("SELECT count(*) AS n FROM items WHERE plain_col = 0", 1).await.unwrap().scalar_u64();
    assert_eq!(rows, Some(2857), "the explained UPDATE must not have run");
}

#[tokio::test]
async fn sqlite_plans() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.db");
    build_db(&path, &format!("{} ANALYZE;", table_sql(20_000))).await;
    check(&format!("sqlite://{}", path.display()), false).await;
}

#[tokio::test]
async fn postgres_plans() {
    let Some(db) = TestDb::new(Server::Postgres, &format!("{} ANALYZE items;", table_sql(20_000))).await else { return };
    check(&db.url, true).await;
}

#[tokio::test]
async fn mariadb_plans() {
    let Some(db) = TestDb::new(Server::Mysql, &format!("{} ANALYZE TABLE items;", table_sql(20_000))).await else { return };
    check(&db.url, true).await;
}

mod recommendations {
    use super::*;
    use dbconsultant::checks::perf::{analyze::analyze, verify::verify};
    use dbconsultant::Dialect;

    /// 200,000 events: `user_id` unindexed and selective, `kind` indexed, `payload` indexed.
    fn events_sql() -> String {
        "CREATE EXTENSION IF NOT EXISTS hypopg;
         CREATE TABLE events (id bigint PRIMARY KEY, user_id int NOT NULL, kind int NOT NULL, payload text NOT NULL);
         INSERT INTO events SELECT g, g % 20000, g % 5, 'p' || g FROM generate_series(1, 200000) g;
         CREATE INDEX idx_events_kind ON events (kind);
         CREATE INDEX idx_events_payload ON events (payload);
         ANALYZE events;"
            .into()
    }

    #[tokio::test]
    async fn postgres_index_recommendations_are_verified_with_hypopg() {
        let Some(db) = TestDb::new(Server::Postgres, &events_sql()).await else { return };
        let driver = connect(&DatabaseUrl::parse(&db.url).unwrap()).await.unwrap();
        let schema = driver.introspect().await.unwrap();

        let sql = "SELECT * FROM events WHERE user_id = 42";
        let plan = driver.explain(sql, true).await.unwrap();
        let found = analyze(sql, Dialect::Postgres, &plan, &schema, 10_000);
        assert_eq!(found.recommendations.len(), 1, "{found:#?}");
        let r = &found.recommendations[0];
        assert_eq!(r.create_index, r#"CREATE INDEX "idx_events_user_id" ON "events" ("user_id")"#);
        assert!(found.findings.iter().any(|f| f.rule == FindingId::FullScanOnLargeTable));
        let v = verify(driver.as_ref(), sql, &plan, r).await.unwrap().expect("hypopg is installed by scripts/test.sh");
        assert!(v.used, "{v:#?}");
        assert!(v.cost_after.unwrap() * 10.0 <= v.cost_before.unwrap(), "{v:#?}");
        // Nothing was created: the index exists only as a hypothesis.
        assert!(!driver.introspect().await.unwrap().tables["events"].indexes.iter().any(|i| i.columns == ["user_id"]));

        // Served by an index already (or not selective enough to want one): no recommendation.
        for served in ["SELECT * FROM events WHERE id = 7", "SELECT count(*) FROM events WHERE kind = 3"] {
            let plan = driver.explain(served, false).await.unwrap();
            assert!(analyze(served, Dialect::Postgres, &plan, &schema, 10_000).recommendations.is_empty(), "{served}");
        }
        // A function around an indexed column hides the index.
        let wrapped = "SELECT * FROM events WHERE lower(payload) = 'p42'";
        let plan = driver.explain(wrapped, false).await.unwrap();
        let found = analyze(wrapped, Dialect::Postgres, &plan, &schema, 10_000);
        assert!(found.findings.iter().any(|f| f.rule == FindingId::FunctionOnIndexedColumn), "{found:#?}");
        assert!(found.recommendations.is_empty(), "{found:#?}");
    }

    #[tokio::test]
    async fn hypothetical_indexes_need_postgres_with_hypopg() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        build_db(&path, "CREATE TABLE t (a INTEGER);").await;
        let driver = connect(&DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap()).await.unwrap();
        assert!(driver.explain_with_hypothetical_index("SELECT * FROM t WHERE a = 1", "CREATE INDEX i ON t (a)").await.unwrap().is_none());
    }
}
