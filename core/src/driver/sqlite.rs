//! SQLite driver on sqlx with bundled SQLite. The target is opened `SQLITE_OPEN_READONLY`
//! with `PRAGMA query_only`; the sandbox is a `VACUUM INTO` copy in a temporary directory.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
use sqlparser::parser::Parser;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column as _, ConnectOptions, Connection, Row, TypeInfo, ValueRef};

use super::{ConstraintViolation, Driver, Execution, QueryResult, Sandbox, SandboxOptions, StatementError};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table, UniqueConstraint};
use crate::sql::ParsedStatement;

pub struct SqliteDriver {
    path: PathBuf,
    pool: SqlitePool,
    /// SQLite has no server to enforce a statement timeout: [`Driver::query`] interrupts the
    /// connection itself when this passes (or when its caller gives up).
    statement_timeout: std::time::Duration,
}

impl SqliteDriver {
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, super::SessionOptions::default().statement_timeout_ms).await
    }

    pub async fn open_with(path: &Path, statement_timeout_ms: u64) -> Result<Self> {
        let target = format!("sqlite://{}", path.display());
        let fail = |reason: String| Error::Connection { url: target.clone(), reason };
        match std::fs::metadata(path) {
            Err(e) => return Err(fail(format!("cannot open database file: {e}"))),
            Ok(m) if m.is_dir() => return Err(fail("is a directory, not a database file".into())),
            Ok(_) => {}
        }
        let options = read_only_options(path).pragma("query_only", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .after_connect(|conn, _| Box::pin(async move { register_functions(conn).await }))
            .connect_with(options)
            .await
            .map_err(|e| fail(e.to_string()))?;
        // Opening succeeds on any file; the first read tells whether it is a database.
        sqlx::query("SELECT count(*) FROM sqlite_schema")
            .fetch_one(&pool)
            .await
            .map_err(|e| fail(format!("not a readable SQLite database ({})", db_message(&e))))?;
        Ok(SqliteDriver { path: path.to_path_buf(), pool, statement_timeout: std::time::Duration::from_millis(statement_timeout_ms) })
    }
}

/// Interrupts the connection's running statement when dropped (`sqlite3_interrupt` is the one
/// SQLite call meant for other threads; with nothing running it does nothing).
struct InterruptOnDrop(usize);

impl InterruptOnDrop {
    async fn arm(conn: &mut SqliteConnection) -> Result<Self> {
        let mut handle = conn.lock_handle().await.map_err(internal)?;
        Ok(InterruptOnDrop(handle.as_raw_handle().as_ptr() as usize))
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        // SAFETY: the pointer is the open connection we still hold (we are dropped before it).
        unsafe { libsqlite3_sys::sqlite3_interrupt(self.0 as *mut libsqlite3_sys::sqlite3) };
    }
}

/// The ETL hash functions (see [`super::sqlite_functions`]) on one connection.
async fn register_functions(conn: &mut SqliteConnection) -> std::result::Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is locked for us, open, and not used elsewhere during the call.
    let rc = unsafe { super::sqlite_functions::register(handle.as_raw_handle().as_ptr()) };
    if rc != 0 {
        return Err(sqlx::Error::Protocol(format!("cannot register SQLite functions (code {rc})")));
    }
    Ok(())
}

fn read_only_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false)
        // The target's own setting is unknown; SQLite's default is off, and we report
        // foreign keys as unenforced unless the connection enforces them.
        .foreign_keys(false)
        .with_regexp()
        .disable_statement_logging()
}

fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn target(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn introspect(&self) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        introspect(&mut conn).await
    }

    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        super::read_statement(sql, Dialect::Sqlite)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        // Declared after `conn`, so dropped before it: a query abandoned by a timeout here or
        // by the caller (a dropped future) is interrupted while the connection is still ours,
        // instead of running on in sqlx's worker thread and holding the connection.
        let _interrupt = InterruptOnDrop::arm(&mut conn).await?;
        // 0 means no timeout, as PostgreSQL's statement_timeout = 0.
        let limit = if self.statement_timeout.is_zero() { std::time::Duration::MAX } else { self.statement_timeout };
        match tokio::time::timeout(limit, query(&mut conn, sql, max_rows)).await {
            Ok(result) => result,
            Err(_) => Err(Error::InvalidInput(format!(
                "query failed: statement timeout ({} ms) reached, query interrupted",
                self.statement_timeout.as_millis()
            ))),
        }
    }

    async fn default_schema(&self) -> Result<String> {
        Ok("main".into())
    }

    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan> {
        // SQLite has no EXPLAIN ANALYZE: its plans are never executed (analyzed is false).
        super::explain::check_explainable(sql, Dialect::Sqlite, analyze)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        explain_query_plan(&mut conn, sql).await
    }

    async fn time_query(&self, sql: &str) -> Result<f64> {
        super::require_select(sql, Dialect::Sqlite)?;
        let mut conn = self.pool.acquire().await.map_err(internal)?;
        let started = std::time::Instant::now();
        super::drain(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), db_message).await?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    async fn open_sandbox(&self, _options: &SandboxOptions) -> Result<Box<dyn Sandbox>> {
        let dir = tempfile::Builder::new()
            .prefix("dbconsultant-sandbox-")
            .tempdir()
            .map_err(|e| Error::Sandbox(format!("cannot create a temporary directory: {e}")))?;
        let copy = dir.path().join("sandbox.db");
        // VACUUM INTO reads through a read-only connection and writes a consistent snapshot
        // (including WAL content) to the copy; the target file is never opened for writing.
        let mut source = read_only_options(&self.path)
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot open the target to copy it: {}", db_message(&e))))?;
        sqlx::query("VACUUM INTO ?")
            .bind(copy.to_string_lossy().to_string())
            .execute(&mut source)
            .await
            .map_err(|e| Error::Sandbox(format!("cannot copy the database into the sandbox: {}", db_message(&e))))?;
        source.close().await.ok();
        let conn = SqliteConnectOptions::new()
            .filename(&copy)
            .foreign_keys(false)
            .disable_statement_logging()
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot open the sandbox copy: {}", db_message(&e))))?;
        tracing::debug!(copy = %copy.display(), "sqlite sandbox ready");
        let description = format!("copy of {} in {}", self.path.display(), dir.path().display());
        Ok(Box::new(SqliteSandbox { conn, _dir: dir, description }))
    }
}

/// A throwaway copy of the target; dropping it deletes the directory.
pub struct SqliteSandbox {
    conn: SqliteConnection,
    _dir: tempfile::TempDir,
    description: String,
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
                Err(StatementError { message, on_existing_data, violation })
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
        super::explain::check_explainable(sql, Dialect::Sqlite, false)?;
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
fn refuse_in_sandbox(sql: &str) -> Option<String> {
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
fn parse_constraint_message(message: &str) -> Option<ConstraintViolation> {
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

fn internal(e: sqlx::Error) -> Error {
    Error::Internal(format!("sqlite: {}", db_message(&e)))
}

/// `EXPLAIN QUERY PLAN` rows of a statement, as a plan tree.
async fn explain_query_plan(conn: &mut SqliteConnection, sql: &str) -> Result<crate::model::Plan> {
    let result = query(conn, &format!("EXPLAIN QUERY PLAN {}", sql.trim().trim_end_matches(';')), 10_000).await?;
    super::explain::sqlite_plan(serde_json::Value::Array(result.rows.into_iter().map(serde_json::Value::Object).collect()))
}

async fn query(conn: &mut SqliteConnection, sql: &str, max_rows: usize) -> Result<QueryResult> {
    super::collect_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), max_rows, db_message, row_to_json).await
}

fn row_to_json(row: &SqliteRow) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).ok();
        let value = match raw {
            None => Value::Null,
            Some(v) if v.is_null() => Value::Null,
            Some(v) => match v.type_info().name() {
                "INTEGER" => row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "REAL" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
                "BLOB" => row
                    .try_get::<Vec<u8>, _>(i)
                    .map(|b| Value::String(format!("\\x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())))
                    .unwrap_or(Value::Null),
                _ => row.try_get::<String, _>(i).map(Value::String).unwrap_or(Value::Null),
            },
        };
        out.insert(col.name().to_string(), value);
    }
    out
}

/// Read the schema of the connected database into the normalized model.
async fn introspect(conn: &mut SqliteConnection) -> Result<SchemaSnapshot> {
    let fk_enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.map_err(internal)?;
    let objects: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let mut snapshot = SchemaSnapshot::default();
    for (kind, name, sql) in objects {
        if kind == "view" {
            snapshot.views.push(name);
            continue;
        }
        let table = introspect_table(conn, &name, sql.as_deref(), fk_enforced != 0).await?;
        snapshot.tables.insert(name, table);
    }
    Ok(snapshot)
}

async fn introspect_table(conn: &mut SqliteConnection, name: &str, sql: Option<&str>, fk_enforced: bool) -> Result<Table> {
    let mut table = Table { name: name.to_string(), ..Default::default() };
    let columns = sqlx::query("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let declared = sql.map(parse_create_table).unwrap_or_default();
    for row in &columns {
        let col_name: String = row.get(0);
        let data_type: String = row.get(1);
        let pk_pos: i64 = row.get(4);
        if pk_pos > 0 {
            pk.push((pk_pos, col_name.clone()));
        }
        let rowid_alias = pk_pos > 0 && data_type.eq_ignore_ascii_case("INTEGER");
        table.columns.push(Column {
            name: col_name,
            data_type,
            // SQLite lets PRIMARY KEY columns hold NULL unless declared NOT NULL (rowid aliases cannot).
            nullable: row.get::<i64, _>(2) == 0 && !rowid_alias,
            default: row.get::<Option<String>, _>(3),
            auto_increment: rowid_alias,
        });
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
    if table.primary_key.len() == 1 {
        // Only a single INTEGER PRIMARY KEY column aliases the rowid.
    } else {
        table.columns.iter_mut().for_each(|c| c.auto_increment = false);
    }

    let fks =
        sqlx::query("SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq")
            .bind(name)
            .fetch_all(&mut *conn)
            .await
            .map_err(internal)?;
    let mut current: Option<(i64, ForeignKey)> = None;
    for row in &fks {
        let id: i64 = row.get(0);
        if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
            if let Some((_, fk)) = current.take() {
                table.foreign_keys.push(fk);
            }
            current = Some((
                id,
                ForeignKey {
                    name: None,
                    referenced_table: row.get(2),
                    on_update: Some(row.get::<String, _>(5)).filter(|a| a != "NO ACTION"),
                    on_delete: Some(row.get::<String, _>(6)).filter(|a| a != "NO ACTION"),
                    enforced: fk_enforced,
                    ..Default::default()
                },
            ));
        }
        let fk = &mut current.as_mut().unwrap().1;
        fk.columns.push(row.get(3));
        // `to` is NULL when the FK references the parent's primary key implicitly.
        fk.referenced_columns.push(row.get::<Option<String>, _>(4).unwrap_or_default());
    }
    if let Some((_, fk)) = current {
        table.foreign_keys.push(fk);
    }
    // Foreign keys are listed by SQLite in reverse declaration order; give names from the DDL.
    table.foreign_keys.reverse();
    for (fk, name) in table.foreign_keys.iter_mut().zip(declared.fk_names.iter()) {
        fk.name = name.clone();
    }

    let indexes = sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?;
    for row in &indexes {
        let index_name: String = row.get(0);
        let unique = row.get::<i64, _>(1) != 0;
        let origin: String = row.get(2);
        let cols = sqlx::query("SELECT cid, name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno")
            .bind(&index_name)
            .fetch_all(&mut *conn)
            .await
            .map_err(internal)?;
        let index_sql: Option<String> = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?")
            .bind(&index_name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?
            .flatten();
        let parsed = index_sql.as_deref().map(parse_create_index).unwrap_or_default();
        let columns: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, r)| r.get::<Option<String>, _>(1).or_else(|| parsed.columns.get(i).cloned()).unwrap_or_else(|| "<expression>".into()))
            .collect();
        if origin == "u" {
            table.unique_constraints.push(UniqueConstraint { name: None, columns: columns.clone() });
        }
        table.indexes.push(Index { name: index_name, columns, unique, predicate: parsed.predicate, method: None, implicit: origin != "c" });
    }
    table.check_constraints = declared.checks;
    Ok(table)
}

#[derive(Default)]
struct DeclaredTable {
    checks: Vec<CheckConstraint>,
    fk_names: Vec<Option<String>>,
}

/// CHECK constraints and FK names are not in SQLite's pragmas: read them from the DDL.
fn parse_create_table(sql: &str) -> DeclaredTable {
    let dialect = sqlparser::dialect::SQLiteDialect {};
    let Ok(Statement::CreateTable(ct)) = Parser::new(&dialect).try_with_sql(sql).and_then(|mut p| p.parse_statement()) else {
        tracing::warn!("cannot parse table definition; CHECK constraints unknown: {sql}");
        return DeclaredTable::default();
    };
    let mut out = DeclaredTable::default();
    for col in &ct.columns {
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Check(check) => out.checks.push(CheckConstraint {
                    name: opt.name.as_ref().or(check.name.as_ref()).map(|n| n.value.clone()),
                    expression: check.expr.to_string(),
                    enforced: true,
                }),
                ColumnOption::ForeignKey { .. } => out.fk_names.push(opt.name.as_ref().map(|n| n.value.clone())),
                _ => {}
            }
        }
    }
    for constraint in &ct.constraints {
        match constraint {
            TableConstraint::Check(check) => out.checks.push(CheckConstraint {
                name: check.name.as_ref().map(|n| n.value.clone()),
                expression: check.expr.to_string(),
                enforced: true,
            }),
            TableConstraint::ForeignKey(fk) => out.fk_names.push(fk.name.as_ref().map(|n| n.value.clone())),
            _ => {}
        }
    }
    out
}

#[derive(Default)]
struct DeclaredIndex {
    columns: Vec<String>,
    predicate: Option<String>,
}

fn parse_create_index(sql: &str) -> DeclaredIndex {
    let dialect = sqlparser::dialect::SQLiteDialect {};
    match Parser::new(&dialect).try_with_sql(sql).and_then(|mut p| p.parse_statement()) {
        Ok(Statement::CreateIndex(ci)) => DeclaredIndex {
            columns: ci.columns.iter().map(|c| c.column.expr.to_string()).collect(),
            predicate: ci.predicate.map(|p| p.to_string()),
        },
        _ => DeclaredIndex::default(),
    }
}
