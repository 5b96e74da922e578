//! The PostgreSQL sandbox: one transaction that is always rolled back, a savepoint per
//! statement, and the locks and table rewrites each statement caused.

use super::plan::explain_json;
use crate::driver::LockMode;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use sqlparser::ast::Statement;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::introspect::introspect;
use super::{db_message, plan, query};
use super::{Execution, LockTaken, QueryResult, Sandbox, StatementError, TableRewrite};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::sql::ParsedStatement;

pub struct PgSandbox {
    pub(super) conn: Option<PgConnection>,
    pub(super) description: String,
    /// The shadow database the transaction runs in; `None` on the target itself
    /// (`--sandbox-on-target`).
    pub(super) shadow: Option<super::shadow::ShadowHost>,
    /// Tables the shadow holds only a sample of.
    pub(super) partial: Vec<String>,
    pub(super) notes: Vec<String>,
}

/// Why a statement is not run in the sandbox transaction, if it is not.
pub(super) fn not_runnable(stmt: &ParsedStatement) -> Option<&'static str> {
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

pub(super) fn first_words_refusal(sql: &str) -> Option<&'static str> {
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
pub(super) fn without_concurrently(sql: &str) -> Option<String> {
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
pub(super) struct RelationState {
    /// table -> (relfilenode, row estimate)
    files: BTreeMap<String, (i64, i64)>,
    /// (table, lock mode)
    locks: BTreeSet<(String, String)>,
}

pub(super) async fn relation_state(conn: &mut PgConnection) -> std::result::Result<RelationState, sqlx::Error> {
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

    fn server_last_words(&self) -> Option<String> {
        self.shadow.as_ref()?.last_words()
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
        // The sandbox's own queries failing (its server gone, its disk full) is its fault.
        let internal = |e: sqlx::Error| StatementError::sandbox_fault(format!("sandbox bookkeeping failed: {}", db_message(&e)));
        let shadow = self.shadow.is_some();
        let conn = self.conn.as_mut().expect("sandbox connection is open until close");
        let before = relation_state(conn).await.map_err(internal)?;
        sqlx::query("SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
        let started = std::time::Instant::now();
        let ran = sqlx::query(sqlx::AssertSqlSafe(&*sql)).persistent(false).execute(&mut *conn).await;
        execution.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = ran {
            sqlx::query("ROLLBACK TO SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
            let code = match &e {
                sqlx::Error::Database(d) => d.code().map(|c| c.to_string()).unwrap_or_default(),
                _ => String::new(),
            };
            // 57014: cancelled by the statement timeout (the sandbox's, as nothing else cancels).
            if code == "57014" {
                execution.timed_out = true;
                return Ok(execution);
            }
            let mut message = db_message(&e);
            // 53100 disk full, 53200 out of memory: the sandbox's resources, not the statement.
            let sandbox_fault = matches!(code.as_str(), "53100" | "53200") || crate::driver::out_of_room(&message);
            if code == "53100" && !crate::driver::out_of_room(&message) {
                message.push_str(" (the sandbox's disk is full: no space left on device)");
            }
            return Err(StatementError {
                on_existing_data: code.starts_with("23"),
                syntax: code == "42601",
                sandbox_fault,
                ..StatementError::refused(message)
            });
        }
        sqlx::query("RELEASE SAVEPOINT dbconsultant_statement").execute(&mut *conn).await.map_err(internal)?;
        let after = relation_state(conn).await.map_err(internal)?;
        // Locks are held to the end of the transaction: the new ones are this statement's. A
        // lock an earlier statement took is not new, yet this statement may still work under
        // it (a rewrite after an ADD COLUMN): those are reported as held, and the report keeps
        // them only where the statement rewrites, builds or scans.
        let strongest = |locks: &mut dyn Iterator<Item = &(String, String)>| {
            let mut out: BTreeMap<String, LockMode> = BTreeMap::new();
            for (table, mode) in locks {
                let Some(mode) = LockMode::from_pg_locks(mode) else { continue };
                let entry = out.entry(table.clone()).or_insert(mode);
                *entry = (*entry).max(mode);
            }
            out
        };
        let taken = strongest(&mut after.locks.difference(&before.locks));
        let held = strongest(&mut after.locks.iter());
        for (table, mode) in held {
            // What the statement works under is the strongest lock held; it took that lock
            // unless an earlier statement had already (a weaker new one does not count).
            let held_before = taken.get(&table).is_none_or(|new| *new < mode);
            // The rows the statement worked through, for a time per row (a shadow holds few).
            let sandbox_rows = match (shadow, mode >= LockMode::ShareUpdateExclusive) {
                (true, true) => {
                    let count = format!("SELECT COUNT(*) FROM {}", Dialect::Postgres.quote_ident(&table));
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(&*count)).fetch_one(&mut *conn).await.ok().map(|n| n as u64)
                }
                _ => None,
            };
            execution.locks.push(LockTaken { table, mode, sandbox_rows, held_before });
        }
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
        crate::driver::explain::check_explainable(sql, Dialect::Postgres, false)?;
        let body = sql.trim().trim_end_matches(';');
        let raw = explain_json(self.conn(), body, "FORMAT JSON", crate::driver::explain::placeholder_count(body, Dialect::Postgres))
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        plan::postgres_plan(raw, false)
    }

    fn sampled_tables(&self) -> Vec<String> {
        self.partial.clone()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn on_target(&self) -> bool {
        self.shadow.is_none()
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        let mut rolled_back = Ok(());
        if let Some(mut conn) = self.conn.take() {
            rolled_back = sqlx::query("ROLLBACK").execute(&mut conn).await.map(|_| ());
            conn.close().await.ok();
        }
        // The shadow goes whatever happened to the transaction.
        let discarded = match self.shadow.take() {
            Some(host) => host.discard().await,
            None => Ok(()),
        };
        rolled_back.map_err(|e| Error::Sandbox(format!("rollback failed: {}", db_message(&e))))?;
        discarded
    }
}

#[cfg(test)]
mod tests {
    use super::without_concurrently;

    #[test]
    fn strips_only_enclosing_parentheses() {
        assert_eq!(crate::driver::postgres::strip_outer_parens("(status = 'new'::text)"), "status = 'new'::text");
        assert_eq!(crate::driver::postgres::strip_outer_parens("(a > 1) AND (b < 2)"), "(a > 1) AND (b < 2)");
        assert_eq!(crate::driver::postgres::strip_outer_parens("a > 1"), "a > 1");
    }

    #[test]
    fn strips_concurrently_outside_quotes_only() {
        assert_eq!(without_concurrently("CREATE INDEX CONCURRENTLY ix ON t (a)").as_deref(), Some("CREATE INDEX ix ON t (a)"));
        assert_eq!(without_concurrently("drop index concurrently ix").as_deref(), Some("drop index ix"));
        assert_eq!(without_concurrently("CREATE INDEX ix ON t (a) WHERE note = 'CONCURRENTLY'"), None);
        assert_eq!(without_concurrently("CREATE INDEX ix ON concurrently_log (a)"), None);
    }
}
