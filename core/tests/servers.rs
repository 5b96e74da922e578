//! Every capability on PostgreSQL and MariaDB/MySQL, against real servers started by
//! scripts/test.sh: introspection, read-only inspection, sandboxes, findings, bad input.

mod common;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::driver::{connect, SandboxOptions};
use dbconsultant::findings::FindingId;
use dbconsultant::model::{Compatibility, IntegrityType, RunStatus, SchemaSnapshot, Severity, TestRun};
use dbconsultant::url::DatabaseUrl;
use dbconsultant::{ErrorKind, MigrationSource, SchemaValidationRequest};

fn req(db: &TestDb, sql: &str) -> SchemaValidationRequest {
    let mut r = SchemaValidationRequest {
        database_url: db.url.clone(),
        migrations: vec![MigrationSource::named("migration.sql", sql)],
        ..Default::default()
    };
    r.config.sandbox.allow_scratch_on_target = true;
    r
}

async fn validate(db: &TestDb, sql: &str) -> TestRun {
    let dir = tempfile::tempdir().unwrap();
    consultant(dir.path()).await.validate_schema(&req(db, sql)).await.unwrap()
}

async fn introspect(db: &TestDb) -> SchemaSnapshot {
    connect(&DatabaseUrl::parse(&db.url).unwrap()).await.unwrap().introspect().await.unwrap()
}

fn finding(run: &TestRun, rule: FindingId) -> &dbconsultant::model::Finding {
    run.findings.iter().find(|f| f.rule == rule).unwrap_or_else(|| panic!("no {rule} finding in {:#?}", run.findings))
}

const FK_MIGRATION: &str = "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);";

async fn introspection_normalizes_the_catalogs(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let s = introspect(&db).await;
    let names: Vec<&str> = s.tables.keys().map(String::as_str).collect();
    assert_eq!(names, ["customers", "legacy_coupons", "order_items", "orders", "products"]);
    assert_eq!(s.views, ["paid_orders"]);
    let items = &s.tables["order_items"];
    assert_eq!(items.primary_key, ["order_id", "product_id"]);
    let mut parents: Vec<&str> = items.foreign_keys.iter().map(|f| f.referenced_table.as_str()).collect();
    parents.sort();
    assert_eq!(parents, ["orders", "products"]);
    assert_eq!(items.foreign_keys.iter().find(|f| f.referenced_table == "orders").unwrap().referenced_columns, ["id"]);
    let products = &s.tables["products"];
    let unique_sku = products.unique_constraints.iter().any(|u| u.columns == ["sku"])
        || products.indexes.iter().any(|i| i.unique && i.columns == ["sku"]);
    assert!(unique_sku, "{products:#?}");
    assert!(products.check_constraints.iter().any(|c| c.expression.contains("price_cents")), "{products:#?}");
    let orders = &s.tables["orders"];
    assert!(orders.indexes.iter().any(|i| i.name == "idx_orders_customer" && i.columns == ["customer_id"] && !i.unique));
    let email = s.tables["customers"].column("email").unwrap();
    assert!(!email.nullable);
    assert!(s.tables["customers"].column("phone").unwrap().nullable);
    assert!(orders.column("status").unwrap().default.as_deref().unwrap_or("").contains("new"));
    assert_eq!(s.tables["customers"].row_estimate, Some(7));
}

async fn inspection_refuses_writes(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    // A function that writes, called through a SELECT: the read-only session refuses it.
    let (setup, call) = match server {
        Server::Postgres => (
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS $$ INSERT INTO legacy_coupons VALUES ('HACK', 99) RETURNING 1 $$;",
            "SELECT sneaky() AS x",
        ),
        Server::Mysql => (
            "CREATE FUNCTION sneaky() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO legacy_coupons VALUES ('HACK', 99); RETURN 1; END",
            "SELECT sneaky() AS x",
        ),
    };
    db.exec(setup).await;
    let driver = connect(&DatabaseUrl::parse(&db.url).unwrap()).await.unwrap();
    let err = driver.query(call, 10).await.unwrap_err().to_string().to_lowercase();
    assert!(err.contains("read-only") || err.contains("read only"), "{err}");
    // Anything but a SELECT never reaches the server.
    for write in ["DELETE FROM customers", "DROP TABLE customers", "SELECT 1; DROP TABLE customers"] {
        assert_eq!(driver.query(write, 10).await.unwrap_err().kind(), ErrorKind::InvalidInput, "{write}");
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM legacy_coupons").await, 2);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM customers").await, 7);
}

async fn safe_index_passes(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let run = validate(&db, &std::fs::read_to_string(repo_root().join("examples/migrations/001_index_order_status.sql")).unwrap()).await;
    assert_eq!(run.status, RunStatus::Passed, "{run:#?}");
    assert!(run.summary.starts_with("Index addition detected, no breaking change"), "{}", run.summary);
    assert_eq!(run.dialect.as_deref(), Some(server_dialect(server)));
    assert!(!run.target.as_deref().unwrap().contains(&server.password()), "password leaked into the run");
}

fn server_dialect(server: Server) -> &'static str {
    match server {
        Server::Postgres => "postgres",
        Server::Mysql => "mysql",
    }
}

async fn unique_on_duplicates_fails_with_masked_rows(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let run = validate(&db, &std::fs::read_to_string(repo_root().join("examples/migrations/002_unique_customer_email.sql")).unwrap()).await;
    assert_eq!(run.status, RunStatus::Failed);
    let f = finding(&run, FindingId::MigrationFails);
    assert_eq!(f.statement, Some(2));
    assert!(!f.message.contains("@example.com"), "data value leaked: {}", f.message);
    let ids: Vec<i64> = f.sample_records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 4, 3, 7], "{:#?}", f.sample_records);
    assert!(f.sample_records.iter().all(|r| r["email"] == "<masked>"));
}

async fn orphans_block_a_new_foreign_key(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let run = validate(&db, FK_MIGRATION).await;
    assert_eq!(run.status, RunStatus::Failed);
    let f = finding(&run, FindingId::MigrationFails);
    let orphans: Vec<i64> = f.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
    assert_eq!(orphans, [42, 99], "{f:#?}");
}

async fn destructive_cleanup_never_touches_the_target(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let before = introspect(&db).await;
    let sql = std::fs::read_to_string(repo_root().join("examples/migrations/003_cleanup_legacy.sql")).unwrap();
    let run = validate(&db, &sql).await;
    for rule in [FindingId::BanDropTable, FindingId::BanDropColumn, FindingId::RenamingColumn, FindingId::DeleteWithoutWhere] {
        finding(&run, rule);
    }
    let status = |name: &str| {
        run.schema_changes
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}: {:#?}", run.schema_changes))
            .compatibility_status
    };
    assert_eq!(status("legacy_coupons"), Compatibility::Destructive);
    assert_eq!(status("legacy_sku"), Compatibility::Destructive);
    assert_eq!(status("total"), Compatibility::Breaking);
    // The target is unchanged: same schema, same rows.
    assert_eq!(introspect(&db).await, before);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM order_items").await, 6);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM legacy_coupons").await, 2);
}

async fn validation_is_deterministic(server: Server) {
    let Some(db) = TestDb::shop(server).await else { return };
    let sql = std::fs::read_to_string(repo_root().join("examples/migrations/003_cleanup_legacy.sql")).unwrap();
    let strip = |mut run: TestRun| {
        run.test_run_id.clear();
        run.created_at.clear();
        run.sandbox = None; // names a temporary copy / scratch database, like the run id
        serde_json::to_string(&run).unwrap()
    };
    let first = strip(validate(&db, &sql).await);
    assert_eq!(strip(validate(&db, &sql).await), first);
}

async fn bad_connections_are_clear_and_redacted(server: Server) {
    let Some(admin) = server.admin_url() else { return };
    let password = server.password();
    let mut wrong = url::Url::parse(&admin).unwrap();
    wrong.set_password(Some("not-the-password")).unwrap();
    let mut unreachable = url::Url::parse(&admin).unwrap();
    unreachable.set_port(Some(1)).unwrap();
    let mut missing = url::Url::parse(&admin).unwrap();
    missing.set_path("/no_such_database");
    for (url, expected) in
        [(wrong.to_string(), "password"), (unreachable.to_string(), "refused"), (missing.to_string(), "no_such_database")]
    {
        let err = match connect(&DatabaseUrl::parse(&url).unwrap()).await {
            Ok(_) => panic!("{url} connected"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Connection, "{text}");
        assert!(text.to_lowercase().contains(expected), "{text}");
        assert!(!text.contains(&password) && !text.contains("not-the-password"), "secret in {text}");
        assert!(text.contains(":***@"), "{text}");
    }
}

macro_rules! on_every_server {
    ($($name:ident),+ $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Server::Postgres).await })+
        }
        mod mysql {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Server::Mysql).await })+
        }
    };
}

on_every_server!(
    introspection_normalizes_the_catalogs,
    inspection_refuses_writes,
    safe_index_passes,
    unique_on_duplicates_fails_with_masked_rows,
    orphans_block_a_new_foreign_key,
    destructive_cleanup_never_touches_the_target,
    validation_is_deterministic,
    bad_connections_are_clear_and_redacted,
);

mod postgres_only {
    use super::*;

    #[tokio::test]
    async fn not_valid_deferrable_partial_expression_and_enum_are_introspected() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        db.exec(
            "CREATE TYPE order_channel AS ENUM ('web', 'store');
            ALTER TABLE orders ADD COLUMN channel order_channel;
            ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) DEFERRABLE NOT VALID;
            CREATE INDEX ix_open_orders ON orders (placed_at) WHERE status = 'new';
            CREATE UNIQUE INDEX ux_customers_lower_email ON customers (lower(email)) WHERE deleted_at IS NOT NULL;",
        )
        .await;
        let s = introspect(&db).await;
        let fk = s.tables["orders"].foreign_keys.iter().find(|f| f.name.as_deref() == Some("fk_orders_customer")).unwrap();
        assert!(!fk.enforced, "NOT VALID");
        assert!(fk.deferrable);
        let open = s.tables["orders"].indexes.iter().find(|i| i.name == "ix_open_orders").unwrap();
        assert_eq!(open.predicate.as_deref(), Some("status = 'new'::text"));
        assert_eq!(open.method.as_deref(), Some("btree"));
        let lower = s.tables["customers"].indexes.iter().find(|i| i.name == "ux_customers_lower_email").unwrap();
        assert_eq!(lower.columns, ["lower(email)"]);
        assert!(lower.unique);
        assert_eq!(s.enums["order_channel"], ["web", "store"]);
        assert_eq!(s.tables["orders"].column("channel").unwrap().data_type, "order_channel");
        // Validating the NOT VALID key later is a breaking change the diff reports.
        let run = validate(&db, "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer;").await;
        assert_eq!(run.status, RunStatus::Failed, "orphans 42 and 99 make validation fail: {run:#?}");
    }

    #[tokio::test]
    async fn locks_and_rewrites_are_reported_per_statement() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let run = validate(&db, "ALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;\nCREATE INDEX ix_orders_placed ON orders (placed_at);\nALTER TABLE customers ADD COLUMN nickname text;").await;
        let locks: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::LockObserved).collect();
        let rewrite = locks.iter().find(|f| f.statement == Some(1)).expect("statement 1 lock");
        // The target's size, and a duration scaled from the time per row in the shadow.
        assert!(rewrite.message.contains("takes AccessExclusiveLock on order_items and rewrites it (6 rows / "), "{}", rewrite.message);
        assert!(
            rewrite.message.contains(" on the target; est. ") && rewrite.message.contains("from 6 rows timed in the sandbox"),
            "{}",
            rewrite.message
        );
        assert_eq!(rewrite.severity, Severity::High);
        let index = locks.iter().find(|f| f.statement == Some(2)).expect("statement 2 lock");
        assert!(index.message.contains("ShareLock on orders for an index build"), "{}", index.message);
        let add = locks.iter().find(|f| f.statement == Some(3)).expect("statement 3 lock");
        assert!(add.message.contains("AccessExclusiveLock on customers") && !add.message.contains("rewrites"), "{}", add.message);
        assert_eq!(add.severity, Severity::Low);
    }

    #[tokio::test]
    async fn work_under_a_lock_an_earlier_statement_took_is_still_reported() {
        // The sandbox runs the migration in one transaction, as PostgreSQL would: the ADD
        // COLUMN takes ACCESS EXCLUSIVE, so the rewrite and the index build that follow take
        // nothing new, yet each works while that lock blocks every reader.
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let run = validate(
            &db,
            "ALTER TABLE order_items ADD COLUMN note text;\nALTER TABLE order_items ALTER COLUMN quantity TYPE bigint;\nCREATE INDEX ix_items_note ON order_items (note);\nSELECT count(*) FROM order_items;",
        )
        .await;
        let locks: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::LockObserved).collect();
        let at = |n: usize| {
            locks.iter().find(|f| f.statement == Some(n)).unwrap_or_else(|| panic!("no lock finding for statement {n}: {locks:#?}"))
        };
        assert!(at(1).message.contains("takes AccessExclusiveLock on order_items: "), "{}", at(1).message);
        let rewrite = at(2);
        assert!(
            rewrite.message.contains(
                "holds AccessExclusiveLock on order_items (taken by an earlier statement of the transaction) and rewrites it (6 rows / "
            ),
            "{}",
            rewrite.message
        );
        assert_eq!(rewrite.severity, Severity::High);
        assert!(
            at(3)
                .message
                .contains("holds AccessExclusiveLock on order_items (taken by an earlier statement of the transaction) for an index build"),
            "{}",
            at(3).message
        );
        // A statement doing no work under the held lock gets no finding.
        assert_eq!(locks.len(), 3, "{locks:#?}");
    }

    #[tokio::test]
    async fn transaction_control_and_concurrently_in_the_sandbox() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let run =
            validate(&db, "BEGIN;\nDROP TABLE legacy_coupons;\nCOMMIT;\nCREATE INDEX CONCURRENTLY ix_orders_status ON orders (status);")
                .await;
        let skipped: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::SandboxSkipped).map(|f| f.statement.unwrap()).collect();
        assert_eq!(skipped, [1, 3]);
        let note = finding(&run, FindingId::SandboxNote);
        assert_eq!(note.statement, Some(4));
        assert!(run.schema_changes.iter().any(|c| c.name == "ix_orders_status"));
        // The migration's COMMIT did not commit anything.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM legacy_coupons").await, 2);
    }

    /// On a large schema (over 1,000 tables) the shadow holds what the migration names and
    /// what that depends on, not every table; a table with a trigger (whose function may
    /// touch anything) or dynamic SQL in the migration brings back the whole copy.
    #[tokio::test]
    async fn a_large_schema_is_copied_only_where_the_migration_reaches() {
        let mut sql: String = (0..1_050).map(|i| format!("CREATE TABLE filler_{i} (id int);\n")).collect();
        sql.push_str(
            "CREATE TABLE parent (id int PRIMARY KEY);
             CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
             CREATE TABLE grandchild (id int PRIMARY KEY, child_id int REFERENCES child (id));
             CREATE VIEW child_view AS SELECT id FROM child;
             CREATE TABLE unrelated (id int PRIMARY KEY);
             CREATE TABLE audited (id int PRIMARY KEY);
             CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER audited_noop BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION noop();
             INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);",
        );
        let Some(db) = TestDb::new(Server::Postgres, &sql).await else { return };
        let validate = |migration: &'static str| {
            let mut request = req(&db, migration);
            request.config.sandbox.allow_scratch_on_target = false;
            async move {
                let dir = tempfile::tempdir().unwrap();
                consultant(dir.path()).await.validate_schema(&request).await.unwrap()
            }
        };
        let note = |run: &TestRun| run.findings.iter().find(|f| f.message.contains("the sandbox holds")).map(|f| f.message.clone());
        let run = validate("ALTER TABLE child ADD COLUMN note text;").await;
        // child, its parent, its child and the view over it.
        let said = note(&run).unwrap_or_else(|| panic!("{:#?}", run.findings));
        assert!(said.contains("holds 4 of the target's 1055 tables"), "{said}");
        assert!(run.sandbox.as_deref().unwrap().contains("(3 tables, 2 rows)"), "{:?}", run.sandbox);
        assert!(run.findings.iter().all(|f| f.rule != FindingId::MigrationFails), "{:#?}", run.findings);
        assert_eq!(run.schema_changes.len(), 1, "{:#?}", run.schema_changes);
        // A trigger's function may touch any table: everything is copied.
        let run = validate("ALTER TABLE audited ADD COLUMN note text;").await;
        assert_eq!(note(&run), None);
        assert!(run.sandbox.as_deref().unwrap().contains("1055 tables"), "{:?}", run.sandbox);
        // So does SQL the text does not show.
        let run = validate("DO $$ BEGIN EXECUTE 'ALTER TABLE unrelated ADD COLUMN note text'; END $$;").await;
        assert_eq!(note(&run), None);
    }

    /// Copying the sample never holds locks on every table at once: each table read in one
    /// transaction stays locked (with its indexes) in the server's shared lock table until the
    /// transaction ends, and at 10,000 tables one transaction ran the target out of shared
    /// memory, failing other sessions' queries. Watched from outside through `pg_locks`.
    #[tokio::test]
    async fn the_sample_copy_holds_few_locks_on_the_target_at_a_time() {
        let tables = 150;
        let sql: String = (0..tables)
            .map(|i| format!("CREATE TABLE w{i} (id int PRIMARY KEY, code text UNIQUE); INSERT INTO w{i} VALUES (1, 'a');\n"))
            .collect();
        let Some(db) = TestDb::new(Server::Postgres, &sql).await else { return };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (url, name, stop) = (Server::Postgres.admin_url().unwrap(), db.name.clone(), stop.clone());
            tokio::spawn(async move {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                let mut most = 0i64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let held: Option<i64> = sqlx::query_scalar(
                        "SELECT max(n) FROM (SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                         WHERE a.datname = $1 AND a.application_name = 'dbconsultant' AND l.locktype = 'relation' GROUP BY l.pid) per_session",
                    )
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                    most = most.max(held.unwrap_or(0));
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                most
            })
        };
        let mut request = req(&db, "ALTER TABLE w1 ADD COLUMN note text;");
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let most = watcher.await.unwrap();
        assert!(run.sandbox.as_deref().unwrap().contains("150 tables"), "{:?}", run.sandbox);
        // Reading all 150 tables in one transaction holds ~450 (tables, keys, uniques); the
        // schema dump holds one per table.
        assert!(most > 0 && most < 300, "one session held {most} relation locks on the target");
    }

    /// A NOT VALID check that the target's old rows break (added that way so they could stay)
    /// does not stop the copy: the sample loads with those rows, the check is back NOT VALID,
    /// and validating it in the sandbox fails on them, as it would on the target.
    #[tokio::test]
    async fn a_not_valid_check_broken_by_old_rows_does_not_stop_the_copy() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        db.exec(
            "ALTER TABLE products DROP CONSTRAINT products_price_cents_check;
             INSERT INTO products VALUES (9, 'OLD-09', 'Legacy credit', -100, NULL);
             ALTER TABLE products ADD CONSTRAINT products_price_not_negative CHECK (price_cents >= 0) NOT VALID;",
        )
        .await;
        let mut request = req(&db, "ALTER TABLE products VALIDATE CONSTRAINT products_price_not_negative;");
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        assert!(run.sandbox.as_deref().unwrap().contains("throwaway PostgreSQL"), "{:?}", run.sandbox);
        let f = finding(&run, FindingId::MigrationFails);
        assert!(f.message.contains("products_price_not_negative"), "{f:#?}");
    }

    #[tokio::test]
    async fn the_default_sandbox_is_a_throwaway_copy_and_never_the_target() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let mut request = req(&db, FK_MIGRATION);
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        let sandbox = run.sandbox.as_deref().unwrap();
        assert!(sandbox.contains("throwaway PostgreSQL 1") && sandbox.contains("5 tables"), "{sandbox}");
        assert!(run.findings.iter().all(|f| f.rule != FindingId::SandboxOnTarget), "{:#?}", run.findings);
        // Without server binaries and without leave to use the target: a clear error naming
        // the three ways out, and nothing run anywhere.
        request.config.sandbox.server_bindir = Some(dir.path().display().to_string());
        let err = consultant(dir.path()).await.validate_schema(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sandbox);
        let text = err.to_string();
        for needle in ["no sandbox for this PostgreSQL", "server binaries", "--sandbox-url", "--sandbox-on-target"] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(!text.contains(&Server::Postgres.password()), "{text}");
        // With leave: on the target itself, in a rolled-back transaction, and the report says so.
        request.config.sandbox.allow_scratch_on_target = true;
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        let warning = finding(&run, FindingId::SandboxOnTarget);
        assert_eq!(warning.severity, Severity::Medium);
        assert!(run.sandbox.as_deref().unwrap().contains("on the target"), "{:?}", run.sandbox);
        finding(&run, FindingId::MigrationFails);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM pg_constraint WHERE conname = 'fk_orders_customer'").await, 0);
    }

    #[tokio::test]
    async fn a_statement_slower_than_the_sandbox_allows_is_reported_not_failed() {
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let mut request = req(&db, "SELECT pg_sleep(2);\nALTER TABLE customers ADD COLUMN nickname text;");
        request.config.sandbox.statement_timeout_ms = 300;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        let slow = finding(&run, FindingId::SandboxTimeout);
        assert_eq!((slow.statement, slow.severity), (Some(1), Severity::High));
        assert!(run.findings.iter().all(|f| f.rule != FindingId::MigrationFails), "{:#?}", run.findings);
        // The statements after it still ran.
        assert!(run.schema_changes.iter().any(|c| c.name == "nickname"), "{:#?}", run.schema_changes);
    }

    #[tokio::test]
    async fn server_binaries_of_another_major_version_are_not_used() {
        // A bindir whose tools report another major is not taken for this target's.
        let Some(db) = TestDb::shop(Server::Postgres).await else { return };
        let mut request = req(&db, FK_MIGRATION);
        request.config.sandbox.allow_scratch_on_target = false;
        let fake = tempfile::tempdir().unwrap();
        for tool in ["initdb", "pg_ctl", "pg_dump", "pg_restore"] {
            let path = fake.path().join(tool);
            std::fs::write(&path, "#!/bin/sh\necho \"$0 (PostgreSQL) 9.6.24\"\n").unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
        request.config.sandbox.server_bindir = Some(fake.path().display().to_string());
        let dir = tempfile::tempdir().unwrap();
        let err = consultant(dir.path()).await.validate_schema(&request).await.unwrap_err();
        assert!(err.to_string().contains("found other versions") && err.to_string().contains("(9)"), "{err}");
    }

    #[tokio::test]
    async fn sandbox_server_logins_without_rights_are_clear() {
        let Some(target) = TestDb::shop(Server::Postgres).await else { return };
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let (plain, creator) = (format!("dbc_plain_{suffix}"), format!("dbc_creator_{suffix}"));
        target
            .exec(&format!(
                "CREATE ROLE {plain} LOGIN PASSWORD 'sandbox-secret' NOCREATEDB; CREATE ROLE {creator} LOGIN PASSWORD 'sandbox-secret' CREATEDB;"
            ))
            .await;
        let login = |role: &str| {
            let mut u = url::Url::parse(&target.url).unwrap();
            u.set_username(role).unwrap();
            u.set_password(Some("sandbox-secret")).unwrap();
            u.set_path("/postgres");
            u.to_string()
        };
        let dir = tempfile::tempdir().unwrap();
        // No CREATEDB: a clear error, the password nowhere.
        let mut request = req(&target, FK_MIGRATION);
        request.sandbox_url = Some(login(&plain));
        let err = consultant(dir.path()).await.validate_schema(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sandbox);
        assert!(err.to_string().contains("needs CREATEDB") && !err.to_string().contains("sandbox-secret"), "{err}");
        // CREATEDB but no superuser: the schema is copied, rows are not, and the report says
        // so; the new foreign key is then checked on the target's rows.
        request.sandbox_url = Some(login(&creator));
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        let note = run.findings.iter().find(|f| f.rule == FindingId::SandboxNote && f.message.contains("no rows were copied"));
        assert!(note.is_some(), "{:#?}", run.findings);
        let violated = finding(&run, FindingId::NewConstraintViolated);
        assert!(violated.message.contains("2 offending row(s)"), "{}", violated.message);
        assert_eq!(target.scalar(&scratch_databases(&run)).await, 0);
        target.exec(&format!("DROP ROLE {plain}; DROP ROLE {creator};")).await;
    }

    #[tokio::test]
    async fn sandbox_server_gets_a_scratch_copy_of_the_target() {
        let Some(target) = TestDb::shop(Server::Postgres).await else { return };
        // The sandbox server is another database's login on the test server: the scratch
        // database is created there, holds the target's schema and rows, and is dropped.
        let shadow = TestDb::shop(Server::Postgres).await.unwrap();
        let before = introspect(&target).await;
        let dir = tempfile::tempdir().unwrap();
        let mut request = req(&target, FK_MIGRATION);
        request.sandbox_url = Some(shadow.url.clone());
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        // The copy carries the target's orphans, so the migration fails there as it would in
        // production, with the same rows.
        let f = finding(&run, FindingId::MigrationFails);
        let orphans: Vec<i64> = f.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
        assert_eq!(orphans, [42, 99], "{f:#?}");
        assert!(run.sandbox.as_deref().unwrap().contains("scratch database dbconsultant_sandbox_"), "{:?}", run.sandbox);
        assert_eq!(shadow.scalar(&scratch_databases(&run)).await, 0);
        assert_eq!(shadow.scalar("SELECT COUNT(*) FROM pg_constraint WHERE conname = 'fk_orders_customer'").await, 0);
        assert_eq!(introspect(&target).await, before);
    }
}

/// Counts the scratch database a run names in its sandbox description (0 once dropped).
fn scratch_databases(run: &TestRun) -> String {
    let name = run.sandbox.as_deref().unwrap().split_whitespace().find(|w| w.starts_with("dbconsultant_sandbox_")).unwrap().to_string();
    format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'")
}

mod mysql_only {
    use super::*;

    #[tokio::test]
    async fn alter_algorithms_are_probed() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let run = validate(&db, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(50);\nALTER TABLE customers ADD INDEX ix_customers_phone (phone);\nALTER TABLE orders MODIFY total BIGINT NOT NULL;").await;
        let algo: Vec<(usize, String)> = run
            .findings
            .iter()
            .filter(|f| f.rule == FindingId::AlterAlgorithm)
            .map(|f| (f.statement.unwrap(), f.message.clone()))
            .collect();
        assert!(algo[0].1.contains("INSTANT"), "{algo:?}");
        assert!(algo[1].1.contains("INPLACE"), "{algo:?}");
        assert!(algo[2].1.contains("COPY") && algo[2].1.contains("(5 rows)"), "{algo:?}");
        assert_eq!(
            run.findings.iter().find(|f| f.rule == FindingId::AlterAlgorithm && f.statement == Some(3)).unwrap().severity,
            Severity::High
        );
    }

    #[tokio::test]
    async fn the_server_decides_syntax_the_rules_parser_cannot_read() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        // Valid MySQL/MariaDB that sqlparser cannot read: noted, never a syntax error.
        let run = validate(&db, "ALTER TABLE customers ENGINE = InnoDB;").await;
        assert!(run.findings.iter().any(|f| f.rule == FindingId::UnanalyzedStatement), "{:#?}", run.findings);
        assert!(!run.findings.iter().any(|f| matches!(f.rule, FindingId::SyntaxError | FindingId::MigrationFails)), "{:#?}", run.findings);
        // Invalid: the server's parser refuses it, and that is the syntax verdict.
        let run = validate(&db, "ALTER TABLE customers ENGINE = InnoDB,, ROW_FORMAT = DYNAMIC;").await;
        let f = finding(&run, FindingId::SyntaxError);
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.message.contains("refuses its syntax") && f.message.contains("near ' ROW_FORMAT"), "{}", f.message);
        assert!(!run.findings.iter().any(|f| f.rule == FindingId::MigrationFails), "{:#?}", run.findings);
        assert_eq!(run.status, RunStatus::Failed);
    }

    #[tokio::test]
    async fn column_checks_with_the_same_name_stay_with_their_table() {
        // MariaDB names a column-level CHECK after its column: two `status` checks.
        let sql = "CREATE TABLE a (status INT CHECK (status > 0)); CREATE TABLE b (status INT CHECK (status < 9));";
        let Some(db) = TestDb::new(Server::Mysql, sql).await else { return };
        let schema = introspect(&db).await;
        assert_eq!(schema.tables["a"].check_constraints[0].expression, "`status` > 0");
        assert_eq!(schema.tables["b"].check_constraints[0].expression, "`status` < 9");
    }

    #[tokio::test]
    async fn modify_that_drops_not_null_is_caught_with_the_schema() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let run = validate(&db, "ALTER TABLE customers MODIFY email VARCHAR(300);").await;
        let f = finding(&run, FindingId::MysqlModifyDropsAttributes);
        assert!(f.message.contains("silently becomes nullable"), "{}", f.message);
        let change = run.schema_changes.iter().find(|c| c.name == "email").unwrap();
        assert!(change.details.contains("now nullable"), "{}", change.details);
    }

    #[tokio::test]
    async fn scratch_database_is_dropped_and_required() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let run = validate(&db, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(50);\nALTER TABLE nope ADD COLUMN x INT;").await;
        assert_eq!(run.status, RunStatus::Failed, "fails half-way");
        // The run names its scratch database; it is gone afterwards.
        let sandbox = run.sandbox.clone().unwrap();
        let scratch = sandbox.split_whitespace().nth(2).unwrap();
        assert!(scratch.starts_with("dbconsultant_sandbox_"), "{sandbox}");
        let leftover = db.scalar(&format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{scratch}'")).await;
        assert_eq!(leftover, 0);
        let dir = tempfile::tempdir().unwrap();
        let mut request = req(&db, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(50);");
        // Neither a sandbox server, nor leave to use the target's, nor server binaries.
        request.config.sandbox = SandboxOptions { server_bindir: Some(dir.path().display().to_string()), ..Default::default() };
        let err = consultant(dir.path()).await.validate_schema(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sandbox);
        assert!(err.to_string().contains("--sandbox-url") && err.to_string().contains("--sandbox-on-target"), "{err}");
        // Statements naming another database never run in the scratch copy.
        for escape in [
            format!("DROP TABLE {}.legacy_coupons;", db.name),
            format!("INSERT INTO {0}.legacy_coupons SELECT 'X', 1 FROM dual;", db.name),
            "DELETE FROM mysql.user WHERE 1 = 0;".to_string(),
        ] {
            let run = validate(&db, &escape).await;
            assert!(finding(&run, FindingId::MigrationFails).message.contains("names database"), "{escape}");
        }
        assert_eq!(db.scalar("SELECT COUNT(*) FROM legacy_coupons").await, 2);
    }

    #[tokio::test]
    async fn insufficient_privileges_for_the_scratch_database_are_a_clear_error() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let user = format!("ro_{}", &db.name[9..]);
        db.exec(&format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'ro-secret'; GRANT SELECT ON {}.* TO '{user}'@'127.0.0.1';",
            db.name
        ))
        .await;
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_username(&user).unwrap();
        url.set_password(Some("ro-secret")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut request = req(&db, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(50);");
        request.database_url = url.to_string();
        let err = consultant(dir.path()).await.validate_schema(&request).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Sandbox);
        let text = err.to_string();
        assert!(text.contains("needs CREATE and DROP rights") && !text.contains("ro-secret"), "{text}");
    }

    #[tokio::test]
    async fn the_default_sandbox_is_a_throwaway_mariadb_server() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let mut request = req(&db, FK_MIGRATION);
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        assert!(run.sandbox.as_deref().unwrap().contains("on a throwaway MariaDB server"), "{:?}", run.sandbox);
        // The copy carries the orphans: the same failure, the same rows, as on the target.
        let f = finding(&run, FindingId::MigrationFails);
        let orphans: Vec<i64> = f.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
        assert_eq!(orphans, [42, 99], "{f:#?}");
        assert_eq!(db.scalar("SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'fk_orders_customer'").await, 0);
    }

    /// On a large database (over 1,000 tables) the scratch copy holds what the migration
    /// names and its foreign-key and view neighbours; a table with a trigger copies all.
    #[tokio::test]
    async fn a_large_database_is_copied_only_where_the_migration_reaches() {
        let mut sql: String = (0..1_050).map(|i| format!("CREATE TABLE filler_{i} (id int);\n")).collect();
        sql.push_str(
            "CREATE TABLE parent (id int PRIMARY KEY);
             CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id));
             CREATE TABLE grandchild (id int PRIMARY KEY, child_id int, FOREIGN KEY (child_id) REFERENCES child (id));
             CREATE VIEW child_view AS SELECT id FROM child;
             CREATE TABLE unrelated (id int PRIMARY KEY);
             CREATE TABLE audited (id int PRIMARY KEY);
             CREATE TRIGGER audited_noop BEFORE INSERT ON audited FOR EACH ROW SET NEW.id = NEW.id;
             INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);",
        );
        let Some(db) = TestDb::new(Server::Mysql, &sql).await else { return };
        let validate = |migration: &'static str| {
            let mut request = req(&db, migration);
            request.config.sandbox.allow_scratch_on_target = false;
            async move {
                let dir = tempfile::tempdir().unwrap();
                consultant(dir.path()).await.validate_schema(&request).await.unwrap()
            }
        };
        let note = |run: &TestRun| run.findings.iter().find(|f| f.message.contains("the sandbox holds")).map(|f| f.message.clone());
        let run = validate("ALTER TABLE child ADD COLUMN note varchar(20);").await;
        let said = note(&run).unwrap_or_else(|| panic!("{:#?}", run.findings));
        assert!(said.contains("holds 4 of the target's tables and views"), "{said}");
        assert!(run.findings.iter().all(|f| f.rule != FindingId::MigrationFails), "{:#?}", run.findings);
        assert_eq!(run.schema_changes.len(), 1, "{:#?}", run.schema_changes);
        let run = validate("ALTER TABLE audited ADD COLUMN note varchar(20);").await;
        assert_eq!(note(&run), None, "a trigger copies everything");
    }

    /// Rows loaded past a CHECK (MariaDB's check_constraint_checks off) do not stop the copy:
    /// the sample carries them and the check holds again while the migration runs.
    #[tokio::test]
    async fn rows_that_break_a_check_do_not_stop_the_copy() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        db.exec(
            "SET SESSION check_constraint_checks = 0;
             ALTER TABLE products ADD CONSTRAINT products_price_not_negative CHECK (price_cents >= 0);
             INSERT INTO products VALUES (9, 'OLD-09', 'Legacy credit', -100, NULL);",
        )
        .await;
        let mut request = req(&db, "ALTER TABLE products ADD COLUMN note varchar(20);");
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        assert!(run.sandbox.as_deref().unwrap().contains("on a throwaway MariaDB server"), "{:?}", run.sandbox);
        assert!(run.findings.iter().all(|f| f.rule != FindingId::MigrationFails), "{:#?}", run.findings);
    }

    /// A MariaDB server deletes every `#sql*` file in its tmpdir when it starts. The throwaway
    /// sandbox server has a tmpdir of its own, so the temporary tables another server on this
    /// machine is using in /tmp (the user's own server) survive it.
    #[tokio::test]
    async fn the_throwaway_mariadb_server_leaves_other_servers_temporary_files_alone() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let canary = std::env::temp_dir().join(format!("#sql-temptable-dbc-{}.MAI", uuid::Uuid::new_v4().simple()));
        std::fs::write(&canary, b"another server's temporary table").unwrap();
        let mut request = req(&db, FK_MIGRATION);
        request.config.sandbox.allow_scratch_on_target = false;
        let dir = tempfile::tempdir().unwrap();
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        assert!(run.sandbox.as_deref().unwrap().contains("on a throwaway MariaDB server"), "{:?}", run.sandbox);
        let survived = canary.exists();
        std::fs::remove_file(&canary).ok();
        assert!(survived, "the sandbox server deleted {}", canary.display());
    }

    #[tokio::test]
    async fn sampled_tables_are_checked_on_the_targets_full_data() {
        let Some(db) = TestDb::shop(Server::Mysql).await else { return };
        let dir = tempfile::tempdir().unwrap();
        // Two rows per table in the scratch database: the orphans are not in the sample, and
        // the parents of the sampled orders may not be either.
        let mut request = req(&db, FK_MIGRATION);
        request.config.sandbox.sample_rows = 2;
        let run = consultant(dir.path()).await.validate_schema(&request).await.unwrap();
        // The foreign key is checked on the target's rows (read-only): both orphans, found.
        let f = finding(&run, FindingId::NewConstraintViolated);
        assert!(f.message.contains("2 offending row(s)") && !f.message.contains("sample"), "{f:#?}");
        let orphans: Vec<i64> = f.sample_records.iter().map(|r| r["customer_id"].as_i64().unwrap()).collect();
        assert_eq!(orphans, [42, 99], "{f:#?}");
        let result = run.integrity_results.iter().find(|r| r.integrity_type == IntegrityType::Fk).unwrap();
        assert_eq!(result.failure_count, 2);
    }
}
