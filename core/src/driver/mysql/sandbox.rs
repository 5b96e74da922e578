//! The MySQL/MariaDB sandbox: a scratch database (on a sandbox server or, when allowed, on
//! the target's server) holding the target's schema and a sample of its rows; DDL commits
//! implicitly there, so the target itself is never used. Scratch databases of killed runs are
//! dropped by later runs.

use async_trait::async_trait;
use sqlparser::ast::{AlterTableOperation, Statement};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Connection, Row};

use super::introspect::introspect;
use super::{db_message, error_number, explainable_body, on_existing_data, plan, query};
use super::{AlterAlgorithm, Execution, QueryResult, Sandbox, StatementError};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::SchemaSnapshot;
use crate::sql::ParsedStatement;
use crate::url::redact_url;

/// Prefix of scratch databases, so stale ones from killed runs can be found and dropped.
pub(super) const SCRATCH_PREFIX: &str = "dbconsultant_sandbox_";

/// Scratch databases that exist right now, so an interrupted run (Ctrl-C) can drop them
/// before the process exits.
pub(super) static OPEN_SCRATCH: std::sync::Mutex<Vec<(MySqlConnectOptions, String)>> = std::sync::Mutex::new(Vec::new());

pub(super) fn forget_scratch(name: &str) {
    if let Ok(mut open) = OPEN_SCRATCH.lock() {
        open.retain(|(_, n)| n != name);
    }
}

/// Drop every scratch database this process still holds. Call on interrupt; sandboxes that
/// close normally drop their own.
pub async fn drop_open_scratch_databases() {
    let open: Vec<(MySqlConnectOptions, String)> = OPEN_SCRATCH.lock().map(|mut o| std::mem::take(&mut *o)).unwrap_or_default();
    for (options, name) in open {
        if let Ok(mut conn) = options.connect().await {
            // An interrupt can land while CREATE DATABASE is on its way: the server may still
            // read it after our client is gone and run it after any drop we send now. The
            // session that sends it holds the lease, which comes free only once that session
            // has ended, and with it the creation: wait for it (up to 10 s).
            let _ = sqlx::query("DO GET_LOCK(?, 10)").bind(&name).execute(&mut conn).await;
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&name))))
                .execute(&mut conn)
                .await;
            conn.close().await.ok();
        }
    }
}

/// Take the lease on a scratch database's name: a named lock held by the admin connection
/// for the sandbox's lifetime. The server frees it when the connection ends, so a run that
/// was killed (even `kill -9`, even on another machine) leaves a scratch database whose lease
/// is free.
pub(super) async fn take_lease(admin: &mut MySqlConnection, scratch: &str) -> Result<()> {
    let held: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
        .bind(scratch)
        .fetch_one(&mut *admin)
        .await
        .map_err(|e| Error::Sandbox(format!("cannot take the lease on scratch database {scratch}: {}", db_message(&e))))?;
    if held == Some(1) {
        Ok(())
    } else {
        Err(Error::Sandbox(format!("the lease on scratch database {scratch} is held by another session")))
    }
}

/// Scratch databases whose lease is free belong to runs that died: drop them.
pub(super) async fn drop_stale_scratch_databases(admin: &mut MySqlConnection) {
    let pattern = format!("{SCRATCH_PREFIX}%");
    let Ok(names) = sqlx::query_scalar::<_, String>("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")
        .bind(pattern)
        .fetch_all(&mut *admin)
        .await
    else {
        return;
    };
    for name in names {
        // Taking the lease ourselves both proves the owner gone and keeps a second cleaner out.
        if take_lease(admin, &name).await.is_err() {
            continue;
        }
        tracing::info!(database = %name, "dropping the scratch database of a run that died");
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&name))))
            .execute(&mut *admin)
            .await;
        let _ = sqlx::query("DO RELEASE_LOCK(?)").bind(&name).execute(&mut *admin).await;
    }
}

pub struct MysqlSandbox {
    pub(super) admin: Option<MySqlConnection>,
    pub(super) conn: Option<MySqlConnection>,
    pub(super) scratch: String,
    pub(super) description: String,
    /// Tables copied only in part (more rows than the sample size).
    pub(super) sampled: Vec<String>,
    /// Every other database on the sandbox server (lower case): a statement that names one
    /// of them is refused, since it would leave the scratch database.
    pub(super) other_databases: Vec<String>,
    /// The throwaway server the scratch database lives on, if any (stopped at close).
    pub(super) local: Option<super::ephemeral::EphemeralMariadb>,
    /// On a large database, the tables and views copied (lower case); `None`: all of them.
    /// The subset to copy: lowercased name -> the server's spelling.
    pub(super) only: Option<std::collections::BTreeMap<String, String>>,
}

impl MysqlSandbox {
    /// Recreate the target's tables and views in the scratch database and copy a bounded
    /// sample of rows per table.
    pub(super) async fn populate(
        &mut self,
        server: &MySqlConnectOptions,
        target: &mut MySqlConnection,
        target_db: &str,
        same_server: bool,
        sample_rows: u64,
    ) -> Result<()> {
        let sandbox_err = |e: sqlx::Error| Error::Sandbox(db_message(&e));
        let mut conn = server.clone().database(&self.scratch).connect().await.map_err(|e| Error::Sandbox(redact_url(&e.to_string())))?;
        sqlx::query("SET FOREIGN_KEY_CHECKS = 0").execute(&mut conn).await.map_err(sandbox_err)?;
        // MariaDB keeps rows loaded with check_constraint_checks off that break a CHECK; the
        // sample carries them. (MySQL has no such rows and no such setting.)
        let checks_off = sqlx::query("SET SESSION check_constraint_checks = 0").execute(&mut conn).await.is_ok();
        // INSERT ... SELECT from the target's tables reads them as a consistent snapshot in
        // READ COMMITTED; in REPEATABLE READ InnoDB would lock the rows it reads, and a writer
        // on the target would wait for the copy.
        sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").execute(&mut conn).await.map_err(sandbox_err)?;
        let mut databases: Vec<String> =
            sqlx::query_scalar("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA").fetch_all(&mut conn).await.map_err(sandbox_err)?;
        databases.push(target_db.to_string());
        self.other_databases =
            databases.into_iter().map(|d| d.to_ascii_lowercase()).filter(|d| *d != self.scratch.to_ascii_lowercase()).collect();
        let q = |s: &str| Dialect::Mysql.quote_ident(s);
        // A subset is looked up by name: a scan of TABLES opens every table's definition.
        let mut objects = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        );
        if let Some(only) = &self.only {
            objects.push(" AND TABLE_NAME IN (");
            let mut list = objects.separated(", ");
            for name in only.values() {
                list.push_bind(name);
            }
            objects.push(")");
        }
        objects.push(" ORDER BY TABLE_TYPE, TABLE_NAME");
        let objects: Vec<(String, String)> = objects.build_query_as().fetch_all(&mut *target).await.map_err(sandbox_err)?;
        let copied = |name: &String| self.only.as_ref().is_none_or(|o| o.contains_key(&name.to_lowercase()));
        let objects: Vec<(String, String)> = objects.into_iter().filter(|(name, _)| copied(name)).collect();
        for (name, _) in objects.iter().filter(|(_, k)| k == "BASE TABLE") {
            let (_, ddl): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW CREATE TABLE {}", q(name))))
                .fetch_one(&mut *target)
                .await
                .map_err(sandbox_err)?;
            sqlx::query(sqlx::AssertSqlSafe(&*ddl))
                .execute(&mut conn)
                .await
                .map_err(|e| Error::Sandbox(format!("cannot recreate table {name}: {}", db_message(&e))))?;
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
                 AND EXTRA NOT LIKE '%GENERATED%' AND EXTRA NOT LIKE '%VIRTUAL%' AND EXTRA NOT LIKE '%STORED%' ORDER BY ORDINAL_POSITION",
            )
            .bind(name)
            .fetch_all(&mut *target)
            .await
            .map_err(sandbox_err)?;
            let list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
            // Whether the sample cuts the table short: one row past the sample, not a
            // COUNT(*) (a full scan of a production table).
            let beyond: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT 1 FROM {} LIMIT {sample_rows}, 1", q(name))))
                .fetch_optional(&mut *target)
                .await
                .map_err(sandbox_err)?;
            if beyond.is_some() {
                self.sampled.push(name.clone());
            }
            if same_server {
                let copy = format!("INSERT INTO {} ({list}) SELECT {list} FROM {}.{} LIMIT {sample_rows}", q(name), q(target_db), q(name));
                sqlx::query(sqlx::AssertSqlSafe(&*copy))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| Error::Sandbox(format!("cannot copy rows of {name}: {}", db_message(&e))))?;
            } else {
                let rows = query(target, &format!("SELECT {list} FROM {} LIMIT {sample_rows}", q(name)), sample_rows as usize).await?;
                copy_rows(&mut conn, name, &columns, rows.rows).await?;
            }
        }
        for (name, _) in objects.iter().filter(|(_, k)| k == "VIEW") {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("SHOW CREATE VIEW {}", q(name))))
                .fetch_one(&mut *target)
                .await
                .map_err(sandbox_err)?;
            let ddl: String = row.try_get(1).map_err(sandbox_err)?;
            let ddl = portable_view(&ddl, target_db);
            sqlx::query(sqlx::AssertSqlSafe(&*ddl))
                .execute(&mut conn)
                .await
                .map_err(|e| Error::Sandbox(format!("cannot recreate view {name}: {}", db_message(&e))))?;
        }
        // Checks hold while the migration runs, as in production.
        if checks_off {
            sqlx::query("SET SESSION check_constraint_checks = 1").execute(&mut conn).await.map_err(sandbox_err)?;
        }
        // Foreign keys are checked while the migration runs, as in production, unless the
        // sample cut some tables short (a missing parent would then be an artefact).
        if self.sampled.is_empty() {
            sqlx::query("SET FOREIGN_KEY_CHECKS = 1").execute(&mut conn).await.map_err(sandbox_err)?;
        }
        self.conn = Some(conn);
        Ok(())
    }

    fn conn(&mut self) -> &mut MySqlConnection {
        self.conn.as_mut().expect("sandbox connection is open until close")
    }
}

/// Insert sampled rows into the scratch table, many rows per statement (one round trip per
/// row cost 0.3 s for 3,000 rows).
async fn copy_rows(
    conn: &mut MySqlConnection,
    table: &str,
    columns: &[String],
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
) -> Result<()> {
    let q = |s: &str| Dialect::Mysql.quote_ident(s);
    let list = columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
    // At most 65,535 placeholders in one statement.
    let per_statement = (60_000 / columns.len().max(1)).clamp(1, 500);
    for chunk in rows.chunks(per_statement) {
        let mut insert = sqlx::QueryBuilder::<sqlx::MySql>::new(format!("INSERT INTO {} ({list}) ", q(table)));
        insert.push_values(chunk, |mut values, row| {
            for c in columns {
                match row.get(c).cloned().unwrap_or(serde_json::Value::Null) {
                    serde_json::Value::Null => values.push_bind(None::<String>),
                    serde_json::Value::Bool(b) => values.push_bind(b),
                    serde_json::Value::Number(n) if n.is_i64() => values.push_bind(n.as_i64()),
                    serde_json::Value::Number(n) if n.is_u64() => values.push_bind(n.as_u64()),
                    serde_json::Value::Number(n) => values.push_bind(n.as_f64()),
                    serde_json::Value::String(s) => values.push_bind(s),
                    other => values.push_bind(other.to_string()),
                };
            }
        });
        insert
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::Sandbox(format!("cannot copy rows of {table}: {}", db_message(&e))))?;
    }
    Ok(())
}

/// `SHOW CREATE VIEW` names the target database and a definer; the scratch copy needs
/// neither.
pub(super) fn portable_view(ddl: &str, target_db: &str) -> String {
    let mut out = ddl.replace(&format!("{}.", Dialect::Mysql.quote_ident(target_db)), "");
    if let Some(start) = out.find(" DEFINER=") {
        if let Some(end) = out[start + 1..].find(" SQL SECURITY").or_else(|| out[start + 1..].find(" VIEW")) {
            out.replace_range(start..start + 1 + end, "");
        }
    }
    out
}

/// Why a statement is refused in the scratch database: it would reach beyond it.
pub(super) fn refusal(stmt: &ParsedStatement, other_databases: &[String]) -> Option<String> {
    let first: Vec<String> = stmt.sql.split_whitespace().take(2).map(|w| w.to_ascii_uppercase()).collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    match first.as_slice() {
        ["USE", ..] => return Some("USE would leave the scratch database".into()),
        ["CREATE" | "DROP" | "ALTER", "DATABASE" | "SCHEMA"] => {
            return Some("statements on whole databases are not run in the sandbox".into())
        }
        ["GRANT" | "REVOKE", ..] | ["CREATE" | "DROP" | "ALTER" | "RENAME", "USER"] | ["SET", "GLOBAL" | "PERSIST"] => {
            return Some("server-wide statements are not run in the sandbox".into())
        }
        ["LOAD", ..] => return Some("LOAD DATA reads files".into()),
        _ => {}
    }
    if stmt.sql.to_ascii_uppercase().contains("INTO OUTFILE") || stmt.sql.to_ascii_uppercase().contains("INTO DUMPFILE") {
        return Some("SELECT ... INTO OUTFILE writes files".into());
    }
    // `other_db.table` anywhere in the statement (DROP, ALTER, INSERT ... SELECT, views,
    // triggers): found on tokens, so statements the parser cannot read are covered too.
    let dialect = sqlparser::dialect::MySqlDialect {};
    let tokens = match sqlparser::tokenizer::Tokenizer::new(&dialect, &stmt.sql).tokenize() {
        Ok(tokens) => tokens,
        Err(_) => return Some("the statement cannot be tokenized, so it cannot be proven to stay in the scratch database".into()),
    };
    let significant: Vec<&sqlparser::tokenizer::Token> =
        tokens.iter().filter(|t| !matches!(t, sqlparser::tokenizer::Token::Whitespace(_))).collect();
    for window in significant.windows(2) {
        if let (sqlparser::tokenizer::Token::Word(w), sqlparser::tokenizer::Token::Period) = (window[0], window[1]) {
            if other_databases.iter().any(|d| *d == w.value.to_ascii_lowercase()) {
                return Some(format!("it names database {}; the sandbox only runs statements on the scratch copy", w.value));
            }
        }
    }
    None
}

/// `ALTER TABLE` statements whose algorithm is worth probing (none given explicitly).
pub(super) fn probe_algorithm(stmt: &ParsedStatement) -> bool {
    match stmt.statement() {
        Some(Statement::AlterTable(alter)) => {
            !alter.operations.iter().any(|op| matches!(op, AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. }))
        }
        _ => false,
    }
}

#[async_trait]
impl Sandbox for MysqlSandbox {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    fn server_last_words(&self) -> Option<String> {
        self.local.as_ref()?.last_words()
    }

    async fn execute(&mut self, stmt: &ParsedStatement) -> std::result::Result<Execution, StatementError> {
        if let Some(reason) = refusal(stmt, &self.other_databases) {
            return Err(StatementError::refused(format!("refused in the sandbox: {reason}")));
        }
        let mut execution = Execution::default();
        let conn = self.conn();
        if probe_algorithm(stmt) {
            // Ask the server for the cheapest algorithm first; an unsupported one fails
            // before changing anything, so the next attempt starts from the same state.
            for (algorithm, clause) in
                [(AlterAlgorithm::Instant, ", ALGORITHM=INSTANT"), (AlterAlgorithm::Inplace, ", ALGORITHM=INPLACE, LOCK=NONE")]
            {
                if sqlx::query(sqlx::AssertSqlSafe(format!("{}{clause}", stmt.sql))).persistent(false).execute(&mut *conn).await.is_ok() {
                    execution.algorithm = Some(algorithm);
                    return Ok(execution);
                }
            }
            execution.algorithm = Some(AlterAlgorithm::Copy);
        }
        match sqlx::query(sqlx::AssertSqlSafe(&*stmt.sql)).persistent(false).execute(&mut *conn).await {
            Ok(_) => Ok(execution),
            Err(e) => {
                let number = error_number(&e);
                let mut message = db_message(&e);
                // 1021 disk full, 1041 out of memory, 1114 table full (on a scratch copy: the
                // disk), and a lost connection: the sandbox's fault, not the statement's.
                let sandbox_fault =
                    matches!(number, 1021 | 1041 | 1114) || !matches!(e, sqlx::Error::Database(_)) || crate::driver::out_of_room(&message);
                if (matches!(number, 1021 | 1114) || crate::driver::out_of_room(&message))
                    && !message.to_ascii_lowercase().contains("no space left")
                {
                    message.push_str(" (the sandbox's disk is full: no space left on device)");
                }
                Err(StatementError {
                    on_existing_data: on_existing_data(number),
                    syntax: matches!(number, 1064 | 1149),
                    sandbox_fault,
                    ..StatementError::refused(message)
                })
            }
        }
    }

    async fn introspect(&mut self) -> Result<SchemaSnapshot> {
        introspect(self.conn(), None).await
    }

    async fn query(&mut self, sql: &str, max_rows: usize) -> Result<QueryResult> {
        query(self.conn(), sql, max_rows).await
    }

    async fn explain(&mut self, sql: &str) -> Result<crate::model::Plan> {
        crate::driver::explain::check_explainable(sql, Dialect::Mysql, false)?;
        let body = explainable_body(sql);
        let text = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN FORMAT=JSON {body}")))
            .fetch_one(self.conn())
            .await
            .map_err(|e| Error::InvalidInput(format!("explain failed: {}", db_message(&e))))?;
        let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Internal(format!("MySQL plan is not JSON: {e}")))?;
        plan::mysql_plan(raw, false)
    }

    fn sampled_tables(&self) -> Vec<String> {
        self.sampled.clone()
    }

    fn notes(&self) -> Vec<String> {
        self.only
            .iter()
            .map(|o| format!("the sandbox holds {} of the target's tables and views: those the migration names and their foreign-key and view neighbours", o.len()))
            .collect()
    }

    async fn close(mut self: Box<Self>) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            conn.close().await.ok();
        }
        if let Some(mut admin) = self.admin.take() {
            let dropped =
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {}", Dialect::Mysql.quote_ident(&self.scratch))))
                    .execute(&mut admin)
                    .await;
            admin.close().await.ok();
            if dropped.is_ok() {
                forget_scratch(&self.scratch);
            }
            // A throwaway server goes whole, whether the drop worked or not.
            if self.local.take().is_none() {
                dropped.map_err(|e| Error::Sandbox(format!("cannot drop scratch database {}: {}", self.scratch, db_message(&e))))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::mysql::scrub_values;

    #[test]
    fn scrubs_values_from_server_messages() {
        assert_eq!(scrub_values("Duplicate entry 'ann@example.com' for key 'ux_email'"), "Duplicate entry '<masked>' for key 'ux_email'");
        assert_eq!(
            scrub_values("Incorrect integer value: 'abc' for column `x`.`t`.`n` at row 1"),
            "Incorrect integer value: '<masked>' for column `x`.`t`.`n` at row 1"
        );
        assert_eq!(scrub_values("Table 't' already exists"), "Table 't' already exists");
    }

    #[test]
    fn views_lose_database_and_definer() {
        let ddl = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select `shop`.`orders`.`id` AS `id` from `shop`.`orders`";
        assert_eq!(
            portable_view(ddl, "shop"),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select `orders`.`id` AS `id` from `orders`"
        );
    }
}
