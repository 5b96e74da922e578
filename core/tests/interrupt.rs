//! An interrupted run (Ctrl-C in the CLI) drops its MySQL scratch database. In its own test
//! binary: the cleanup hook drops every scratch database of the process, which would pull
//! the floor from under concurrent tests.

mod common;

use common::servers::{Server, TestDb};
use dbconsultant::driver::{connect, SandboxOptions};
use dbconsultant::url::DatabaseUrl;

#[tokio::test]
async fn interrupted_runs_drop_their_scratch_database() {
    let Some(db) = TestDb::shop(Server::Mysql).await else { return };
    let driver = connect(&DatabaseUrl::parse(&db.url).unwrap()).await.unwrap();
    let options = SandboxOptions { allow_scratch_on_target: true, ..Default::default() };
    let sandbox = driver.open_sandbox(&options).await.unwrap();
    let scratch = sandbox.description().split_whitespace().nth(2).unwrap().to_string();
    let exists = format!("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{scratch}'");
    assert_eq!(db.scalar(&exists).await, 1);
    // The process is interrupted: the sandbox is never closed, the cleanup hook runs.
    std::mem::forget(sandbox);
    dbconsultant::driver::cleanup_interrupted().await;
    assert_eq!(db.scalar(&exists).await, 0);
}
