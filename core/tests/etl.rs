//! ETL reconciliation end to end on real databases: the same logical rows loaded into
//! SQLite, PostgreSQL and MariaDB with each dialect's own types, compared across dialects;
//! differences planted and found exactly; bad input refused clearly.

mod common;

use dbconsultant::findings::FindingId;
use std::collections::BTreeSet;
use std::path::Path;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::model::{RunStatus, TestRun};
use dbconsultant::{AggregateSpec, ErrorKind, EtlRequest, EtlStrategy};
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

fn ddl(kind: Kind, table: &str) -> String {
    match kind {
        Kind::Postgres => format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, customer varchar(40), qty integer, amount numeric(12,2), price double precision, \
             created_at timestamp(6), paid boolean, code char(8), ref uuid, meta jsonb, payload bytea);"
        ),
        Kind::Mysql => format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, customer varchar(40), qty int, amount decimal(12,2), price double, \
             created_at datetime(6), paid tinyint(1), code char(8), ref uuid, meta json, payload varbinary(64));"
        ),
        Kind::Sqlite => format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, customer TEXT, qty INTEGER, amount NUMERIC(12,2), price REAL, \
             created_at TIMESTAMP, paid BOOLEAN, code CHAR(8), ref TEXT, meta JSON, payload BLOB);"
        ),
    }
}

/// Row `i` in the dialect's literal syntax (the same values everywhere).
fn row(kind: Kind, i: u64) -> String {
    let customer = if i.is_multiple_of(17) { "NULL".to_string() } else { format!("'customer {}'", i % 101) };
    let amount = format!("{}.{:02}", i % 1000, i % 100);
    let price = format!("{}", i as f64 * 1.1);
    let created = format!("'2024-{:02}-{:02} {:02}:{:02}:{:02}.{:03}'", 1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i % 1000);
    let paid = i.is_multiple_of(3);
    let code = format!("'C{}'", i % 50);
    let uuid = format!("{:08x}-0000-4000-8000-{:012x}", i, i * 31);
    let (paid, uuid, meta, payload) = match kind {
        Kind::Postgres => {
            (paid.to_string(), format!("'{uuid}'"), format!("'{{\"n\": {i}, \"tags\": [\"a\", \"b\"]}}'"), format!("'\\x{:04x}'", i))
        }
        Kind::Mysql => {
            ((paid as u8).to_string(), format!("'{uuid}'"), format!("'{{\"n\": {i}, \"tags\": [\"a\", \"b\"]}}'"), format!("X'{:04x}'", i))
        }
        // Uppercase UUIDs, another key order and no spaces in JSON: equal data all the same.
        Kind::Sqlite => (
            (paid as u8).to_string(),
            format!("'{}'", uuid.to_uppercase()),
            format!("'{{\"tags\":[\"a\",\"b\"],\"n\":{i}}}'"),
            format!("X'{:04x}'", i),
        ),
    };
    format!("({i}, {customer}, {}, {amount}, {price}, {created}, {paid}, {code}, {uuid}, {meta}, {payload})", i % 7)
}

fn load_sql(kind: Kind, table: &str, ids: impl Iterator<Item = u64>) -> String {
    let rows: Vec<String> = ids.map(|i| row(kind, i)).collect();
    let mut sql = ddl(kind, table);
    for chunk in rows.chunks(500) {
        sql.push_str(&format!("\nINSERT INTO {table} VALUES {};", chunk.join(", ")));
    }
    sql
}

/// The planted differences: deleted, inserted and changed keys.
const DELETED: [u64; 3] = [5, 1200, 2999];
const INSERTED: [u64; 2] = [5000, 5001];
const CHANGED: [u64; 3] = [10, 1500, 2500];

fn change_sql(table: &str) -> String {
    format!(
        "DELETE FROM {table} WHERE id IN (5, 1200, 2999);\
         UPDATE {table} SET amount = amount + 1 WHERE id = 10;\
         UPDATE {table} SET customer = 'someone else' WHERE id = 1500;\
         UPDATE {table} SET qty = qty + 1, code = 'Z' WHERE id = 2500;"
    )
}

fn extra_rows(kind: Kind, table: &str) -> String {
    format!("INSERT INTO {table} VALUES {};", INSERTED.iter().map(|i| row(kind, *i)).collect::<Vec<_>>().join(", "))
}

const ROWS: u64 = 3000;

/// A database of one kind holding `table`, identical or with the planted differences.
enum Db {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Server(TestDb),
}

impl Db {
    async fn new(kind: Kind, table: &str, with_differences: bool) -> Option<Db> {
        let mut sql = load_sql(kind, table, 1..=ROWS);
        if with_differences {
            sql.push('\n');
            sql.push_str(&change_sql(table));
            sql.push('\n');
            sql.push_str(&extra_rows(kind, table));
        }
        Some(match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("etl.db");
                build_db(&path, &sql).await;
                let url = format!("sqlite://{}", path.display());
                Db::Sqlite { _dir: dir, url }
            }
            Kind::Postgres => Db::Server(TestDb::new(Server::Postgres, &sql).await?),
            Kind::Mysql => Db::Server(TestDb::new(Server::Mysql, &sql).await?),
        })
    }

    fn url(&self) -> &str {
        match self {
            Db::Sqlite { url, .. } => url,
            Db::Server(db) => &db.url,
        }
    }
}

fn request(source: &Db, target: &Db) -> EtlRequest {
    EtlRequest {
        source_url: source.url().into(),
        source_table: "orders".into(),
        target_url: target.url().into(),
        target_table: Some("orders".into()),
        key: vec!["id".into()],
        // Small segments so a 3,000-row table is bisected over several levels.
        segments: 8,
        bisection_threshold: 40,
        ..Default::default()
    }
}

async fn run(req: &EtlRequest) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    consultant(dir.path()).await.validate_etl(req).await.unwrap_or_else(|e| panic!("{e}"))
}

fn keys(values: &[Value]) -> BTreeSet<u64> {
    values.iter().map(|v| v["id"].as_u64().unwrap_or_else(|| v["id"].as_str().unwrap().parse().unwrap())).collect()
}

fn changed_keys(values: &[Value]) -> BTreeSet<u64> {
    values.iter().map(|v| v["key"]["id"].as_u64().unwrap_or_else(|| v["key"]["id"].as_str().unwrap().parse().unwrap())).collect()
}

fn assert_identical(run: &TestRun) {
    let r = &run.etl_results[0];
    assert_eq!(run.status, RunStatus::Passed, "{:#?}", run);
    assert!(r.checksum_match, "{r:#?}");
    assert_eq!((r.source_count, r.target_count), (ROWS, ROWS));
    assert_eq!(r.missing_count + r.extra_count + r.changed_count, 0, "{r:#?}");
    assert_eq!(r.columns.len(), 10, "{:?}", r.columns);
    // Invariant 2: equal data normalizes to equal text in every database, so identical tables
    // are settled by the segment checksums alone — no row crosses the wire.
    assert_eq!((r.rows_fetched, r.within_tolerance), (0, 0), "{r:#?}");
}

fn assert_planted(run: &TestRun) {
    let r = &run.etl_results[0];
    assert_eq!(run.status, RunStatus::Failed);
    assert!(!r.checksum_match);
    assert_eq!((r.source_count, r.target_count), (ROWS, ROWS - 3 + 2));
    assert_eq!(keys(&r.missing_in_target), BTreeSet::from(DELETED), "{r:#?}");
    assert_eq!(keys(&r.extra_in_target), BTreeSet::from(INSERTED), "{r:#?}");
    assert_eq!(changed_keys(&r.changed), BTreeSet::from(CHANGED), "{r:#?}");
    assert_eq!((r.missing_count, r.extra_count, r.changed_count), (3, 2, 3));
    let columns_of = |id: u64| -> BTreeSet<String> {
        let c = r.changed.iter().find(|c| c["key"]["id"].as_u64() == Some(id) || c["key"]["id"].as_str() == Some(&id.to_string())).unwrap();
        c["columns"].as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(columns_of(10), BTreeSet::from(["amount".to_string()]));
    assert_eq!(columns_of(1500), BTreeSet::from(["customer".to_string()]));
    assert_eq!(columns_of(2500), BTreeSet::from(["code".to_string(), "qty".to_string()]));
    assert_eq!(r.changed_columns.get("qty"), Some(&1));
    let amount = &r.changed.iter().find(|c| c["columns"].get("amount").is_some()).unwrap()["columns"]["amount"];
    // Canonical texts: "10.1" between same-type SQLite columns, "10.10" where both sides
    // declare two decimals.
    let number = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
    assert_eq!((number(&amount["source"]), number(&amount["target"])), (10.1, 11.1), "{amount}");
    for rule in [FindingId::EtlMissingRows, FindingId::EtlExtraRows, FindingId::EtlChangedRows] {
        assert!(run.findings.iter().any(|f| f.rule == rule), "{rule} missing in {:#?}", run.findings);
    }
    assert_eq!(run.exit_code(), 1);
}

async fn pair(source: Kind, target: Kind) {
    let Some(src) = Db::new(source, "orders", false).await else { return };
    let Some(same) = Db::new(target, "orders", false).await else { return };
    let identical = run(&request(&src, &same)).await;
    assert_identical(&identical);
    assert_eq!(identical.etl_results[0].strategy, "bisection");
    let Some(changed) = Db::new(target, "orders", true).await else { return };
    assert_planted(&run(&request(&src, &changed)).await);
}

#[tokio::test]
async fn sqlite_to_sqlite() {
    pair(Kind::Sqlite, Kind::Sqlite).await;
}

#[tokio::test]
async fn postgres_to_mysql() {
    pair(Kind::Postgres, Kind::Mysql).await;
}

#[tokio::test]
async fn mysql_to_sqlite() {
    pair(Kind::Mysql, Kind::Sqlite).await;
}

#[tokio::test]
async fn postgres_to_sqlite_and_back() {
    pair(Kind::Postgres, Kind::Sqlite).await;
    pair(Kind::Sqlite, Kind::Postgres).await;
}

#[tokio::test]
async fn mysql_to_postgres() {
    pair(Kind::Mysql, Kind::Postgres).await;
}

/// Both tables in one database: the join path finds exactly what bisection finds.
async fn same_database(kind: Kind) {
    let sql_extra =
        |k: Kind| format!("{}\n{}\n{}", load_sql(k, "orders_copy", 1..=ROWS), change_sql("orders_copy"), extra_rows(k, "orders_copy"));
    let Some(db) = Db::new(kind, "orders", false).await else { return };
    match &db {
        Db::Sqlite { url, .. } => build_db(Path::new(url.trim_start_matches("sqlite://")), &sql_extra(kind)).await,
        Db::Server(t) => t.exec(&sql_extra(kind)).await,
    }
    let mut req = request(&db, &db);
    req.target_table = Some("orders_copy".into());
    let joined = run(&req).await;
    assert_eq!(joined.etl_results[0].strategy, "join");
    req.strategy = EtlStrategy::Bisect;
    let bisected = run(&req).await;
    assert_eq!(bisected.etl_results[0].strategy, "bisection");
    for r in [&joined, &bisected] {
        let e = &r.etl_results[0];
        assert_eq!(keys(&e.missing_in_target), BTreeSet::from(DELETED));
        assert_eq!(keys(&e.extra_in_target), BTreeSet::from(INSERTED));
        assert_eq!(changed_keys(&e.changed), BTreeSet::from(CHANGED));
        assert_eq!((e.missing_count, e.extra_count, e.changed_count), (3, 2, 3));
    }
}

#[tokio::test]
async fn same_database_join_sqlite() {
    same_database(Kind::Sqlite).await;
}

#[tokio::test]
async fn same_database_join_postgres() {
    same_database(Kind::Postgres).await;
}

#[tokio::test]
async fn same_database_join_mysql() {
    same_database(Kind::Mysql).await;
}

async fn sqlite_pair(source_sql: &str, target_sql: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    build_db(&a, source_sql).await;
    build_db(&b, target_sql).await;
    let (a, b) = (format!("sqlite://{}", a.display()), format!("sqlite://{}", b.display()));
    (dir, a, b)
}

fn simple(source: &str, target: &str, table: &str, key: &[&str]) -> EtlRequest {
    EtlRequest {
        source_url: source.into(),
        source_table: table.into(),
        target_url: target.into(),
        key: key.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn encoding_is_unambiguous_and_null_is_not_text() {
    let (_d, a, b) = sqlite_pair(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, y TEXT); INSERT INTO t VALUES (1, 'a', '|b'), (2, NULL, 'v'), (3, '', NULL), (4, 'same', 'same');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, y TEXT); INSERT INTO t VALUES (1, 'a|', 'b'), (2, '<null>', 'v'), (3, NULL, ''), (4, 'same', 'same');",
    )
    .await;
    let run = run(&simple(&a, &b, "t", &["id"])).await;
    let r = &run.etl_results[0];
    assert_eq!(changed_keys(&r.changed), BTreeSet::from([1, 2, 3]), "{r:#?}");
    assert_eq!(r.changed_count, 3);
}

#[tokio::test]
async fn checksum_does_not_depend_on_row_order() {
    let rows: Vec<String> = (1..=500).map(|i| format!("({i}, 'v{i}')")).collect();
    let reversed: Vec<String> = rows.iter().rev().cloned().collect();
    let (_d, a, b) = sqlite_pair(
        &format!("CREATE TABLE t (id INTEGER, v TEXT); INSERT INTO t VALUES {};", rows.join(",")),
        &format!("CREATE TABLE t (id INTEGER, v TEXT); INSERT INTO t VALUES {};", reversed.join(",")),
    )
    .await;
    let mut req = simple(&a, &b, "t", &["id"]);
    req.bisection_threshold = 10;
    let run = run(&req).await;
    assert!(run.etl_results[0].checksum_match, "{:#?}", run.etl_results[0]);
}

#[tokio::test]
async fn composite_and_text_keys() {
    let make = |extra: &str| {
        let rows: Vec<String> = (0..600).map(|i| format!("('r{}', {}, 'Zürich {i}', {})", i % 7, i, i * 3)).collect();
        format!("CREATE TABLE t (region TEXT NOT NULL, n INTEGER NOT NULL, city TEXT, v INTEGER, PRIMARY KEY (region, n)); INSERT INTO t VALUES {}; {extra}", rows.join(","))
    };
    let (_d, a, b) = sqlite_pair(&make(""), &make("DELETE FROM t WHERE region = 'r3' AND n = 3; UPDATE t SET city = 'Genève' WHERE region = 'r1' AND n = 400; INSERT INTO t VALUES ('a', 1, 'x', 1);")).await;
    let mut req = simple(&a, &b, "t", &["region", "n"]);
    req.bisection_threshold = 16;
    req.segments = 4;
    let run = run(&req).await;
    let r = &run.etl_results[0];
    assert_eq!(r.missing_in_target, vec![serde_json::json!({"region": "r3", "n": 3})], "{r:#?}");
    assert_eq!(r.extra_in_target, vec![serde_json::json!({"region": "a", "n": 1})]);
    assert_eq!(r.changed.len(), 1);
    assert_eq!(r.changed[0]["key"], serde_json::json!({"region": "r1", "n": 400}));
    assert_eq!(r.changed[0]["columns"]["city"]["target"], "Genève");
}

#[tokio::test]
async fn text_keys_across_postgres_and_mysql_use_one_byte_order() {
    // Mixed case and accents: PostgreSQL's collation and MariaDB's case-insensitive one
    // order these differently; the segments must still line up.
    let rows: Vec<String> = (0..400).map(|i| format!("('{}{i}', {i})", ["a", "B", "é", "Z", "_"][i % 5])).collect();
    let sql = format!("CREATE TABLE t (k varchar(20) PRIMARY KEY, v int); INSERT INTO t VALUES {};", rows.join(","));
    let Some(pg) = TestDb::new(Server::Postgres, &sql).await else { return };
    let Some(my) = TestDb::new(Server::Mysql, &format!("{sql} UPDATE t SET v = -1 WHERE k = 'é102'; DELETE FROM t WHERE k = 'B1';")).await
    else {
        return;
    };
    let mut req = simple(&pg.url, &my.url, "t", &["k"]);
    req.bisection_threshold = 8;
    req.segments = 4;
    let run = run(&req).await;
    let r = &run.etl_results[0];
    assert_eq!(r.missing_in_target, vec![serde_json::json!({"k": "B1"})], "{r:#?}");
    assert_eq!(r.changed_count, 1);
    assert_eq!(r.changed[0]["key"]["k"], "é102");
    assert_eq!(r.extra_count, 0);
}

#[tokio::test]
async fn not_null_columns_encode_like_nullable_ones_and_mysql_values_need_no_cast() {
    // MariaDB hashes its integers, DECIMALs and DATETIMEs without CAST and its NOT NULL
    // columns without a NULL marker; PostgreSQL's nullable columns must still match value
    // for value, and a NULL must still differ from every printed value, even the empty text.
    let rows = |n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| format!("({i}, {}, {}.{:02}, '2024-03-0{} 10:00:0{}.{:06}', 'x{i}')", i * 7, i, i % 100, i % 9 + 1, i % 10, i * 13))
            .collect()
    };
    let my = format!(
        "CREATE TABLE t (id bigint PRIMARY KEY, qty int NOT NULL, amount decimal(12,2) NOT NULL, at datetime(6) NOT NULL, note varchar(20) NOT NULL); \
         INSERT INTO t VALUES {}; UPDATE t SET note = '' WHERE id = 77;",
        rows(300).join(",")
    );
    let pg = format!(
        "CREATE TABLE t (id bigint PRIMARY KEY, qty int, amount numeric(12,2), at timestamp(6), note varchar(20)); \
         INSERT INTO t VALUES {}; UPDATE t SET note = NULL WHERE id IN (77, 78); UPDATE t SET amount = NULL WHERE id = 5;",
        rows(300).join(",")
    );
    let Some(my) = TestDb::new(Server::Mysql, &my).await else { return };
    let Some(pg) = TestDb::new(Server::Postgres, &pg).await else { return };
    let mut req = simple(&my.url, &pg.url, "t", &["id"]);
    req.bisection_threshold = 8;
    let run = run(&req).await;
    let r = &run.etl_results[0];
    assert_eq!(changed_keys(&r.changed), BTreeSet::from([5, 77, 78]), "{r:#?}");
    assert_eq!((r.missing_count, r.extra_count), (0, 0), "{r:#?}");
}

#[tokio::test]
async fn duplicate_and_null_keys_are_findings_not_matches() {
    let (_d, a, b) = sqlite_pair(
        "CREATE TABLE t (id INTEGER, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');",
        "CREATE TABLE t (id INTEGER, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (2, 'b'), (NULL, 'c');",
    )
    .await;
    let run = run(&simple(&a, &b, "t", &["id"])).await;
    assert_eq!(run.status, RunStatus::Failed);
    let r = &run.etl_results[0];
    assert!(!r.checksum_match);
    assert!(r.error.as_deref().unwrap().contains("not compared one by one"), "{r:#?}");
    let rules: Vec<FindingId> = run.findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&FindingId::EtlDuplicateKey) && rules.contains(&FindingId::EtlNullKey), "{rules:?}");
    assert!(run.findings.iter().any(|f| f.message.contains("2 ×2")), "{:#?}", run.findings);
}

#[tokio::test]
async fn filters_tolerance_rounding_and_aggregates() {
    let (_d, a, b) = sqlite_pair(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, day TEXT, amount NUMERIC(10,2), region TEXT); \
         INSERT INTO t VALUES (1, '2024-01-01', 10.00, 'eu'), (2, '2024-01-01', 20.00, 'us'), (3, '2024-01-02', 30.00, 'eu'), (4, '2024-01-02', 40.00, 'us');",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, day TEXT, amount NUMERIC(10,2), region TEXT); \
         INSERT INTO t VALUES (1, '2024-01-01', 99.00, 'eu'), (3, '2024-01-02', 30.01, 'eu'), (4, '2024-01-02', 40.00, 'us');",
    )
    .await;
    // Only the second day's load is checked: the first day's differences are out of scope.
    let mut req = simple(&a, &b, "t", &["id"]);
    req.where_clause = Some("day = '2024-01-02'".into());
    let strict = run(&req).await;
    assert_eq!(strict.etl_results[0].changed_count, 1);
    assert_eq!((strict.etl_results[0].source_count, strict.etl_results[0].target_count), (2, 2));
    req.column_tolerance.insert("amount".into(), 0.02);
    let tolerant = run(&req).await;
    assert_eq!(tolerant.status, RunStatus::Passed, "{:#?}", tolerant.etl_results);
    assert_eq!(tolerant.etl_results[0].within_tolerance, 1);
    // Aggregates over everything, grouped by region.
    let mut agg = simple(&a, &b, "t", &["id"]);
    agg.aggregates = vec!["sum:amount".parse::<AggregateSpec>().unwrap(), "count:*".parse().unwrap()];
    agg.group_by = Some("region".into());
    agg.tolerance = Some(0.05);
    let run = run(&agg).await;
    let aggs = &run.etl_results[0].aggregates;
    let get = |g: &str, f: &str| aggs.iter().find(|a| a.group.as_deref() == Some(g) && a.function == f).unwrap();
    assert!(!get("eu", "sum").matches, "{aggs:#?}");
    assert_eq!((get("eu", "sum").source.as_deref(), get("eu", "sum").target.as_deref()), (Some("40.00"), Some("129.01")));
    assert!(get("us", "count").source.as_deref() == Some("2") && !get("us", "count").matches);
    assert!(run.findings.iter().any(|f| f.rule == FindingId::EtlAggregateMismatch));
}

#[tokio::test]
async fn column_mapping_and_one_sided_columns() {
    let (_d, a, b) = sqlite_pair(
        "CREATE TABLE src (id INTEGER PRIMARY KEY, total NUMERIC(10,2), note TEXT); INSERT INTO src VALUES (1, 5.5, 'x');",
        "CREATE TABLE dst (id INTEGER PRIMARY KEY, total_eur NUMERIC(10,2), loaded_at TEXT); INSERT INTO dst VALUES (1, 5.50, 'now');",
    )
    .await;
    let mut req = simple(&a, &b, "src", &["id"]);
    req.target_table = Some("dst".into());
    req.column_map.insert("total".into(), "total_eur".into());
    let run = run(&req).await;
    let r = &run.etl_results[0];
    assert_eq!(r.columns, vec!["total→total_eur".to_string()]);
    assert!(r.checksum_match);
    let not_compared: Vec<&str> =
        run.findings.iter().filter(|f| f.rule == FindingId::EtlColumnNotCompared).map(|f| f.message.as_str()).collect();
    assert_eq!(not_compared.len(), 2, "{not_compared:?}");
}

async fn error_of(req: EtlRequest) -> dbconsultant::Error {
    let dir = tempfile::tempdir().unwrap();
    consultant(dir.path()).await.validate_etl(&req).await.expect_err("should fail")
}

#[tokio::test]
async fn bad_input_is_a_clear_error() {
    let (_d, a, b) = sqlite_pair(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB); INSERT INTO t VALUES (1, 'a', X'00');",
        "CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT, b INTEGER); INSERT INTO t VALUES ('1', 'a', 0);",
    )
    .await;
    let e = error_of(simple(&a, &b, "t", &["nope"])).await;
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("key column 'nope' not found in source table t"), "{e}");
    let e = error_of(simple(&a, &b, "missing", &["id"])).await;
    assert!(e.to_string().contains("unknown source table 'missing'"), "{e}");
    let e = error_of(simple(&a, &b, "t", &["id"])).await;
    assert!(e.to_string().contains("key column 'id' is INTEGER on the source and TEXT on the target"), "{e}");
    // No key: the source's primary key; a table without one needs a key.
    let dir = tempfile::tempdir().unwrap();
    let run = consultant(dir.path()).await.validate_etl(&simple(&a, &a, "t", &[])).await.unwrap();
    assert!(run.etl_results[0].checksum_match, "keyed by the primary key id");
    let (_d2, c, _) = sqlite_pair("CREATE TABLE nokey (v TEXT); INSERT INTO nokey VALUES ('a');", "CREATE TABLE x (v TEXT);").await;
    let e = error_of(simple(&c, &c, "nokey", &[])).await;
    assert!(e.to_string().contains("source table nokey has no primary key: give the key column"), "{e}");
    let mut uncomparable = simple(&a, &b, "t", &["v"]);
    uncomparable.columns = vec!["b".into()];
    let e = error_of(uncomparable).await;
    assert!(e.to_string().contains("column 'b' cannot be compared: BLOB on the source, INTEGER on the target"), "{e}");
    let mut filter = simple(&a, &a, "t", &["id"]);
    filter.where_clause = Some("1=1; DROP TABLE t".into());
    let e = error_of(filter).await;
    assert!(e.to_string().contains("must be a single condition"), "{e}");
    let e = error_of(simple(&a, "sqlite:///nonexistent/dir/x.db", "t", &["id"])).await;
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
}

#[tokio::test]
async fn unreachable_server_is_a_connection_error() {
    let (_d, a, _b) = sqlite_pair("CREATE TABLE t (id INTEGER PRIMARY KEY);", "CREATE TABLE t (id INTEGER PRIMARY KEY);").await;
    let e = error_of(simple(&a, "postgres://u:secret@127.0.0.1:1/db", "t", &["id"])).await;
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[tokio::test]
async fn target_is_never_modified() {
    let (dir, a, b) = sqlite_pair(&load_sql(Kind::Sqlite, "orders", 1..=300), &load_sql(Kind::Sqlite, "orders", 2..=301)).await;
    let before = (sha256ish(&dir.path().join("a.db")), sha256ish(&dir.path().join("b.db")));
    let mut req = simple(&a, &b, "orders", &["id"]);
    req.bisection_threshold = 8;
    let run = run(&req).await;
    assert_eq!((run.etl_results[0].missing_count, run.etl_results[0].extra_count), (1, 1));
    assert_eq!(before, (sha256ish(&dir.path().join("a.db")), sha256ish(&dir.path().join("b.db"))));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
        /// Whatever rows are deleted, inserted or changed, the reported keys are exactly the
        /// planted ones, and a table compared with itself has no difference.
        #[test]
        fn reported_differences_are_exactly_the_planted_ones(
            size in 50u64..400,
            deleted in proptest::collection::btree_set(1u64..400, 0..12),
            changed in proptest::collection::btree_set(1u64..400, 0..12),
            inserted in proptest::collection::btree_set(1000u64..1100, 0..6),
        ) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let deleted: BTreeSet<u64> = deleted.into_iter().filter(|k| *k <= size).collect();
                let changed: BTreeSet<u64> = changed.into_iter().filter(|k| *k <= size && !deleted.contains(k)).collect();
                let mut target = load_sql(Kind::Sqlite, "orders", (1..=size).filter(|k| !deleted.contains(k)).chain(inserted.iter().copied()));
                for k in &changed {
                    target.push_str(&format!("UPDATE orders SET qty = qty + 1 WHERE id = {k};"));
                }
                let (_d, a, b) = sqlite_pair(&load_sql(Kind::Sqlite, "orders", 1..=size), &target).await;
                let mut req = simple(&a, &b, "orders", &["id"]);
                req.bisection_threshold = 7;
                req.segments = 3;
                req.sample_limit = Some(1000);
                let r = run(&req).await.etl_results.remove(0);
                assert_eq!(keys(&r.missing_in_target), deleted);
                assert_eq!(keys(&r.extra_in_target), inserted);
                assert_eq!(changed_keys(&r.changed), changed);
                let same = run(&simple(&a, &a, "orders", &["id"])).await.etl_results.remove(0);
                assert!(same.checksum_match && same.missing_count + same.extra_count + same.changed_count == 0);
            });
        }
    }
}

#[tokio::test]
async fn uuid_keys_native_on_postgres_text_on_sqlite_and_per_side_filters() {
    let uuid = |i: u32| format!("{i:08x}-1111-4222-8333-{:012x}", i * 7);
    let pg_rows: Vec<String> = (1..=300).map(|i| format!("('{}', {i}, 'day{}')", uuid(i), i % 3)).collect();
    let Some(pg) = TestDb::new(
        Server::Postgres,
        &format!("CREATE TABLE t (k uuid PRIMARY KEY, v int, day text); INSERT INTO t VALUES {};", pg_rows.join(",")),
    )
    .await
    else {
        return;
    };
    // SQLite keeps the keys as uppercase text, has one row less and one changed value, and
    // its load carries its own batch column.
    let lite_rows: Vec<String> = (1..=300)
        .filter(|i| *i != 150)
        .map(|i| format!("('{}', {}, 'batch-{}')", uuid(i).to_uppercase(), if i == 77 { -1 } else { i as i64 }, i % 3))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    build_db(&path, &format!("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER, day TEXT); INSERT INTO t VALUES {};", lite_rows.join(",")))
        .await;
    let mut req = simple(&pg.url, &format!("sqlite://{}", path.display()), "t", &["k"]);
    req.columns = vec!["v".into()];
    req.bisection_threshold = 16;
    req.segments = 4;
    let run = run(&req).await;
    let r = &run.etl_results[0];
    assert_eq!(r.missing_in_target, vec![serde_json::json!({"k": uuid(150)})], "{r:#?}");
    assert_eq!(r.changed_count, 1);
    assert_eq!(r.changed[0]["key"]["k"], uuid(77));
    assert_eq!(r.extra_count, 0);
    // One filter per side: the same load selected by each side's own column.
    req.source_where = Some("day = 'day1'".into());
    req.target_where = Some("day = 'batch-1'".into());
    let filtered = run_again(&req).await;
    let f = &filtered.etl_results[0];
    assert_eq!((f.source_count, f.target_count), (100, 100), "{f:#?}");
    assert_eq!(f.missing_count + f.extra_count + f.changed_count, 0, "150 and 77 are not in batch 1: {f:#?}");
}

async fn run_again(req: &EtlRequest) -> TestRun {
    run(req).await
}

#[tokio::test]
async fn a_query_past_the_statement_timeout_is_an_error_not_a_match() {
    let Some(pg) = TestDb::new(Server::Postgres, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');").await
    else {
        return;
    };
    let mut req = simple(&pg.url, &pg.url, "t", &["id"]);
    req.where_clause = Some("pg_sleep(3) IS NOT NULL".into());
    req.statement_timeout_ms = 300;
    let started = std::time::Instant::now();
    let e = error_of(req).await;
    assert!(e.to_string().contains("statement timeout"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "the server did not enforce the timeout");
}
