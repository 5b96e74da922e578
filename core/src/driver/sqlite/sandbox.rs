//! The SQLite sandbox: a copy of the database file in a temporary directory, deleted with it.

use async_trait::async_trait;
use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;

use super::db_message;
use super::introspect::introspect;
use super::plan::explain_query_plan;
use super::query;
use super::{ConstraintViolation, Execution, QueryResult, Sandbox, StatementError};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::model::SchemaSnapshot;
use crate::sql::ParsedStatement;

/// A throwaway copy of the target; dropping it deletes the directory.
pub struct SqliteSandbox {
    pub(super) conn: SqliteConnection,
    pub(super) _dir: tempfile::TempDir,
    pub(super) description: String,
}

#[async_trait]
impl Sandbox for SqliteSandbox {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    async fn execute(&mut self, statement: &ParsedStatement) -> std::result::Result<Execution, StatementError> {
        if let Some(reason) = refuse_in_sandbox(&statement.sql) {
            return Err(StatementError::refused(reason));
        }
        // A prepared, non-cached statement: one statement at a time, never kept around.
        match sqlx::query(sqlx::AssertSqlSafe(&*statement.sql)).persistent(false).execute(&mut self.conn).await {
            Ok(_) => Ok(Execution::default()),
            Err(e) => {
                let message = db_message(&e);
                let violation = parse_constraint_message(&message);
                let on_existing_data = violation.is_some() || message.contains("constraint failed");
                let syntax = message.contains("syntax error");
                // SQLITE_FULL: the copy's disk, not the statement.
                let sandbox_fault = message.contains("database or disk is full") || crate::driver::out_of_room(&message);
                Err(StatementError { message, on_existing_data, violation, syntax, sandbox_fault })
            }
        }
    }

    async fn introspect(&mut self) -> Result<SchemaSnapshot> {
        introspect(&mut self.conn).await
    }

    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        query(&mut self.conn, sql, max_rows).await
    }

    async fn explain(&mut self, sql: &str) -> Result<crate::model::Plan> {
        crate::driver::explain::check_explainable(sql, Dialect::Sqlite, false)?;
        explain_query_plan(&mut self.conn, sql).await
    }

    async fn close(self: Box<Self>) -> Result<()> {
        let SqliteSandbox { conn, _dir, .. } = *self;
        conn.close().await.ok();
        drop(_dir);
        Ok(())
    }
}

/// Statements that could reach files outside the sandbox copy are never run: `ATTACH` could
/// open the target itself for writing, `VACUUM INTO` writes an arbitrary file.
pub(super) fn refuse_in_sandbox(sql: &str) -> Option<String> {
    let words: Vec<String> = sql
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let first = words.first().map(String::as_str);
    if first == Some("ATTACH") || first == Some("DETACH") {
        return Some("refused in the sandbox: ATTACH/DETACH could reach databases outside the sandbox".into());
    }
    if first == Some("VACUUM") && sql.to_ascii_uppercase().contains(" INTO ") {
        return Some("refused in the sandbox: VACUUM INTO writes a file outside the sandbox".into());
    }
    None
}

/// SQLite names the failed constraint in its message: `UNIQUE constraint failed: t.a, t.b`,
/// `NOT NULL constraint failed: t.a` (CHECK and FOREIGN KEY failures name no columns).
pub(super) fn parse_constraint_message(message: &str) -> Option<ConstraintViolation> {
    let split = |rest: &str| -> Vec<(String, String)> {
        rest.split(',').filter_map(|part| part.trim().split_once('.')).map(|(t, c)| (t.to_string(), c.to_string())).collect()
    };
    if let Some(rest) = message.split("UNIQUE constraint failed: ").nth(1) {
        let cols = split(rest);
        let table = cols.first()?.0.clone();
        return Some(ConstraintViolation::Unique { table, columns: cols.into_iter().map(|(_, c)| c).collect() });
    }
    if let Some(rest) = message.split("NOT NULL constraint failed: ").nth(1) {
        let (table, column) = split(rest).into_iter().next()?;
        return Some(ConstraintViolation::NotNull { table, column });
    }
    None
}
