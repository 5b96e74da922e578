#![allow(dead_code)]
//! Shared helpers for integration tests: the example shop database, built fresh per test.

use std::path::{Path, PathBuf};

use dbconsultant::{Consultant, ConsultantOptions, MigrationSource, SchemaValidationRequest};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn example_migration(name: &str) -> MigrationSource {
    let path = repo_root().join("examples/migrations").join(name);
    MigrationSource::named(format!("examples/migrations/{name}"), std::fs::read_to_string(path).unwrap())
}

/// Build a SQLite database at `path` from SQL text.
pub async fn build_db(path: &Path, sql: &str) {
    let mut conn = SqliteConnectOptions::new().filename(path).create_if_missing(true).connect().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// The example shop database in a temporary directory.
pub async fn shop_db(dir: &Path) -> PathBuf {
    let path = dir.join("shop.db");
    let sql = std::fs::read_to_string(repo_root().join("examples/sqlite/shop.sql")).unwrap();
    build_db(&path, &sql).await;
    path
}

pub async fn consultant(dir: &Path) -> Consultant {
    Consultant::open(ConsultantOptions { store: Some(dir.join("store.db").to_string_lossy().into_owned()) }).await.unwrap()
}

pub fn request(db: &Path, migrations: Vec<MigrationSource>) -> SchemaValidationRequest {
    SchemaValidationRequest { database_url: format!("sqlite://{}", db.display()), migrations, ..Default::default() }
}

pub mod servers;

pub fn sha256ish(path: &Path) -> Vec<u8> {
    // Byte-for-byte comparison is stricter than any hash.
    std::fs::read(path).unwrap()
}
