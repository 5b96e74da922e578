//! PostgreSQL driver. Inspection sessions start with `default_transaction_read_only = on`
//! and statement/lock timeouts; the sandbox is one transaction (on the target or a shadow
//! database) that is always rolled back, with a savepoint per statement so a failure leaves
//! the rest inspectable, and `pg_locks` / `relfilenode` read around every statement.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlparser::ast::Statement;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Row};

use super::{connection_error, Driver, Execution, LockTaken, QueryResult, Sandbox, SandboxOptions, StatementError, TableRewrite};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table, UniqueConstraint};
use crate::sql::ParsedStatement;
use crate::url::redact_url;

pub struct PostgresDriver {
    options: PgConnectOptions,
    pool: PgPool,
    redacted: String,
}

fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => redact_url(&other.to_string()),
    }
}

impl PostgresDriver {
    pub async fn open(raw: &str, redacted: String, session: super::SessionOptions) -> Result<Self> {
        let options = PgConnectOptions::from_str(raw)
            .map_err(|e| Error::invalid(format!("malformed database URL '{redacted}': {}", redact_url(&e.to_string()))))?
            .application_name("dbconsultant")
            .disable_statement_logging();
        let statement_timeout = format!("{}ms", session.statement_timeout_ms);
        let mut settings = vec![
            ("default_transaction_read_only", "on"),
            ("statement_timeout", statement_timeout.as_str()),
            ("lock_timeout", "5s"),
            ("idle_in_transaction_session_timeout", "60s"),
        ];
        if session.utc {
            settings.push(("TimeZone", "UTC"));
        }
        if session.bulk_scans {
            settings.push(("jit", "off"));
            settings.push(("enable_sort", "off"));
        }
        let inspection = options.clone().options(settings);
        // One direct connection first: a pool would hide "connection refused" or "password
        // authentication failed" behind its own timeout.
        inspection.connect().await.map_err(|e| connection_error(&redacted, e))?.close().await.ok();
        let bulk = session.bulk_scans;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if bulk {
                        // PostgreSQL 14+: a long scan stops within a second of the client going
                        // away (Ctrl-C), instead of running to its end. Older servers lack the
                        // setting; the scan then ends at the statement timeout.
                        let _ = sqlx::query("SET client_connection_check_interval = 1000").execute(&mut *conn).await;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(inspection)
            .await
            .map_err(|e| connection_error(&redacted, e))?;
        Ok(PostgresDriver { options, pool, redacted })
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn target(&self) -> String {
        self.redacted.clone()
    }

    async fn introspect(&self) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        introspect(&mut conn, None).await
    }

    async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        let kind = super::read_statement(sql, Dialect::Postgres)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        // An explicit READ ONLY transaction, always rolled back, on top of the read-only
        // session: nothing the statement does can survive it.
        sqlx::query("BEGIN READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(format!("query failed: {}", db_message(&e))))?;
        let result = match kind {
            super::ReadStatement::Query => query(&mut conn, sql, max_rows).await,
            super::ReadStatement::Describe => {
                super::collect_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), max_rows, db_message, text_row_to_json).await
            }
        };
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        result
    }

    async fn schemas(&self) -> Result<Vec<crate::model::schema::SchemaSummary>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT n.nspname::text,
                    count(c.oid) FILTER (WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition),
                    count(c.oid) FILTER (WHERE c.relkind IN ('v', 'm'))
             FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
               AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND has_schema_privilege(n.oid, 'USAGE')
             GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| connection_error(&self.redacted, e))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn introspect_schema(&self, schema: &str) -> Result<SchemaSnapshot> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1")
            .bind(schema)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?;
        if exists.is_none() {
            return Err(Error::NotFound(format!("no schema named '{schema}'")));
        }
        introspect(&mut conn, Some(schema)).await
    }

    async fn default_schema(&self) -> Result<String> {
        sqlx::query_scalar::<_, Option<String>>("SELECT current_schema()")
            .fetch_one(&self.pool)
            .await
            .map(|s| s.unwrap_or_else(|| "public".into()))
            .map_err(|e| connection_error(&self.redacted, e))
    }

    async fn explain(&self, sql: &str, analyze: bool) -> Result<crate::model::Plan> {
        super::explain::check_explainable(sql, Dialect::Postgres, analyze)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let body = sql.trim().trim_end_matches(';');
        let parameters = super::explain::placeholder_count(body, Dialect::Postgres);
        let options = if analyze { "FORMAT JSON, ANALYZE, BUFFERS" } else { "FORMAT JSON" };
        sqlx::query("BEGIN READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        let result = explain_json(&mut conn, body, options, parameters).await;
        // Always rolled back: nothing an analyzed query did survives.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        let raw = result.map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        super::explain::postgres_plan(raw, analyze)
    }

    async fn top_statements(&self, limit: usize) -> Result<Vec<super::StatementStats>> {
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let installed: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
            .fetch_optional(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(db_message(&e)))?;
        if installed.is_none() {
            return Err(Error::invalid(
                "pg_stat_statements is not installed in this database: add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements",
            ));
        }
        let rows: Vec<(String, i64, f64, f64)> = sqlx::query_as(
            "SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = current_database() AND s.query ~* '^\\s*(select|with|insert|update|delete)\\s' \
             AND s.query !~* 'pg_stat_statements|pg_catalog|information_schema' ORDER BY s.total_exec_time DESC LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::InvalidInput(format!("pg_stat_statements: {}", db_message(&e))))?;
        Ok(rows
            .into_iter()
            .map(|(query, calls, total, mean)| super::StatementStats { query, calls: calls as u64, total_ms: total, mean_ms: mean })
            .collect())
    }

    async fn time_query(&self, sql: &str) -> Result<f64> {
        super::require_select(sql, Dialect::Postgres)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        sqlx::query("BEGIN READ ONLY").execute(&mut *conn).await.map_err(|e| Error::InvalidInput(db_message(&e)))?;
        let started = std::time::Instant::now();
        let drained = super::drain(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn), db_message).await;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        drained.map(|_| elapsed)
    }

    async fn explain_with_hypothetical_index(&self, sql: &str, create_index: &str) -> Result<Option<crate::model::Plan>> {
        super::explain::check_explainable(sql, Dialect::Postgres, false)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let failed = |e: sqlx::Error| Error::InvalidInput(format!("hypothetical index: {}", db_message(&e)));
        let installed: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'").fetch_optional(&mut *conn).await.map_err(failed)?;
        if installed.is_none() {
            return Ok(None);
        }
        // hypopg keeps the index in this backend's memory only; the transaction is read-only
        // and every hypothetical index is dropped before the connection goes back to the pool.
        sqlx::query("BEGIN READ ONLY").execute(&mut *conn).await.map_err(failed)?;
        let created = sqlx::query("SELECT indexrelid FROM hypopg_create_index($1)").bind(create_index).execute(&mut *conn).await;
        let plan = match created {
            Ok(_) => {
                let body = sql.trim().trim_end_matches(';');
                explain_json(&mut conn, body, "FORMAT JSON", super::explain::placeholder_count(body, Dialect::Postgres)).await
            }
            Err(e) => Err(e),
        };
        let _ = sqlx::query("SELECT hypopg_reset()").execute(&mut *conn).await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        Ok(Some(super::explain::postgres_plan(plan.map_err(failed)?, false)?))
    }

    async fn open_sandbox(&self, options: &SandboxOptions) -> Result<Box<dyn Sandbox>> {
        let lock = format!("{}ms", options.lock_timeout_ms);
        let statement = format!("{}ms", options.statement_timeout_ms);
        let connect = self.options.clone().options([("lock_timeout", lock.as_str()), ("statement_timeout", statement.as_str())]);
        let mut conn = connect
            .connect()
            .await
            .map_err(|e| Error::Sandbox(format!("cannot open a sandbox session on {}: {}", self.redacted, redact_url(&e.to_string()))))?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ").execute(&mut conn).await.map_err(|e| Error::Sandbox(db_message(&e)))?;
        Ok(Box::new(PgSandbox { conn: Some(conn), description: format!("transaction on {} (always rolled back)", self.redacted) }))
    }
}

pub struct PgSandbox {
    conn: Option<PgConnection>,
    description: String,
}

/// Why a statement is not run in the sandbox transaction, if it is not.
fn not_runnable(stmt: &ParsedStatement) -> Option<&'static str> {
    if let Some(ast) = stmt.statement() {
        return match ast {
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. } => {
                Some("transaction control: the sandbox runs the migration as one transaction that is rolled back")
            }
            Statement::Copy { .. } => Some("COPY reads or writes server files or client streams"),
            _ => first_words_refusal(&stmt.sql),
        };
    }
    first_words_refusal(&stmt.sql)
}

fn first_words_refusal(sql: &str) -> Option<&'static str> {
    let words: Vec<String> = sql.split_whitespace().take(2).map(|w| w.trim_end_matches(';').to_ascii_uppercase()).collect();
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "START" | "SAVEPOINT" | "RELEASE", ..] | ["PREPARE", "TRANSACTION"] => {
            Some("transaction control: the sandbox runs the migration as one transaction that is rolled back")
        }
        ["VACUUM", ..] | ["CREATE" | "DROP", "DATABASE" | "TABLESPACE"] | ["ALTER", "SYSTEM"] => {
            Some("cannot run inside a transaction block, so it cannot be tried in the sandbox")
        }
        ["COPY", ..] => Some("COPY reads or writes server files or client streams"),
        _ => None,
    }
}

/// `CREATE INDEX CONCURRENTLY` and friends cannot run in a transaction: run the plain form.
fn without_concurrently(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    let pos = upper.match_indices("CONCURRENTLY").map(|(i, _)| i).find(|&i| {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let before_ok = i == 0 || !word(upper.as_bytes()[i - 1]);
        let end = i + "CONCURRENTLY".len();
        let after_ok = end == upper.len() || !word(upper.as_bytes()[end]);
        before_ok && after_ok && !sql[..i].contains(['\'', '"', '$'])
    })?;
    Some(format!("{}{}", &sql[..pos], sql[pos + "CONCURRENTLY".len()..].trim_start()))
}

#[derive(Default)]
struct RelationState {
    /// table -> (relfilenode, row estimate)
    files: BTreeMap<String, (i64, i64)>,
    /// (table, lock mode)
    locks: BTreeSet<(String, String)>,
}

async fn relation_state(conn: &mut PgConnection) -> std::result::Result<RelationState, sqlx::Error> {
    let files = sqlx::query(
        "SELECT c.relname, c.relfilenode::bigint, GREATEST(c.reltuples, 0)::bigint FROM pg_class c
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(0), (r.get::<i64, _>(1), r.get::<i64, _>(2))))
    .collect();
    let locks = sqlx::query(
        "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
           AND c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'm')",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .collect();
    Ok(RelationState { files, locks })
}

impl PgSandbox {
    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("sandbox connection is open until close")
    }
}

#[async_trait]
impl Sandbox for PgSandbox {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    async fn execute(&mut self, stmt: &ParsedStatement) -> std::result::Result<Execution, StatementError> {
        if let Some(reason) = not_runnable(stmt) {
            return Ok(Execution { skipped: Some(reason.into()), ..Default::default() });
        }
        let mut execution = Execution::default();
        let sql = match without_concurrently(&stmt.sql) {
            Some(plain) => {
                execution.note = Some("CONCURRENTLY cannot run inside the sandbox transaction; validated the same statement without it (in production it takes a weaker lock)".into());
                plain
            }
            None => stmt.sql.clone(),
        };
        let internal = |e: sqlx::Error| StatementError::refused(format!("sandbox bookkeeping failed: {}", db_message(&e)));
        let conn = self.conn();
        let before = relation_state(conn).await.map_err(internal)?;
        sqlx::query("SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(&*sql)).persistent(false).execute(&mut *conn).await {
            sqlx::query("ROLLBACK TO SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
            let code = match &e {
                sqlx::Error::Database(d) => d.code().map(|c| c.to_string()).unwrap_or_default(),
                _ => String::new(),
            };
            return Err(StatementError { message: db_message(&e), on_existing_data: code.starts_with("23"), violation: None });
        }
        sqlx::query("RELEASE SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
        let after = relation_state(conn).await.map_err(internal)?;
        // Locks are held to the end of the transaction: the new ones are this statement's.
        let mut strongest: BTreeMap<String, String> = BTreeMap::new();
        for (table, mode) in after.locks.difference(&before.locks) {
            let entry = strongest.entry(table.clone()).or_insert_with(|| mode.clone());
            if crate::checks::schema::observe::lock_strength(mode) > crate::checks::schema::observe::lock_strength(entry) {
                *entry = mode.clone();
            }
        }
        execution.locks = strongest.into_iter().map(|(table, mode)| LockTaken { table, mode }).collect();
        for (table, (file, estimate)) in &before.files {
            if let Some((new_file, _)) = after.files.get(table) {
                if new_file != file {
                    let rows = if *estimate > 0 {
                        *estimate as u64
                    } else {
                        let count = format!("SELECT COUNT(*) FROM {}", Dialect::Postgres.quote_ident(table));
                        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(&*count)).fetch_one(&mut *conn).await.unwrap_or(0) as u64
                    };
                    execution.rewrites.push(TableRewrite { table: table.clone(), rows });
                }
            }
        }
        Ok(execution)
    }

    async fn introspect(&mut self) -> Result<SchemaSnapshot> {
        introspect(self.conn(), None).await
    }

    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        query(self.conn(), sql, max_rows).await
    }

    async fn explain(&mut self, sql: &str) -> Result<crate::model::Plan> {
        super::explain::check_explainable(sql, Dialect::Postgres, false)?;
        let body = sql.trim().trim_end_matches(';');
        let raw = explain_json(self.conn(), body, "FORMAT JSON", super::explain::placeholder_count(body, Dialect::Postgres))
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        super::explain::postgres_plan(raw, false)
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            let rolled_back = sqlx::query("ROLLBACK").execute(&mut conn).await;
            conn.close().await.ok();
            rolled_back.map_err(|e| Error::Sandbox(format!("rollback failed: {}", db_message(&e))))?;
        }
        Ok(())
    }
}

/// `EXPLAIN (options)` of a statement, inside the caller's transaction. With `$n` parameters
/// (pg_stat_statements keeps them), the generic plan — independent of the values — through
/// PREPARE / EXPLAIN EXECUTE with NULLs under `force_generic_plan` (PostgreSQL 16's
/// `EXPLAIN (GENERIC_PLAN)`, done by hand).
async fn explain_json(
    conn: &mut PgConnection,
    body: &str,
    options: &str,
    parameters: usize,
) -> std::result::Result<serde_json::Value, sqlx::Error> {
    if parameters == 0 {
        return sqlx::query_scalar::<_, serde_json::Value>(sqlx::AssertSqlSafe(format!("EXPLAIN ({options}) {body}")))
            .fetch_one(&mut *conn)
            .await;
    }
    let nulls = vec!["NULL"; parameters].join(", ");
    sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan").execute(&mut *conn).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("PREPARE dbc_generic AS {body}"))).execute(&mut *conn).await?;
    let plan = sqlx::query_scalar::<_, serde_json::Value>(sqlx::AssertSqlSafe(format!("EXPLAIN ({options}) EXECUTE dbc_generic({nulls})")))
        .fetch_one(&mut *conn)
        .await;
    let _ = sqlx::query("DEALLOCATE dbc_generic").execute(&mut *conn).await;
    plan
}

/// Rows as JSON, converted by the server (`row_to_json`) so every type has one text form.
async fn query(conn: &mut PgConnection, sql: &str, max_rows: usize) -> Result<QueryResult> {
    // The newlines end a trailing `--` comment inside the parentheses instead of after them.
    let wrapped = format!("SELECT row_to_json(q)::text FROM (\n{}\n) q LIMIT {max_rows}", sql.trim().trim_end_matches(';'));
    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(&*wrapped))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::InvalidInput(format!("query failed: {}", db_message(&e))))?;
    let mut result = QueryResult::default();
    for text in rows {
        let value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| Error::Internal(format!("postgres row_to_json: {e}")))?;
        if result.columns.is_empty() {
            result.columns = value.keys().cloned().collect();
        }
        result.rows.push(value);
    }
    Ok(result)
}

/// EXPLAIN and SHOW rows: every column is text.
fn text_row_to_json(row: &sqlx::postgres::PgRow) -> serde_json::Map<String, serde_json::Value> {
    use sqlx::{Column as _, Row as _};
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.name().to_string(),
                row.try_get::<Option<String>, _>(i).ok().flatten().map(serde_json::Value::String).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// `pg_get_expr` wraps predicates in one pair of parentheses; the model stores them bare.
fn strip_outer_parens(expr: &str) -> &str {
    let inner = match expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        Some(inner) => inner,
        None => return expr,
    };
    // Only when the first '(' closes at the very end: "(a) OR (b)" keeps its parentheses.
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return expr;
        }
    }
    inner
}

fn internal(e: sqlx::Error) -> Error {
    Error::Internal(format!("postgres introspection: {}", db_message(&e)))
}

/// The current schema, from the catalogs, into the normalized model.
/// The tables, views and enums of one schema: `schema`, or the current schema.
async fn introspect(conn: &mut PgConnection, schema: Option<&str>) -> Result<SchemaSnapshot> {
    let mut snapshot = SchemaSnapshot::default();
    let tables = sqlx::query(
        "SELECT c.relname, GREATEST(c.reltuples, 0)::bigint, c.reltuples >= 0 FROM pg_class c
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &tables {
        let name: String = r.get(0);
        let analyzed: bool = r.get(2);
        snapshot
            .tables
            .insert(name.clone(), Table { name, row_estimate: analyzed.then(|| r.get::<i64, _>(1) as u64), ..Default::default() });
    }

    let columns = sqlx::query(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%'
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attnum",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &columns {
        if let Some(t) = snapshot.tables.get_mut(&r.get::<String, _>(0)) {
            t.columns.push(Column { name: r.get(1), data_type: r.get(2), nullable: r.get(3), default: r.get(4), auto_increment: r.get(5) });
        }
    }

    let constraints = sqlx::query(
        "SELECT c.relname, con.conname, con.contype::text, con.convalidated, con.condeferrable,
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
                fc.relname,
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord),
                con.confdeltype::text, con.confupdtype::text,
                CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND con.contype IN ('p', 'f', 'u', 'c')
         ORDER BY c.relname, con.conname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let action = |code: String| match code.as_str() {
        "r" => Some("RESTRICT".to_string()),
        "c" => Some("CASCADE".to_string()),
        "n" => Some("SET NULL".to_string()),
        "d" => Some("SET DEFAULT".to_string()),
        _ => None, // 'a' = NO ACTION, the default
    };
    for r in &constraints {
        let Some(t) = snapshot.tables.get_mut(&r.get::<String, _>(0)) else { continue };
        let name: String = r.get(1);
        let columns: Vec<String> = r.get(5);
        match r.get::<String, _>(2).as_str() {
            "p" => t.primary_key = columns,
            "u" => t.unique_constraints.push(UniqueConstraint { name: Some(name), columns }),
            "f" => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                referenced_table: r.get::<Option<String>, _>(6).unwrap_or_default(),
                referenced_columns: r.get(7),
                on_delete: action(r.get(8)),
                on_update: action(r.get(9)),
                enforced: r.get(3),
                deferrable: r.get(4),
            }),
            "c" => t.check_constraints.push(CheckConstraint {
                name: Some(name),
                expression: r.get::<Option<String>, _>(10).unwrap_or_default(),
                enforced: r.get(3),
            }),
            _ => {}
        }
    }

    let indexes = sqlx::query(
        "SELECT t.relname, i.relname, ix.indisunique, am.amname, pg_get_expr(ix.indpred, ix.indrelid),
                ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnkeyatts) k ORDER BY k),
                EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x'))
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_am am ON am.oid = i.relam
         WHERE t.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND t.relkind IN ('r', 'p')
         ORDER BY t.relname, i.relname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &indexes {
        let Some(t) = snapshot.tables.get_mut(&r.get::<String, _>(0)) else { continue };
        t.indexes.push(Index {
            name: r.get(1),
            unique: r.get(2),
            method: Some(r.get(3)),
            predicate: r.get::<Option<String>, _>(4).map(|p| strip_outer_parens(&p).to_string()),
            columns: r.get::<Vec<String>, _>(5).into_iter().map(|c| c.trim_matches('"').to_string()).collect(),
            implicit: r.get(6),
        });
    }

    let enums = sqlx::query(
        "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE t.typnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema()))
         GROUP BY t.typname ORDER BY t.typname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    snapshot.enums = enums.iter().map(|r| (r.get::<String, _>(0), r.get::<Vec<String>, _>(1))).collect();

    snapshot.views = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('v', 'm') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::without_concurrently;

    #[test]
    fn strips_only_enclosing_parentheses() {
        assert_eq!(super::strip_outer_parens("(status = 'new'::text)"), "status = 'new'::text");
        assert_eq!(super::strip_outer_parens("(a > 1) AND (b < 2)"), "(a > 1) AND (b < 2)");
        assert_eq!(super::strip_outer_parens("a > 1"), "a > 1");
    }

    #[test]
    fn strips_concurrently_outside_quotes_only() {
        assert_eq!(without_concurrently("CREATE INDEX CONCURRENTLY ix ON t (a)").as_deref(), Some("CREATE INDEX ix ON t (a)"));
        assert_eq!(without_concurrently("drop index concurrently ix").as_deref(), Some("drop index ix"));
        assert_eq!(without_concurrently("CREATE INDEX ix ON t (a) WHERE note = 'CONCURRENTLY'"), None);
        assert_eq!(without_concurrently("CREATE INDEX ix ON concurrently_log (a)"), None);
    }
}
