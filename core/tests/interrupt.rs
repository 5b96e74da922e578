//! An interrupted run (Ctrl-C in the CLI) drops its MySQL scratch database and stops its
//! throwaway PostgreSQL and MariaDB servers. In its own test
//! binary: the cleanup hook drops every scratch database of the process, which would pull
//! the floor from under concurrent tests.

mod common;

use common::servers::{Server, TestDb};
use dbconsultant::driver::{connect, SandboxOptions};
use dbconsultant::url::DatabaseUrl;

/// The cleanup hook is process-wide: the tests here take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn interrupted_runs_drop_their_scratch_database() {
    let _turn = SERIAL.lock().await;
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

/// Processes whose command line names one of this process's sandbox server directories.
fn running_shadow_servers() -> usize {
    let needle = format!("dbconsultant-shadow-{}-", std::process::id());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|cmd| String::from_utf8_lossy(cmd).contains(&needle))
        .count()
}

#[tokio::test]
async fn interrupted_runs_stop_their_throwaway_servers() {
    let _turn = SERIAL.lock().await;
    let Some(target) = TestDb::shop(Server::Postgres).await else { return };
    let sandbox_server = TestDb::shop(Server::Postgres).await.unwrap();
    let driver = connect(&DatabaseUrl::parse(&target.url).unwrap()).await.unwrap();
    // A throwaway local server, and a scratch database on a sandbox server.
    let local = driver.open_sandbox(&SandboxOptions::default()).await.unwrap();
    assert!(running_shadow_servers() > 0, "the throwaway server runs");
    let remote =
        driver.open_sandbox(&SandboxOptions { sandbox_url: Some(sandbox_server.url.clone()), ..Default::default() }).await.unwrap();
    let scratch = "SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'dbconsultant_sandbox_%'";
    assert!(sandbox_server.scalar(scratch).await >= 1);
    // And a throwaway MariaDB server for a MariaDB target.
    let maria = TestDb::shop(Server::Mysql).await.unwrap();
    let maria_driver = connect(&DatabaseUrl::parse(&maria.url).unwrap()).await.unwrap();
    let maria_local = maria_driver.open_sandbox(&SandboxOptions::default()).await.unwrap();
    assert!(maria_local.description().contains("throwaway MariaDB"), "{}", maria_local.description());
    // Interrupted: no sandbox is closed; the cleanup hook stops and drops them.
    std::mem::forget(local);
    std::mem::forget(remote);
    std::mem::forget(maria_local);
    dbconsultant::driver::cleanup_interrupted().await;
    assert_eq!(running_shadow_servers(), 0);
    assert_eq!(sandbox_server.scalar(scratch).await, 0);
    let left = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("dbconsultant-shadow-{}-", std::process::id())))
        .count();
    assert_eq!(left, 0, "the servers' directories are removed");
}
