//! Guarantee 1 of docs/guarantees.md: the target sees only read-only queries and never waits
//! on us. A validation of a
//! rewriting migration and a performance profile whose recommendation needs verifying run
//! against a PostgreSQL target with a 1,000,000-row table while a writer keeps inserting and
//! updating it. The writer's lock waits are capped at 50 ms (a longer one fails its statement
//! and the test), a monitor samples `pg_locks` throughout and sees no lock above ACCESS SHARE
//! from anyone else, and afterwards the target's schema and untouched tables are as before.
//! The same on MariaDB, whose writer fails on any lock wait at all.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::servers::{Server, TestDb};
use dbconsultant::findings::FindingId;
use dbconsultant::model::{SchemaSnapshot, Severity};
use dbconsultant::{MigrationSource, PerfRequest, SchemaValidationRequest};
use sqlx::{Connection, PgConnection};

const SETUP: &str = "
CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, note text NOT NULL);
INSERT INTO big SELECT g, g % 100, md5(g::text) FROM generate_series(1, 1000000) g;
CREATE TABLE events (id bigint PRIMARY KEY, amount int NOT NULL);
INSERT INTO events SELECT g, g % 50 FROM generate_series(1, 200000) g;
-- One bad row, far from the first pages a sample copies.
UPDATE events SET amount = -7 WHERE id = 199999;
CREATE TABLE settings (k text PRIMARY KEY, v text);
INSERT INTO settings VALUES ('mode', 'live'), ('region', 'eu');
ANALYZE;";

/// Builds an index on the 1M-row table, rewrites it, adds a constraint the full data breaks
/// (the sample does not), and changes a small table's rows and schema.
const MIGRATION: &str = "
CREATE INDEX ix_big_note ON big (note);
ALTER TABLE big ALTER COLUMN v TYPE bigint;
ALTER TABLE events ADD CONSTRAINT events_amount_positive CHECK (amount >= 0);
UPDATE settings SET v = 'maintenance' WHERE k = 'mode';
ALTER TABLE settings ADD COLUMN changed_at timestamptz;";

/// Schema without the statistics a writer moves (row estimates, sizes).
fn shape(mut s: SchemaSnapshot) -> SchemaSnapshot {
    for t in s.tables.values_mut() {
        t.row_estimate = None;
        t.size_bytes = None;
    }
    s
}

struct Writer {
    statements: u64,
    longest: Duration,
    errors: Vec<String>,
}

/// Inserts and updates `big` until told to stop; a lock wait over 50 ms fails the statement.
async fn write(url: String, stop: Arc<AtomicBool>) -> Writer {
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::query("SET lock_timeout = '50ms'").execute(&mut conn).await.unwrap();
    let mut w = Writer { statements: 0, longest: Duration::ZERO, errors: Vec::new() };
    let mut next_id = 2_000_000i64;
    while !stop.load(Ordering::Relaxed) {
        next_id += 1;
        let started = Instant::now();
        let inserted = sqlx::query("INSERT INTO big (id, v, note) VALUES ($1, 1, 'writer')").bind(next_id).execute(&mut conn).await;
        let updated = sqlx::query("UPDATE big SET v = v + 1 WHERE id = $1").bind(next_id % 1_000_000 + 1).execute(&mut conn).await;
        w.longest = w.longest.max(started.elapsed());
        w.statements += 2;
        for r in [inserted, updated] {
            if let Err(e) = r {
                w.errors.push(e.to_string());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    w
}

/// Every relation lock anyone but the writer and this monitor holds or awaits in the target
/// database, sampled until told to stop: (mode, application_name).
async fn watch_locks(url: String, writer_app: &'static str, stop: Arc<AtomicBool>) -> Vec<(String, String)> {
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let mut seen = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT l.mode, COALESCE(a.application_name, '') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.pid <> pg_backend_pid() AND a.application_name <> $1
               -- Autovacuum on the writer's rows takes SHARE UPDATE EXCLUSIVE too; it is the
               -- server's own, not ours (anything we run is a client backend).
               AND a.backend_type = 'client backend'",
        )
        .bind(writer_app)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        seen.extend(rows);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    seen
}

fn with_app(url: &str, app: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.query_pairs_mut().append_pair("application_name", app);
    u.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn validation_and_profiling_never_make_the_target_wait() {
    let Some(db) = TestDb::new(Server::Postgres, SETUP).await else { return };
    let checksum = "SELECT md5(string_agg(k || '=' || coalesce(v, ''), ',' ORDER BY k)) FROM settings";
    let settings_before = db.text(checksum).await;
    let events_before = db.text("SELECT md5(string_agg(id::text || ':' || amount, ',' ORDER BY id)) FROM events").await;
    let schema_before = shape(
        dbconsultant::driver::connect(&dbconsultant::url::DatabaseUrl::parse(&db.url).unwrap()).await.unwrap().introspect().await.unwrap(),
    );

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write(with_app(&db.url, "test-writer"), stop.clone()));
    let monitor = tokio::spawn(watch_locks(with_app(&db.url, "test-monitor"), "test-writer", stop.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let dir = tempfile::tempdir().unwrap();
    let consultant = common::consultant(dir.path()).await;
    let request = SchemaValidationRequest {
        database_url: db.url.clone(),
        migrations: vec![MigrationSource::named("V2__rewrite.sql", MIGRATION)],
        ..Default::default()
    };
    let run = consultant.validate_schema(&request).await.unwrap();
    let profile = PerfRequest {
        database_url: db.url.clone(),
        queries: vec!["SELECT id, v FROM big WHERE note = 'c4ca4238a0b923820dcc509a6f75849b'".into()],
        runs: 2,
        ..Default::default()
    };
    let perf = consultant.profile_performance(&profile).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let w = writer.await.unwrap();
    let locks = monitor.await.unwrap();

    // The writer never waited on a lock for 50 ms (lock_timeout would have failed it).
    println!("writer: {} statements, longest {:?}, {} lock samples from others", w.statements, w.longest, locks.len());
    assert!(w.errors.is_empty(), "the writer waited on the tool {} times: {:?}", w.errors.len(), w.errors.first());
    assert!(w.statements > 50, "the writer ran throughout: {}", w.statements);
    // Nothing but ACCESS SHARE was held on the target by anyone else, and the tool's reads
    // were seen (the monitor was looking).
    let stronger: Vec<_> = locks.iter().filter(|(mode, _)| mode != "AccessShareLock").collect();
    assert!(stronger.is_empty(), "locks above ACCESS SHARE on the target: {stronger:?}");
    assert!(locks.iter().any(|(_, app)| app == "dbconsultant" || app == "pg_dump"), "the monitor never saw the tool: {locks:?}");

    // The findings came from the shadow, sized by the target.
    assert!(run.sandbox.as_deref().unwrap().contains("throwaway PostgreSQL"), "{:?}", run.sandbox);
    let rewrite = run.findings.iter().find(|f| f.rule == FindingId::LockObserved && f.statement == Some(2)).expect("the rewrite's lock");
    assert!(rewrite.message.contains("rewrites it (1,00") && rewrite.message.contains("MB on the target; est. "), "{}", rewrite.message);
    assert!(rewrite.severity >= Severity::High, "{rewrite:?}");
    let index = run
        .findings
        .iter()
        .find(|f| f.rule == FindingId::LockObserved && f.statement == Some(1))
        .unwrap_or_else(|| panic!("the index build's lock: {:#?}", run.findings));
    assert!(index.message.contains("ShareLock on big for an index build"), "{}", index.message);
    // The CHECK holds on the sample and not on the full data: the target's rows answered.
    let violated = run.findings.iter().find(|f| f.rule == FindingId::NewConstraintViolated).expect("the bad row on the full data");
    assert!(
        violated.message.contains("events_amount_positive") && violated.message.contains(": 1 offending row(s)"),
        "{}",
        violated.message
    );
    assert_eq!(violated.sample_records[0]["id"], 199999);
    // The profile verified its index off the target.
    let m = &perf.performance_metrics[0];
    let verification = &m.recommendations.first().unwrap_or_else(|| panic!("{m:#?}"))["verification"];
    assert_eq!(verification["method"], "sandbox-copy", "{m:#?}");

    // The target is as it was: schema, the rows no one but the migration touched.
    let schema_after = shape(
        dbconsultant::driver::connect(&dbconsultant::url::DatabaseUrl::parse(&db.url).unwrap()).await.unwrap().introspect().await.unwrap(),
    );
    assert_eq!(schema_after, schema_before);
    assert_eq!(db.text(checksum).await, settings_before);
    assert_eq!(db.text("SELECT md5(string_agg(id::text || ':' || amount, ',' ORDER BY id)) FROM events").await, events_before);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM big WHERE note = 'writer'").await as u64, w.statements / 2);
}

const MARIADB_SETUP: &str = "
CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, note char(32) NOT NULL) ENGINE=InnoDB;
INSERT INTO big SELECT seq, seq % 100, md5(seq) FROM seq_1_to_1000000;
CREATE TABLE events (id bigint PRIMARY KEY, amount int NOT NULL) ENGINE=InnoDB;
INSERT INTO events SELECT seq, seq % 50 FROM seq_1_to_200000;
UPDATE events SET amount = -7 WHERE id = 199999;
CREATE TABLE settings (k varchar(20) PRIMARY KEY, v varchar(50)) ENGINE=InnoDB;
INSERT INTO settings VALUES ('mode', 'live'), ('region', 'eu');
ANALYZE TABLE big, events, settings;";

const MARIADB_MIGRATION: &str = "
ALTER TABLE big ADD INDEX ix_big_note (note);
ALTER TABLE big MODIFY v bigint NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_amount_positive CHECK (amount >= 0);
UPDATE settings SET v = 'maintenance' WHERE k = 'mode';
ALTER TABLE settings ADD COLUMN changed_at datetime;";

/// The MariaDB writer fails at once on any lock wait (`lock_wait_timeout` and
/// `innodb_lock_wait_timeout` 0): metadata locks and row locks alike.
async fn write_mariadb(url: String, stop: Arc<AtomicBool>) -> Writer {
    let mut conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
    sqlx::query("SET SESSION lock_wait_timeout = 0, SESSION innodb_lock_wait_timeout = 0").execute(&mut conn).await.unwrap();
    let mut w = Writer { statements: 0, longest: Duration::ZERO, errors: Vec::new() };
    let mut next_id = 2_000_000i64;
    while !stop.load(Ordering::Relaxed) {
        next_id += 1;
        let started = Instant::now();
        let inserted = sqlx::query("INSERT INTO big (id, v, note) VALUES (?, 1, 'writer')").bind(next_id).execute(&mut conn).await;
        // The first rows, which the sandbox's sample copies.
        let updated = sqlx::query("UPDATE big SET v = v + 1 WHERE id = ?").bind(next_id % 1000 + 1).execute(&mut conn).await;
        w.longest = w.longest.max(started.elapsed());
        w.statements += 2;
        for r in [inserted, updated] {
            if let Err(e) = r {
                w.errors.push(e.to_string());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_validation_never_makes_the_target_wait() {
    let Some(db) = TestDb::new(Server::Mysql, MARIADB_SETUP).await else { return };
    let checksum = "SELECT MD5(GROUP_CONCAT(k, '=', COALESCE(v, '') ORDER BY k)) FROM settings";
    let settings_before = db.text(checksum).await;
    let events_before = db.text("SELECT MD5(GROUP_CONCAT(id, ':', amount ORDER BY id SEPARATOR ',')) FROM events").await;
    let target = dbconsultant::driver::connect(&dbconsultant::url::DatabaseUrl::parse(&db.url).unwrap()).await.unwrap();
    let schema_before = shape(target.introspect().await.unwrap());

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_mariadb(db.url.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut request = SchemaValidationRequest {
        database_url: db.url.clone(),
        migrations: vec![MigrationSource::named("V2__rewrite.sql", MARIADB_MIGRATION)],
        ..Default::default()
    };
    // A scratch database beside the target's, on the same server.
    request.config.sandbox.allow_scratch_on_target = true;
    let run = common::consultant(dir.path()).await.validate_schema(&request).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let w = writer.await.unwrap();

    println!("mariadb writer: {} statements, longest {:?}", w.statements, w.longest);
    assert!(w.errors.is_empty(), "the writer waited on the tool {} times: {:?}", w.errors.len(), w.errors.first());
    assert!(w.statements > 50, "the writer ran throughout: {}", w.statements);
    // The COPY algorithm, sized by the target; the bad row found on the full data.
    let copy = run
        .findings
        .iter()
        .find(|f| f.rule == FindingId::AlterAlgorithm && f.statement == Some(2))
        .unwrap_or_else(|| panic!("{:#?}", run.findings));
    assert!(
        copy.message.contains("ALGORITHM=COPY: copies big (9") || copy.message.contains("ALGORITHM=COPY: copies big (1,0"),
        "{}",
        copy.message
    );
    let violated =
        run.findings.iter().find(|f| f.rule == FindingId::NewConstraintViolated).unwrap_or_else(|| panic!("{:#?}", run.findings));
    assert!(
        violated.message.contains("events_amount_positive") && violated.message.contains(": 1 offending row(s)"),
        "{}",
        violated.message
    );
    // The target is as it was.
    assert_eq!(shape(target.introspect().await.unwrap()), schema_before);
    assert_eq!(db.text(checksum).await, settings_before);
    assert_eq!(db.text("SELECT MD5(GROUP_CONCAT(id, ':', amount ORDER BY id SEPARATOR ',')) FROM events").await, events_before);
    // Its scratch database is gone.
    let scratch = run.sandbox.as_deref().unwrap().split_whitespace().nth(2).unwrap().to_string();
    assert!(scratch.starts_with("dbconsultant_sandbox_"), "{:?}", run.sandbox);
    assert_eq!(db.scalar(&format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{scratch}'")).await, 0);
}
