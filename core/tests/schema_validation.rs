//! Schema validation end to end on the SQLite driver, against the example shop database.

mod common;

use common::*;
use dbconsultant::findings::FindingId;
use dbconsultant::model::{ChangeType, Compatibility, ObjectType, RunStatus, Severity};
use dbconsultant::{ErrorKind, MigrationSource};

#[tokio::test]
async fn safe_index_migration_passes_with_seed_summary() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("001_index_order_status.sql")])).await.unwrap();
    assert_eq!(run.status, RunStatus::Passed, "{run:#?}");
    assert_eq!(run.risk_score, 0);
    assert_eq!(run.summary, "Index addition detected, no breaking change.");
    assert_eq!(run.schema_changes.len(), 1);
    let change = &run.schema_changes[0];
    assert_eq!(
        (change.object_type, change.change_type, change.compatibility_status),
        (ObjectType::Index, ChangeType::Added, Compatibility::Compatible)
    );
    assert_eq!(change.name, "idx_orders_status");
    // Stored, and read back identical.
    assert_eq!(c.test_run(&run.test_run_id).await.unwrap(), run);
}

#[tokio::test]
async fn unique_index_on_duplicates_is_critical_with_masked_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("002_unique_customer_email.sql")])).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let failure = run.findings.iter().find(|f| f.rule == FindingId::MigrationFails).expect("sandbox failure finding");
    assert_eq!(failure.severity, Severity::Critical);
    assert_eq!((failure.statement, failure.line), (Some(2), Some(3)));
    assert!(failure.message.contains("UNIQUE constraint failed: customers.email"), "{}", failure.message);
    // Customers 1/4 and 3/7 share addresses: four rows in two groups, e-mails masked.
    let ids: Vec<i64> = failure.sample_records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, 4, 3, 7]);
    let groups: Vec<i64> = failure.sample_records.iter().map(|r| r["duplicate_group"].as_i64().unwrap()).collect();
    assert_eq!(groups, vec![1, 1, 2, 2]);
    for r in &failure.sample_records {
        assert_eq!(r["email"], "<masked>");
        assert!(!r.values().any(|v| v.as_str().is_some_and(|s| s.contains("@example.com"))));
    }
    assert!(run.summary.starts_with("Migration fails in the sandbox at statement 2: UNIQUE constraint failed"), "{}", run.summary);
}

#[tokio::test]
async fn rebuild_adding_foreign_key_reports_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("004_orders_foreign_key.sql")])).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let violated = run.findings.iter().find(|f| f.rule == FindingId::NewConstraintViolated).expect("orphan finding");
    let orphans: Vec<i64> = violated.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
    assert_eq!(orphans, vec![42, 99]);
    // The rebuild itself is recognised: the DROP of the old table is informational only.
    let drop = run.findings.iter().find(|f| f.rule == FindingId::BanDropTable).unwrap();
    assert_eq!(drop.severity, Severity::Info);
    let fk = run.integrity_results.iter().find(|r| r.integrity_type == dbconsultant::model::IntegrityType::Fk).unwrap();
    assert_eq!(fk.failure_count, 2);
}

#[tokio::test]
async fn destructive_cleanup_is_scored_and_explained() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let run = c.validate_schema(&request(&db, vec![example_migration("003_cleanup_legacy.sql")])).await.unwrap();
    let rules: Vec<FindingId> = run.findings.iter().map(|f| f.rule).collect();
    for expected in [FindingId::BanDropTable, FindingId::BanDropColumn, FindingId::RenamingColumn, FindingId::DeleteWithoutWhere] {
        assert!(rules.contains(&expected), "{expected} missing from {rules:?}");
    }
    let change = |name: &str| run.schema_changes.iter().find(|c| c.name == name).unwrap().compatibility_status;
    assert_eq!(change("legacy_coupons"), Compatibility::Destructive);
    assert_eq!(change("legacy_sku"), Compatibility::Destructive);
    assert_eq!(change("total"), Compatibility::Breaking);
    assert_eq!(run.risk_score, 100);
    assert_eq!(run.risk_breakdown[0].rule, "band:critical");
    let explained: u32 = run.risk_breakdown.iter().map(|c| c.points).sum();
    assert_eq!(explained, run.risk_score, "the breakdown adds up to the score");
}

/// Guarantee 1 (docs/guarantees.md): the target is never modified, even by a migration that drops everything
/// or tries to reach the target file through ATTACH.
#[tokio::test]
async fn target_bytes_are_unchanged_by_destructive_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let before = sha256ish(&db);
    let modified = std::fs::metadata(&db).unwrap().modified().unwrap();
    let c = consultant(dir.path()).await;
    let drop_all = MigrationSource::inline(
        "DROP VIEW paid_orders; DROP TABLE order_items; DROP TABLE orders; DROP TABLE customers; DELETE FROM products; VACUUM;",
    );
    let run = c.validate_schema(&request(&db, vec![drop_all])).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.schema_changes.iter().filter(|c| c.compatibility_status == Compatibility::Destructive).count() >= 3);
    let escape = MigrationSource::inline(format!("ATTACH DATABASE '{}' AS target; DROP TABLE target.customers;", db.display()));
    let run = c.validate_schema(&request(&db, vec![escape])).await.unwrap();
    let refused = run.findings.iter().find(|f| f.rule == FindingId::MigrationFails).unwrap();
    assert!(refused.message.contains("refused in the sandbox"), "{}", refused.message);
    assert_eq!(sha256ish(&db), before, "target bytes changed");
    assert_eq!(std::fs::metadata(&db).unwrap().modified().unwrap(), modified);
    for suffix in ["-wal", "-journal", "-shm"] {
        assert!(!dir.path().join(format!("shop.db{suffix}")).exists(), "target got a {suffix} file");
    }
}

/// Guarantee 5: same input, same data → same findings, score and summary.
#[tokio::test]
async fn validation_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let migrations: Vec<MigrationSource> =
        ["002_unique_customer_email.sql", "003_cleanup_legacy.sql"].iter().map(|m| example_migration(m)).collect();
    let strip = |mut run: dbconsultant::model::TestRun| {
        run.test_run_id.clear();
        run.created_at.clear();
        run.sandbox = None; // names a temporary copy / scratch database, like the run id
        serde_json::to_string(&run).unwrap()
    };
    let first = strip(c.validate_schema(&request(&db, migrations.clone())).await.unwrap());
    for _ in 0..3 {
        assert_eq!(strip(c.validate_schema(&request(&db, migrations.clone())).await.unwrap()), first);
    }
}

/// An empty or comment-only migration (a no-op for this database) is noted, never an error.
#[tokio::test]
async fn empty_migrations_are_noted_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let migrations = vec![MigrationSource::named("empty.sql", "  -- nothing\n"), example_migration("001_index_order_status.sql")];
    let run = c.validate_schema(&request(&db, migrations)).await.unwrap();
    assert_eq!(run.status, RunStatus::Passed, "{:#?}", run.findings);
    let empty = run.findings.iter().find(|f| f.rule == FindingId::EmptyMigration).unwrap();
    assert_eq!((empty.severity, empty.file.as_deref()), (Severity::Info, Some("empty.sql")));
    let only_empty = c.validate_schema(&request(&db, vec![MigrationSource::named("blank.sql", "")])).await.unwrap();
    assert_eq!((only_empty.status, only_empty.risk_score), (RunStatus::Passed, 0));
}

#[tokio::test]
async fn statements_sqlite_accepts_are_never_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    // Broken SQL is a critical finding at its position, and the sandbox confirms it fails.
    let run = c
        .validate_schema(&request(&db, vec![MigrationSource::inline("CREATE INDEX ix ON orders (status);\nCREATE TABEL x (id int);")]))
        .await
        .unwrap();
    let syntax = run.findings.iter().find(|f| f.rule == FindingId::SyntaxError).unwrap();
    assert_eq!((syntax.severity, syntax.line), (Severity::Critical, Some(2)));
    assert_eq!(run.status, RunStatus::Failed, "the sandbox also rejects it");

    // SQLite syntax the rules' parser does not read (`CREATE TRIGGER IF NOT EXISTS`) is valid:
    // SQLite's grammar decides, so it is an `info` note, not an error, and the sandbox runs it.
    let sql = "REINDEX;\nCREATE TRIGGER IF NOT EXISTS orders_touch AFTER INSERT ON orders BEGIN UPDATE orders SET total = total WHERE id = NEW.id; END;";
    let run = c.validate_schema(&request(&db, vec![MigrationSource::inline(sql)])).await.unwrap();
    assert!(run.findings.iter().all(|f| f.rule != FindingId::SyntaxError), "{:#?}", run.findings);
    let unread: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::UnanalyzedStatement).collect();
    assert!(!unread.is_empty() && unread.iter().all(|f| f.severity == Severity::Info), "{:#?}", run.findings);
    assert_eq!(run.status, RunStatus::Passed);
}

#[tokio::test]
async fn approval_gate_keeps_passing_runs_pending() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let mut req = request(&db, vec![example_migration("001_index_order_status.sql")]);
    req.require_human_approval = true;
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::PendingApproval);
    assert_eq!(run.exit_code(), 2);
    // A failing run is not put up for approval.
    req.migrations = vec![example_migration("002_unique_customer_email.sql")];
    assert_eq!(c.validate_schema(&req).await.unwrap().status, RunStatus::Failed);
}

#[tokio::test]
async fn fail_above_fails_runs_over_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let db = shop_db(dir.path()).await;
    let c = consultant(dir.path()).await;
    let mut req = request(&db, vec![MigrationSource::inline("ALTER TABLE customers RENAME COLUMN phone TO phone_number;")]);
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::Passed);
    assert!(run.risk_score > 10);
    req.fail_above = Some(10);
    let run = c.validate_schema(&req).await.unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.fail_above, Some(10));
}

mod bad_input {
    use super::*;

    async fn error_of(req: dbconsultant::SchemaValidationRequest) -> dbconsultant::Error {
        let dir = tempfile::tempdir().unwrap();
        let c = consultant(dir.path()).await;
        let err = c.validate_schema(&req).await.unwrap_err();
        // Nothing half-written: a failed validation stores no run.
        assert!(c.list_test_runs(&Default::default()).await.unwrap().is_empty());
        err
    }

    #[tokio::test]
    async fn missing_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = error_of(request(&dir.path().join("nope.db"), vec![MigrationSource::inline("SELECT 1;")])).await;
        assert_eq!(err.kind(), ErrorKind::Connection);
        assert!(err.to_string().contains("nope.db"), "{err}");
    }

    #[tokio::test]
    async fn non_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "this is not a database, just some text that is long enough to look like a header").unwrap();
        let err = error_of(request(&path, vec![MigrationSource::inline("SELECT 1;")])).await;
        assert_eq!(err.kind(), ErrorKind::Connection);
        assert!(err.to_string().contains("not a readable SQLite database"), "{err}");
    }

    #[tokio::test]
    async fn no_migration_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let db = shop_db(dir.path()).await;
        let err = error_of(request(&db, vec![])).await;
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("no migration given"), "{err}");
    }

    #[tokio::test]
    async fn malformed_url_and_dialect_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let db = shop_db(dir.path()).await;
        let mut req = request(&db, vec![MigrationSource::inline("SELECT 1;")]);
        req.database_url = "shop.db".into();
        assert_eq!(error_of(req.clone()).await.kind(), ErrorKind::InvalidInput);
        req.database_url = format!("sqlite://{}", db.display());
        req.dialect = Some(dbconsultant::Dialect::Postgres);
        let err = error_of(req).await;
        assert!(err.to_string().contains("does not match"), "{err}");
    }

    #[tokio::test]
    async fn unknown_rule_in_config() {
        let dir = tempfile::tempdir().unwrap();
        let db = shop_db(dir.path()).await;
        let mut req = request(&db, vec![MigrationSource::inline("SELECT 1;")]);
        req.config.rules.disable = vec!["no-such-rule".into()];
        assert_eq!(error_of(req).await.kind(), ErrorKind::InvalidInput);
    }
}

/// Guarantee 2: counts are computed by the database and only a bounded sample crosses
/// the wire, however many rows violate the constraint.
#[tokio::test]
async fn violation_counts_are_exact_and_samples_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    build_db(
        &db,
        "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, parent_id INTEGER);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
        INSERT INTO events (id, kind, parent_id) SELECT i, 'k' || (i % 7), i + 100000 FROM n;",
    )
    .await;
    let c = consultant(dir.path()).await;
    let sql = "CREATE TABLE events_new (id INTEGER PRIMARY KEY, kind TEXT, parent_id INTEGER REFERENCES events (id));
        INSERT INTO events_new SELECT * FROM events;
        DROP TABLE events;
        ALTER TABLE events_new RENAME TO events;";
    let run = c.validate_schema(&request(&db, vec![MigrationSource::inline(sql)])).await.unwrap();
    let fk = run.integrity_results.iter().find(|r| r.integrity_type == dbconsultant::model::IntegrityType::Fk).unwrap();
    assert_eq!(fk.failure_count, 20000);
    assert_eq!(fk.sample_records.len(), dbconsultant::config::DEFAULT_SAMPLE_LIMIT);
    let unique =
        c.validate_schema(&request(&db, vec![MigrationSource::inline("CREATE UNIQUE INDEX ux_kind ON events (kind);")])).await.unwrap();
    let failure = unique.findings.iter().find(|f| f.rule == FindingId::MigrationFails).unwrap();
    assert_eq!(failure.sample_records.len(), dbconsultant::config::DEFAULT_SAMPLE_LIMIT);
}

/// Every row of the documentation's risk table (docs/schema-validation.md), run on the example
/// shop database: the findings it names are raised and the score is the one printed.
#[tokio::test]
async fn documented_risk_examples_hold() {
    let page = std::fs::read_to_string(repo_root().join("docs/schema-validation.md")).unwrap();
    let table = page.split("| migration | findings | score |").nth(1).expect("docs/schema-validation.md has the risk table");
    let rows: Vec<&str> = table.lines().skip(2).take_while(|l| l.starts_with('|')).collect();
    assert!(rows.len() >= 5, "{rows:?}");
    let dir = tempfile::tempdir().unwrap();
    let c = consultant(dir.path()).await;
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let sql = cells[0].trim_matches('`');
        let score: u32 = cells[2].rsplit(' ').next().unwrap().parse().unwrap();
        let db = dir.path().join(format!("shop{i}.db"));
        build_db(&db, &std::fs::read_to_string(repo_root().join("examples/sqlite/shop.sql")).unwrap()).await;
        let run = c.validate_schema(&request(&db, vec![MigrationSource::named("readme.sql", sql)])).await.unwrap();
        assert_eq!(run.risk_score, score, "{sql}: {:#?}", run.risk_breakdown);
        let sum: u32 = run.risk_breakdown.iter().map(|c| c.points).sum();
        assert_eq!(sum, score, "{sql}");
        for id in cells[1].split([',', ' ', '(', ')']).filter(|w| w.contains('-')) {
            assert!(run.findings.iter().any(|f| f.rule.as_str() == id), "{sql}: {id} not raised: {:#?}", run.findings);
        }
    }
}
