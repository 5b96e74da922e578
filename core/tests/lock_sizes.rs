//! Lock findings know the size of the table they lock when validating against a real
//! PostgreSQL: the same non-concurrent index build is `low` on a 10-row table and `high` on a
//! table of more than a million rows, with the row estimate in the message.

mod common;

use common::servers::{Server, TestDb};
use common::*;
use dbconsultant::findings::FindingId;
use dbconsultant::model::Severity;
use dbconsultant::{MigrationSource, SchemaValidationRequest};

#[tokio::test]
async fn lock_severity_follows_the_table_size() {
    let setup = "CREATE TABLE tiny (id bigint PRIMARY KEY, status text);
        INSERT INTO tiny SELECT g, 'new' FROM generate_series(1, 10) g;
        CREATE TABLE huge (id bigint PRIMARY KEY, status text);
        INSERT INTO huge SELECT g, 'new' FROM generate_series(1, 1100000) g;
        ANALYZE tiny; ANALYZE huge;";
    let Some(db) = TestDb::new(Server::Postgres, setup).await else { return };
    let dir = tempfile::tempdir().unwrap();
    let c = consultant(dir.path()).await;
    let sql = "CREATE INDEX tiny_status ON tiny (status);\nCREATE INDEX huge_status ON huge (status);";
    let req =
        SchemaValidationRequest { database_url: db.url.clone(), migrations: vec![MigrationSource::inline(sql)], ..Default::default() };
    let run = c.validate_schema(&req).await.unwrap();
    let index: Vec<_> = run.findings.iter().filter(|f| f.rule == FindingId::RequireConcurrentIndexCreation).collect();
    assert_eq!(index.len(), 2, "{:#?}", run.findings);
    let (tiny, huge) = (index[0], index[1]);
    assert_eq!(tiny.severity, Severity::Low, "{tiny:?}");
    assert!(tiny.message.contains("tiny has ~10 rows"), "{}", tiny.message);
    assert_eq!(huge.severity, Severity::High, "{huge:?}");
    assert!(huge.message.contains("huge has ~1100000 rows"), "{}", huge.message);

    // Without a database the size is unknown: the rule's own severity, no size.
    let lint = dbconsultant::checks::schema::lint(&dbconsultant::LintRequest {
        migrations: vec![MigrationSource::inline(sql)],
        dialect: dbconsultant::Dialect::Postgres,
        ..Default::default()
    })
    .unwrap();
    let plain: Vec<_> = lint.findings.iter().filter(|f| f.rule == FindingId::RequireConcurrentIndexCreation).collect();
    assert!(plain.iter().all(|f| f.severity == Severity::Medium && !f.message.contains("rows")), "{plain:#?}");
}
