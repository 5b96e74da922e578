//! ETL bisection over a table large enough to be checksummed by several queries at once on
//! each database (`jobs`): 240,000 rows with differences everywhere (the first and last keys,
//! keys below and above the other side's range, one every few thousand rows in between, so
//! every share and every seam between shares holds some), PostgreSQL → MariaDB and
//! PostgreSQL → PostgreSQL. Every job count finds exactly the planted differences.

mod common;

use std::collections::BTreeSet;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::model::TestRun;
use dbconsultant::{EtlRequest, EtlStrategy};
use serde_json::Value;

const ROWS: i64 = 240_000;

fn load(server: Server) -> String {
    let (series, text) = match server {
        Server::Postgres => (format!("generate_series(1, {ROWS}) AS s(g)"), "'v' || g"),
        _ => (format!("(SELECT seq AS g FROM seq_1_to_{ROWS}) s"), "concat('v', g)"),
    };
    // Even keys: the inserted rows take odd ones, below, between and above.
    format!("CREATE TABLE t (id bigint PRIMARY KEY, v varchar(40), n integer); INSERT INTO t SELECT g * 2, {text}, g % 1000 FROM {series};")
}

/// Changed keys, deleted keys, inserted keys.
fn planted() -> (BTreeSet<i64>, BTreeSet<i64>, BTreeSet<i64>) {
    let changed: BTreeSet<i64> = (0..ROWS).step_by(7_919).map(|g| (g + 1) * 2).chain([ROWS * 2]).collect();
    let deleted: BTreeSet<i64> = (5_000..ROWS).step_by(10_007).map(|g| g * 2).filter(|k| !changed.contains(k)).collect();
    let inserted: BTreeSet<i64> = [-7, 1, 3, 120_001, 333_333, ROWS * 2 + 1, ROWS * 4 + 1].into();
    (changed, deleted, inserted)
}

fn differ(changed: &BTreeSet<i64>, deleted: &BTreeSet<i64>, inserted: &BTreeSet<i64>) -> String {
    let list = |keys: &BTreeSet<i64>| keys.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let rows: Vec<String> = inserted.iter().map(|k| format!("({k}, 'inserted', 1)")).collect();
    format!(
        "UPDATE t SET n = n + 1 WHERE id IN ({}); DELETE FROM t WHERE id IN ({}); INSERT INTO t VALUES {};",
        list(changed),
        list(deleted),
        rows.join(", ")
    )
}

fn key_set(values: &[Value], pick: impl Fn(&Value) -> &Value) -> BTreeSet<i64> {
    values.iter().map(|v| pick(v)["id"].as_i64().unwrap_or_else(|| pick(v)["id"].as_str().unwrap().parse().unwrap())).collect()
}

async fn compare(source: &TestDb, target: &TestDb, jobs: usize) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    let req = EtlRequest {
        source_url: source.url.clone(),
        source_table: "t".into(),
        target_url: target.url.clone(),
        key: vec!["id".into()],
        strategy: EtlStrategy::Bisect,
        jobs: Some(jobs),
        sample_limit: Some(1_000),
        ..Default::default()
    };
    consultant(dir.path()).await.validate_etl(&req).await.unwrap_or_else(|e| panic!("jobs {jobs}: {e}"))
}

async fn every_job_count_finds_exactly_the_planted_differences(target_server: Server) {
    let Some(source) = TestDb::new(Server::Postgres, &load(Server::Postgres)).await else { return };
    let (changed, deleted, inserted) = planted();
    let Some(target) = TestDb::new(target_server, &format!("{} {}", load(target_server), differ(&changed, &deleted, &inserted))).await
    else {
        return;
    };
    let Some(same) = TestDb::new(target_server, &load(target_server)).await else { return };
    for jobs in [1, 3, 4] {
        let run = compare(&source, &target, jobs).await;
        let r = &run.etl_results[0];
        assert_eq!(key_set(&r.missing_in_target, |v| v), deleted, "jobs {jobs}: missing");
        assert_eq!(key_set(&r.extra_in_target, |v| v), inserted, "jobs {jobs}: extra");
        assert_eq!(key_set(&r.changed, |v| &v["key"]), changed, "jobs {jobs}: changed");
        assert_eq!((r.source_count, r.target_count), (ROWS as u64, ROWS as u64 - deleted.len() as u64 + inserted.len() as u64));
        let identical = compare(&source, &same, jobs).await;
        let r = &identical.etl_results[0];
        assert!(r.checksum_match && r.missing_count + r.extra_count + r.changed_count == 0, "jobs {jobs}: {r:#?}");
        assert_eq!(r.rows_fetched, 0, "jobs {jobs}: identical tables are settled by checksums alone");
    }
}

#[tokio::test]
async fn postgres_to_mariadb_in_shares() {
    every_job_count_finds_exactly_the_planted_differences(Server::Mysql).await;
}

#[tokio::test]
async fn postgres_to_postgres_in_shares() {
    every_job_count_finds_exactly_the_planted_differences(Server::Postgres).await;
}
