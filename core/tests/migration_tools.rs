//! Migration tools against real databases: the fixture repositories of
//! `tests/fixtures/layouts/` with the first seven migrations applied on the target (schema and
//! the tool's history table, as the tool leaves them), on SQLite, PostgreSQL and MariaDB.
//! Validation then covers exactly the pending ones, in the tool's order, and reports changed
//! and out-of-order migrations.

mod common;

use std::path::PathBuf;

use common::servers::{Server, TestDb};
use common::{build_db, consultant, repo_root};
use dbconsultant::findings::FindingId;
use dbconsultant::migrations::{self, Layout};
use dbconsultant::model::{RunStatus, TestRun};
use dbconsultant::{Dialect, SchemaValidationRequest};

fn fixture(layout: Layout) -> PathBuf {
    repo_root().join("tests/fixtures/layouts").join(layout.as_str())
}

/// The history table DDL of each tool (column names and kinds as the tools create them).
fn history_ddl(layout: Layout, d: Dialect) -> String {
    let (bool_t, blob, ts) = match d {
        Dialect::Postgres => ("BOOLEAN", "BYTEA", "TIMESTAMP"),
        Dialect::Mysql => ("BOOLEAN", "BLOB", "TIMESTAMP"),
        Dialect::Sqlite => ("BOOLEAN", "BLOB", "TIMESTAMP"),
    };
    match layout {
        Layout::Flyway => format!(
            "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, \
             type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, \
             installed_on {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success {bool_t} NOT NULL);"
        ),
        Layout::Sqlx => format!(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP, \
             success {bool_t} NOT NULL, checksum {blob} NOT NULL, execution_time BIGINT NOT NULL);"
        ),
        Layout::GolangMigrate => format!("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty {bool_t} NOT NULL);"),
        Layout::Diesel => format!("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) NOT NULL PRIMARY KEY, run_on {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP);"),
        Layout::Prisma => format!(
            "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY, checksum VARCHAR(64) NOT NULL, finished_at {ts} NULL, migration_name VARCHAR(255) NOT NULL, \
             logs TEXT, rolled_back_at {ts} NULL, started_at {ts} NOT NULL DEFAULT CURRENT_TIMESTAMP, applied_steps_count INTEGER NOT NULL DEFAULT 0);"
        ),
        Layout::Dbmate => "CREATE TABLE schema_migrations (version VARCHAR(128) NOT NULL PRIMARY KEY);".into(),
        Layout::Goose => format!("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY, version_id BIGINT NOT NULL, is_applied {bool_t} NOT NULL, tstamp {ts} NULL);"),
        Layout::Plain => String::new(),
    }
}

fn hex_literal(hex: &str, d: Dialect) -> String {
    match d {
        Dialect::Postgres => format!("decode('{hex}', 'hex')"),
        Dialect::Mysql => format!("UNHEX('{hex}')"),
        Dialect::Sqlite => format!("X'{hex}'"),
    }
}

fn truth(b: bool, d: Dialect) -> &'static str {
    match (b, d) {
        (true, Dialect::Postgres) => "TRUE",
        (false, Dialect::Postgres) => "FALSE",
        (true, _) => "1",
        (false, _) => "0",
    }
}

/// The target as the tool leaves it after applying `applied` (1-based migration numbers):
/// their schema changes and the history rows. `tamper` records migration 3 with a wrong
/// checksum.
fn applied_sql(layout: Layout, d: Dialect, applied: &[usize], tamper: bool) -> String {
    let all = migrations::read_dir(&fixture(layout), layout).unwrap();
    let mut sql = String::new();
    for i in applied {
        sql.push_str(&all[i - 1].sql);
        sql.push('\n');
    }
    sql.push_str(&history_ddl(layout, d));
    sql.push('\n');
    if layout == Layout::GolangMigrate {
        let last = applied.iter().max().unwrap();
        sql.push_str(&format!("INSERT INTO schema_migrations (version, dirty) VALUES ({last}, {});\n", truth(false, d)));
        return sql;
    }
    if layout == Layout::Goose {
        sql.push_str(&format!("INSERT INTO goose_db_version (id, version_id, is_applied) VALUES (0, 0, {});\n", truth(true, d)));
    }
    for (n, i) in applied.iter().enumerate() {
        let m = &all[i - 1];
        let version = m.version.clone().unwrap();
        let checksum = if tamper && *i == 3 { None } else { m.checksum.clone() };
        let row = match layout {
            Layout::Flyway => format!(
                "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) \
                 VALUES ({}, '{version}', 'm', 'SQL', '{}', {}, 'ci', 1, {});",
                n + 1,
                std::path::Path::new(&m.name).file_name().unwrap().to_string_lossy(),
                checksum.unwrap_or_else(|| "12345".into()),
                truth(true, d)
            ),
            Layout::Sqlx => format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({version}, 'm', {}, {}, 1);",
                truth(true, d),
                hex_literal(&checksum.unwrap_or_else(|| "00ff".into()), d)
            ),
            Layout::Diesel => format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{}');", version.replace('-', "")),
            Layout::Prisma => format!(
                "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('{n}', '{}', CURRENT_TIMESTAMP, '{version}', 1);",
                checksum.unwrap_or_else(|| "0".repeat(64))
            ),
            Layout::Dbmate => format!("INSERT INTO schema_migrations (version) VALUES ('{version}');"),
            Layout::Goose => format!("INSERT INTO goose_db_version (id, version_id, is_applied) VALUES ({}, {version}, {});", n + 1, truth(true, d)),
            _ => unreachable!(),
        };
        sql.push_str(&row);
        sql.push('\n');
    }
    sql
}

/// A target on each database kind holding the given SQL; `None` when a server test is skipped.
async fn target(dialect: Dialect, sql: &str, dir: &std::path::Path) -> Option<(String, Option<TestDb>)> {
    match dialect {
        Dialect::Sqlite => {
            let path = dir.join("app.db");
            build_db(&path, sql).await;
            Some((format!("sqlite://{}", path.display()), None))
        }
        Dialect::Postgres => TestDb::new(Server::Postgres, sql).await.map(|db| (db.url.clone(), Some(db))),
        Dialect::Mysql => TestDb::new(Server::Mysql, sql).await.map(|db| (db.url.clone(), Some(db))),
    }
}

async fn validate(url: &str, layout: Layout, dir: &std::path::Path, pending: Option<bool>) -> TestRun {
    let c = consultant(dir).await;
    let mut config = dbconsultant::Config::default();
    config.sandbox.allow_scratch_on_target = true;
    let req = SchemaValidationRequest {
        database_url: url.to_string(),
        migration_script: vec![fixture(layout)],
        pending,
        config,
        ..Default::default()
    };
    c.validate_schema(&req).await.unwrap()
}

fn file_stem(name: &str) -> String {
    let path = std::path::Path::new(name);
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    if file == "up.sql" || file == "migration.sql" {
        path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned()
    } else {
        file
    }
}

const LAYOUTS: [Layout; 7] =
    [Layout::Flyway, Layout::Sqlx, Layout::GolangMigrate, Layout::Diesel, Layout::Prisma, Layout::Dbmate, Layout::Goose];
const DIALECTS: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

#[tokio::test]
async fn only_pending_migrations_are_validated_on_every_database() {
    for dialect in DIALECTS {
        for layout in LAYOUTS {
            let dir = tempfile::tempdir().unwrap();
            let Some((url, _db)) = target(dialect, &applied_sql(layout, dialect, &[1, 2, 3, 4, 5, 6, 7], false), dir.path()).await else {
                return;
            };
            let run = validate(&url, layout, dir.path(), None).await;
            let what = format!("{layout} on {dialect}");
            let plan = run.migration_plan.as_ref().unwrap();
            assert_eq!(plan.layout, layout.as_str(), "{what}");
            assert!(plan.detected, "{what}");
            assert_eq!(plan.history_table.as_deref(), migrations::history::table_of(layout), "{what}");
            assert_eq!(plan.applied.len(), 7, "{what}: {plan:?}");
            let pending: Vec<String> = plan.pending.iter().map(|p| file_stem(p)).collect();
            let expected = if layout == Layout::Flyway { 6 } else { 5 }; // + the repeatable view
            assert_eq!(pending.len(), expected, "{what}: {pending:?}");
            assert!(pending[0].contains("create_order_items"), "{what}: the first pending is migration 8: {pending:?}");
            assert_eq!(run.inputs, plan.pending, "{what}: exactly the pending ones are validated");
            assert!(!run.findings.iter().any(|f| f.rule == FindingId::MigrationFails), "{what}: {:#?}", run.findings);
            assert_eq!(run.status, RunStatus::Passed, "{what}: {}\n{:#?}", run.summary, run.findings);
        }
    }
}

#[tokio::test]
async fn changed_applied_migrations_and_out_of_order_ones_are_reported() {
    for dialect in DIALECTS {
        for layout in [Layout::Flyway, Layout::Sqlx, Layout::Prisma] {
            let dir = tempfile::tempdir().unwrap();
            let Some((url, _db)) = target(dialect, &applied_sql(layout, dialect, &[1, 2, 3, 4, 5, 6, 7], true), dir.path()).await else {
                return;
            };
            let run = validate(&url, layout, dir.path(), None).await;
            let changed: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::MigrationChecksumMismatch).collect();
            assert_eq!(changed.len(), 1, "{layout} on {dialect}: {:#?}", run.findings);
            assert!(changed[0].file.as_deref().unwrap().contains("add_user_name"), "{layout} on {dialect}");
        }
        // Migration 5 missing from the history while 6 and 7 are there: out of order.
        for layout in [Layout::Sqlx, Layout::Goose, Layout::Dbmate] {
            let dir = tempfile::tempdir().unwrap();
            let Some((url, _db)) = target(dialect, &applied_sql(layout, dialect, &[1, 2, 3, 4, 6, 7], false), dir.path()).await else {
                return;
            };
            let run = validate(&url, layout, dir.path(), None).await;
            let out_of_order: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::MigrationOutOfOrder).collect();
            assert_eq!(out_of_order.len(), 1, "{layout} on {dialect}: {:#?}", run.findings);
            assert!(out_of_order[0].file.as_deref().unwrap().contains("create_products"), "{layout} on {dialect}");
        }
    }
}

#[tokio::test]
async fn every_migration_when_asked_and_an_error_when_the_history_is_required_but_absent() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = target(Dialect::Sqlite, "CREATE TABLE unrelated (id INTEGER PRIMARY KEY);", dir.path()).await.unwrap();
    let c = consultant(dir.path()).await;
    let req = |pending| SchemaValidationRequest {
        database_url: url.clone(),
        migration_script: vec![fixture(Layout::Flyway)],
        pending,
        ..Default::default()
    };
    let all = c.validate_schema(&req(None)).await.unwrap();
    assert_eq!(all.migration_plan.as_ref().unwrap().pending.len(), 13, "no history: every migration, the repeatable last");
    assert_eq!(all.status, RunStatus::Passed, "{:#?}", all.findings);
    let err = c.validate_schema(&req(Some(true))).await.unwrap_err().to_string();
    assert!(err.contains("no flyway history table (flyway_schema_history)"), "{err}");
    // With a history present, `pending: false` still validates every migration.
    let dir2 = tempfile::tempdir().unwrap();
    let (url2, _) = target(Dialect::Sqlite, &applied_sql(Layout::Flyway, Dialect::Sqlite, &[1, 2], false), dir2.path()).await.unwrap();
    let req2 = SchemaValidationRequest {
        database_url: url2,
        migration_script: vec![fixture(Layout::Flyway)],
        pending: Some(false),
        ..Default::default()
    };
    let everything = c.validate_schema(&req2).await.unwrap();
    assert_eq!(everything.migration_plan.as_ref().unwrap().pending.len(), 13);
    assert!(everything.migration_plan.as_ref().unwrap().history_table.is_none());
}
