//! PostgreSQL driver. Inspection sessions start with `default_transaction_read_only = on`
//! and statement/lock timeouts; the sandbox is one transaction (on the target or a shadow
//! database) that is always rolled back, with a savepoint per statement so a failure leaves
//! the rest inspectable, and `pg_locks` / `relfilenode` read around every statement.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::{connection_error, Driver, Execution, LockTaken, QueryResult, Sandbox, SandboxOptions, StatementError, TableRewrite};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::url::redact_url;

mod introspect;
use introspect::*;
mod sandbox;
use sandbox::*;
pub mod etl_sql;
pub mod plan;
pub(crate) mod shadow;
use plan::*;

pub struct PostgresDriver {
    options: PgConnectOptions,
    /// The URL as given (with its password): the PostgreSQL tools that copy the schema to
    /// the sandbox connect with it.
    raw: String,
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
        // Retried through a restart or failover (transient failures only).
        super::retry::connect_retrying(super::retry::retry_budget(), || inspection.connect())
            .await
            .map_err(|gave_up| connection_error(&redacted, gave_up.reason()))?
            .close()
            .await
            .ok();
        let bulk = session.bulk_scans;
        let pool = PgPoolOptions::new()
            .max_connections(session.max_connections.max(1))
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
        Ok(PostgresDriver { options, raw: raw.to_string(), pool, redacted })
    }
}

#[async_trait]
impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn etl_sql(&self) -> &'static dyn crate::driver::etl_sql::EtlSql {
        &etl_sql::PostgresEtl
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
        crate::driver::explain::check_explainable(sql, Dialect::Postgres, analyze)?;
        let mut conn = self.pool.acquire().await.map_err(|e| connection_error(&self.redacted, e))?;
        let body = sql.trim().trim_end_matches(';');
        let parameters = crate::driver::explain::placeholder_count(body, Dialect::Postgres);
        let options = if analyze { "FORMAT JSON, ANALYZE, BUFFERS" } else { "FORMAT JSON" };
        sqlx::query("BEGIN READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        let result = explain_json(&mut conn, body, options, parameters).await;
        // Always rolled back: nothing an analyzed query did survives.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        let raw = result.map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        plan::postgres_plan(raw, analyze)
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
        crate::driver::explain::check_explainable(sql, Dialect::Postgres, false)?;
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
                explain_json(&mut conn, body, "FORMAT JSON", crate::driver::explain::placeholder_count(body, Dialect::Postgres)).await
            }
            Err(e) => Err(e),
        };
        let _ = sqlx::query("SELECT hypopg_reset()").execute(&mut *conn).await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        Ok(Some(plan::postgres_plan(plan.map_err(failed)?, false)?))
    }

    async fn open_sandbox(&self, options: &SandboxOptions) -> Result<Box<dyn Sandbox>> {
        // The migration runs on a copy: a shadow on the user's sandbox server or on a
        // throwaway local server. Only with explicit leave, and only when no copy can be made
        // here, does it run on the target itself.
        let shadow = match self.open_shadow(options).await {
            Ok(shadow) => Some(shadow),
            Err(e) if options.allow_scratch_on_target && options.sandbox_url.is_none() => {
                tracing::warn!(error = %e, "no shadow database: the sandbox runs on the target (--sandbox-on-target)");
                None
            }
            Err(e) => return Err(e),
        };
        let (connect, lock_ms) = match &shadow {
            Some(s) => (s.connect.clone(), options.lock_timeout_ms),
            None => (self.options.clone(), options.on_target_lock_timeout_ms),
        };
        let lock = format!("{lock_ms}ms");
        let statement = format!("{}ms", options.statement_timeout_ms);
        let connect = connect.options([("lock_timeout", lock.as_str()), ("statement_timeout", statement.as_str())]);
        let opened = async {
            let mut conn = connect
                .connect()
                .await
                .map_err(|e| Error::Sandbox(format!("cannot open a sandbox session: {}", redact_url(&e.to_string()))))?;
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ").execute(&mut conn).await.map_err(|e| Error::Sandbox(db_message(&e)))?;
            Ok::<_, Error>(conn)
        }
        .await;
        let conn = match opened {
            Ok(conn) => conn,
            Err(e) => {
                if let Some(s) = shadow {
                    let _ = s.host.discard().await;
                }
                return Err(e);
            }
        };
        Ok(Box::new(match shadow {
            Some(s) => PgSandbox { conn: Some(conn), description: s.description, shadow: Some(s.host), partial: s.partial, notes: s.notes },
            None => PgSandbox {
                conn: Some(conn),
                description: format!("transaction on the target {} itself (always rolled back; --sandbox-on-target)", self.redacted),
                shadow: None,
                partial: Vec::new(),
                notes: Vec::new(),
            },
        }))
    }
}

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
