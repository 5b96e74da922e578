//! Integrity checks of many small tables: they are counted a few hundred checks per query and
//! run several queries at once. The answers must be exactly those of checking one table at a
//! time: the same counts, samples and errors whatever `jobs` is, every planted violation
//! found wherever its table falls among the combined queries, and a check that fails at run
//! time costing only itself its answer.

mod common;

use std::collections::BTreeMap;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::model::{IntegrityType, RunStatus, TestRun};
use dbconsultant::{ErrorKind, IntegrityRequest, RulesFile};

/// Tables in the generated schema: with ~5 checks each, several combined queries.
const TABLES: usize = 150;

fn name(i: usize) -> String {
    format!("s{i:03}")
}

/// `TABLES` small tables, each with a primary key, a unique, a NOT NULL and a CHECK, and a
/// foreign key to the first; rows in a few, violations planted in three far apart.
fn schema(server: Server) -> String {
    let mut sql = String::new();
    if server == Server::Mysql {
        sql.push_str("SET SESSION foreign_key_checks = 0; SET SESSION check_constraint_checks = 0;\n");
    }
    for i in 1..=TABLES {
        let t = name(i);
        let fk = if i > 1 { format!(", CONSTRAINT {t}_ref_fk FOREIGN KEY (ref) REFERENCES s001 (id)") } else { String::new() };
        sql.push_str(&format!(
            "CREATE TABLE {t} (id int PRIMARY KEY, code varchar(20) NOT NULL, ref int, qty int, \
             CONSTRAINT {t}_code_key UNIQUE (code), CONSTRAINT {t}_qty_check CHECK (qty >= 0){fk});\n"
        ));
    }
    if server == Server::Postgres {
        // PostgreSQL enforces on insert: the planted tables' constraints come back NOT VALID.
        for t in ["s007", "s080", "s149"] {
            sql.push_str(&format!("ALTER TABLE {t} DROP CONSTRAINT {t}_ref_fk, DROP CONSTRAINT {t}_qty_check;\n"));
        }
    }
    sql.push_str("INSERT INTO s001 (id, code, ref, qty) VALUES (1, 'a', NULL, 1), (2, 'b', 1, 2);\n");
    // s007: two orphans; s080: three negative quantities; s149: one orphan and one negative.
    sql.push_str("INSERT INTO s007 (id, code, ref, qty) VALUES (1, 'a', 1, 0), (2, 'b', 40, 0), (3, 'c', 41, 0), (4, 'd', NULL, 0);\n");
    sql.push_str("INSERT INTO s080 (id, code, ref, qty) VALUES (1, 'a', 2, -1), (2, 'b', 2, -2), (3, 'c', 2, -3), (4, 'd', 2, 4);\n");
    sql.push_str("INSERT INTO s149 (id, code, ref, qty) VALUES (1, 'a', 9, -5), (2, 'b', 1, 5);\n");
    if server == Server::Mysql {
        sql.push_str("SET SESSION foreign_key_checks = 1; SET SESSION check_constraint_checks = 1;\n");
    } else {
        for t in ["s007", "s080", "s149"] {
            sql.push_str(&format!(
                "ALTER TABLE {t} ADD CONSTRAINT {t}_ref_fk FOREIGN KEY (ref) REFERENCES s001 (id) NOT VALID, \
                 ADD CONSTRAINT {t}_qty_check CHECK (qty >= 0) NOT VALID;\n"
            ));
        }
    }
    sql
}

fn counts(run: &TestRun) -> BTreeMap<(String, String), (u64, Option<String>, usize)> {
    run.integrity_results
        .iter()
        .map(|r| ((r.table_name.clone(), r.constraint.clone()), (r.failure_count, r.error.clone(), r.sample_records.len())))
        .collect()
}

async fn check(url: &str, jobs: Option<u32>) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    let c = consultant(dir.path()).await;
    let req = IntegrityRequest { database_url: url.into(), jobs, ..Default::default() };
    let run = c.check_integrity(&req).await.unwrap();
    assert_eq!(c.test_run(&run.test_run_id).await.unwrap(), run, "stored whole");
    run
}

fn failing(run: &TestRun) -> Vec<(String, String, u64)> {
    run.integrity_results
        .iter()
        .filter(|r| r.failure_count > 0)
        .map(|r| (r.table_name.clone(), r.constraint.clone(), r.failure_count))
        .collect()
}

async fn planted_violations_found_whatever_the_jobs(server: Server) {
    let Some(db) = TestDb::new(server, &schema(server)).await else { return };
    let one = check(&db.url, Some(1)).await;
    let many = check(&db.url, Some(6)).await;
    let default = check(&db.url, None).await;
    assert_eq!(one.inputs.len(), TABLES);
    assert_eq!(
        failing(&one),
        [
            ("s007".to_string(), "s007_ref_fk".to_string(), 2),
            ("s080".to_string(), "s080_qty_check".to_string(), 3),
            ("s149".to_string(), "s149_qty_check".to_string(), 1),
            ("s149".to_string(), "s149_ref_fk".to_string(), 1),
        ]
    );
    assert!(one.integrity_results.iter().all(|r| r.error.is_none()), "{:?}", one.integrity_results.iter().find(|r| r.error.is_some()));
    let orphans = one.integrity_results.iter().find(|r| r.constraint == "s007_ref_fk").unwrap();
    let refs: Vec<i64> = orphans.sample_records.iter().map(|r| r["ref"].as_i64().unwrap()).collect();
    assert_eq!(refs, [40, 41], "the orphans themselves are sampled");
    // Every table's key, unique, NOT NULL, CHECK and (but the first) foreign key.
    assert_eq!(one.integrity_results.len(), TABLES * 6 - 1);
    assert_eq!(counts(&one), counts(&many), "jobs = 1 and jobs = 6 answer alike");
    assert_eq!(counts(&one), counts(&default));
    assert_eq!(one.status, RunStatus::Failed);
}

#[tokio::test]
async fn postgres_many_small_tables() {
    planted_violations_found_whatever_the_jobs(Server::Postgres).await;
}

#[tokio::test]
async fn mysql_many_small_tables() {
    planted_violations_found_whatever_the_jobs(Server::Mysql).await;
}

/// A check that fails at run time (division by zero in a NOT VALID check) sits in a combined
/// query with a hundred others: that query is redone table by table, the failing check
/// reports its error and every other check, in its table and in the others, its count.
#[tokio::test]
async fn postgres_a_failing_check_costs_only_itself() {
    let mut sql = schema(Server::Postgres);
    sql.push_str(
        "ALTER TABLE s060 DROP CONSTRAINT s060_ref_fk;
         INSERT INTO s060 (id, code, ref, qty) VALUES (1, 'a', 1, 0), (2, 'b', 77, 3);
         ALTER TABLE s060 ADD CONSTRAINT s060_ref_fk FOREIGN KEY (ref) REFERENCES s001 (id) NOT VALID;
         ALTER TABLE s060 ADD CONSTRAINT s060_ratio_check CHECK (10 / qty > 0) NOT VALID;",
    );
    let Some(db) = TestDb::new(Server::Postgres, &sql).await else { return };
    let run = check(&db.url, Some(2)).await;
    let ratio = run.integrity_results.iter().find(|r| r.constraint == "s060_ratio_check").unwrap();
    assert!(ratio.error.as_deref().unwrap_or("").contains("division by zero"), "{ratio:?}");
    let errors = run.integrity_results.iter().filter(|r| r.error.is_some()).count();
    assert_eq!(errors, 1, "only the broken check lost its answer");
    let orphan = run.integrity_results.iter().find(|r| r.constraint == "s060_ref_fk").unwrap();
    assert_eq!((orphan.failure_count, orphan.integrity_type), (1, IntegrityType::Fk), "its table's other checks still answer");
    assert_eq!(failing(&run).len(), 5, "{:?}", failing(&run));
}

#[tokio::test]
async fn jobs_out_of_range_is_refused_before_connecting() {
    for jobs in [0, 17] {
        let req = IntegrityRequest {
            database_url: "postgres://nobody@127.0.0.1:1/none".into(),
            jobs: Some(jobs),
            rules: RulesFile::default().rules,
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let err = consultant(dir.path()).await.check_integrity(&req).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains(&format!("jobs must be between 1 and 16, got {jobs}")), "{err}");
    }
}
