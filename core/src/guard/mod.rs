//! The read-only query guard for text that comes from outside (an assistant through MCP, a
//! user's ad-hoc query): exactly one statement of an allowed kind — SELECT / WITH without
//! data-modifying CTEs, row locks or `INTO`, EXPLAIN without ANALYZE of a query, SHOW — and
//! no dangerous function anywhere in the tree (file, process, lock, network, sleep,
//! configuration, SQL-in-a-string) and no catalog that holds credentials (secret_catalogs.rs).
//! What passes still runs on a read-only session, prepared
//! (one statement at most), with a statement timeout: the guard is the first of three walls,
//! and a least-privilege role remains the recommended setup.

mod secret_catalogs;

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, ObjectName, Query, SetExpr, Statement, TableFactor, Visit, Visitor};

use crate::dialect::Dialect;

/// Longest query text accepted.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Functions refused anywhere in a query (lowercase, unqualified).
const DENIED_FUNCTIONS: &[&str] = &[
    // files and large objects
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "pg_stat_file",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "lo_import",
    "lo_export",
    "lo_create",
    "lo_unlink",
    "lo_open",
    "lo_put",
    "lo_from_bytea",
    "lo_get",
    "load_file",
    "readfile",
    "writefile",
    "edit",
    "fts5",
    "load_extension",
    // processes, backends, server state
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_statements_reset",
    "pg_export_snapshot",
    "pg_import_snapshot",
    "pg_logical_emit_message",
    "pg_notify",
    "set_config",
    "sys_exec",
    "sys_eval",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_origin_create",
    "txid_current",
    "pg_current_xact_id",
    "nextval",
    "setval",
    // locks and time
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "is_free_lock",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "sleep",
    "benchmark",
    // other servers, SQL text executed by a function
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_open",
    "dblink_send_query",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "xmlexists",
    "ts_stat",
];

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(why.into()))
}

/// Check raw bytes: valid UTF-8 first, then [`check_read_only`].
pub fn check_read_only_bytes(sql: &[u8], dialect: Dialect) -> Result<(), Refusal> {
    match std::str::from_utf8(sql) {
        Ok(text) => check_read_only(text, dialect),
        Err(e) => refuse(format!("the query is not valid UTF-8 ({e})")),
    }
}

/// Most operators in one query. A chain `1 + 1 + ...` parses into a tree as deep as it is
/// long, and walking a tree recursively (the checks below, printing, dropping) takes stack in
/// proportion; the parser's own recursion limit covers parentheses and prefixes only.
pub const MAX_OPERATORS: usize = 400;

/// Refuse text with more than `max` operators (see [`MAX_OPERATORS`]) before anything parses
/// it. Checks that walk parsed SQL from outside call this first.
pub fn check_operator_count(sql: &str, dialect: Dialect, max: usize) -> Result<(), Refusal> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let parser_dialect = dialect.parser_dialect();
    let tokens = Tokenizer::new(&*parser_dialect, sql).tokenize().map_err(|e| Refusal(format!("cannot parse the query: {e}")))?;
    let operators = tokens
        .iter()
        .filter(|t| match t {
            Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::Mod
            | Token::StringConcat
            | Token::Eq
            | Token::Neq
            | Token::Lt
            | Token::Gt
            | Token::LtEq
            | Token::GtEq
            | Token::Spaceship
            | Token::Ampersand
            | Token::Pipe
            | Token::Caret
            | Token::DoubleEq => true,
            Token::Word(w) => matches!(w.keyword, Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::XOR),
            _ => false,
        })
        .count();
    if operators > max {
        return refuse(format!("the text has {operators} operators, more than the limit of {max}"));
    }
    Ok(())
}

/// What every check does before parsing text from outside: bounded length, no NUL, no MySQL
/// executable comments (what the parser skips, MySQL runs), bounded operator count.
fn check_text(sql: &str, dialect: Dialect) -> Result<(), Refusal> {
    if sql.len() > MAX_QUERY_BYTES {
        return refuse(format!("the query is longer than {MAX_QUERY_BYTES} bytes"));
    }
    if sql.contains('\0') {
        return refuse("the query contains a NUL byte");
    }
    if dialect == Dialect::Mysql && sql.contains("/*!") {
        return refuse("MySQL executable comments (/*! ... */) are not allowed");
    }
    check_operator_count(sql, dialect, MAX_OPERATORS)
}

/// Exactly one statement, parsed after [`check_text`].
fn parse_one(sql: &str, dialect: Dialect) -> Result<Statement, Refusal> {
    check_text(sql, dialect)?;
    let statements = match sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql) {
        Ok(s) => s,
        Err(e) => return refuse(format!("cannot parse the query: {e}")),
    };
    let mut statements = statements.into_iter();
    match (statements.next(), statements.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => refuse("the query is empty"),
        (Some(_), Some(_)) => refuse("only one statement at a time"),
    }
}

/// Is this text exactly one read-only statement of an allowed kind?
pub fn check_read_only(sql: &str, dialect: Dialect) -> Result<(), Refusal> {
    check_read_only_declaring(sql, dialect, &[]).map(|_| ())
}

/// [`check_read_only`], refusing also the tables the user declared secret; returns the
/// relations the statement reads (views among them may need looking into: [`check_view`]).
pub fn check_read_only_declaring(sql: &str, dialect: Dialect, secret_tables: &[String]) -> Result<Vec<String>, Refusal> {
    let statement = parse_one(sql, dialect)?;
    read_only_statement(&statement)?;
    secret_catalogs::refuse_secret_catalogs(&statement, dialect, secret_tables)?;
    Ok(secret_catalogs::relations(&statement))
}

/// A view's definition, as the database keeps it: it must not read a credentials catalog or a
/// declared secret table either. Returns the relations it reads (views again, maybe). A
/// definition that does not parse is refused only if it names such a table.
pub fn check_view(view: &str, definition: &str, dialect: Dialect, secret_tables: &[String]) -> Result<Vec<String>, Refusal> {
    let inside = |r: Refusal| Refusal(format!("view {view} reads a table that cannot be read: {r}"));
    match parse_one(definition, dialect) {
        Ok(statement) => {
            secret_catalogs::refuse_secret_catalogs(&statement, dialect, secret_tables).map_err(inside)?;
            Ok(secret_catalogs::relations(&statement))
        }
        Err(_) => match secret_catalogs::mentions_secret(definition, dialect, secret_tables) {
            Some(name) => Err(Refusal(format!("view {view} reads {name}, which cannot be read through dbconsultant"))),
            None => Ok(Vec::new()),
        },
    }
}

/// SELECT / WITH / EXPLAIN of a query without ANALYZE / SHOW, with no denied function.
fn read_only_statement(statement: &Statement) -> Result<(), Refusal> {
    match statement {
        Statement::Query(q) => check_query(q)?,
        Statement::Explain { analyze, statement, .. } => {
            if *analyze {
                return refuse("EXPLAIN ANALYZE executes the statement: use EXPLAIN without ANALYZE");
            }
            match statement.as_ref() {
                Statement::Query(q) => check_query(q)?,
                _ => return refuse("only a query can be explained"),
            }
        }
        Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowViews { .. } => {}
        other => {
            let kind = other.to_string().split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            return refuse(format!("{kind} is not allowed: only SELECT, WITH, EXPLAIN (without ANALYZE) and SHOW"));
        }
    }
    no_denied_function(statement, " in a read-only query")
}

fn no_denied_function(statement: &Statement, context: &str) -> Result<(), Refusal> {
    let mut denied = DeniedFunctions(None);
    let _ = statement.visit(&mut denied);
    match denied.0 {
        Some(name) => refuse(format!("the function {name}() is not allowed{context}")),
        None => Ok(()),
    }
}

/// A filter expression from outside (an ETL `where`), checked as the query
/// `SELECT 1 WHERE <filter>`: one read-only statement with no denied function, and no text
/// that closes the parentheses it is placed in.
pub fn check_filter(filter: &str, dialect: Dialect) -> Result<(), Refusal> {
    if filter.contains(';') {
        return refuse("a filter is one expression: ';' is not allowed");
    }
    check_text(filter, dialect)?;
    let parser_dialect = dialect.parser_dialect();
    let mut parser = sqlparser::parser::Parser::new(&*parser_dialect)
        .try_with_sql(filter)
        .map_err(|e| Refusal(format!("cannot parse the filter: {e}")))?;
    parser.parse_expr().map_err(|e| Refusal(format!("cannot parse the filter: {e}")))?;
    if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
        return refuse("a filter is one expression: text follows it");
    }
    check_read_only(&format!("SELECT 1 WHERE ({filter}\n)"), dialect).map_err(|r| Refusal(format!("filter refused: {}", r.0)))
}

/// A statement to plan but never run (query profiling): a read-only query as
/// [`check_read_only`] allows, or one INSERT / UPDATE / DELETE with no denied function.
pub fn check_explain_only(sql: &str, dialect: Dialect) -> Result<(), Refusal> {
    let statement = parse_one(sql, dialect)?;
    match statement {
        Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_) => no_denied_function(&statement, "")?,
        _ => read_only_statement(&statement)?,
    }
    secret_catalogs::refuse_secret_catalogs(&statement, dialect, &[])
}

/// The query itself, its CTEs and every subquery: no writes, locks or INTO.
fn check_query(query: &Query) -> Result<(), Refusal> {
    let mut checker = QueryShape(None);
    let _ = query.visit(&mut checker);
    match checker.0 {
        Some(why) => refuse(why),
        None => Ok(()),
    }
}

struct QueryShape(Option<String>);

impl Visitor for QueryShape {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if !query.locks.is_empty() {
            self.0 = Some("row locks (FOR UPDATE / FOR SHARE) are not allowed".into());
            return ControlFlow::Break(());
        }
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                if !matches!(
                    cte.query.body.as_ref(),
                    SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::SetOperation { .. } | SetExpr::Values(_) | SetExpr::Table(_)
                ) {
                    self.0 = Some(format!("the common table expression {} modifies data", cte.alias.name));
                    return ControlFlow::Break(());
                }
            }
        }
        if let SetExpr::Select(select) = query.body.as_ref() {
            if select.into.is_some() {
                self.0 = Some("SELECT ... INTO is not allowed".into());
                return ControlFlow::Break(());
            }
        }
        if !matches!(
            query.body.as_ref(),
            SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::SetOperation { .. } | SetExpr::Values(_) | SetExpr::Table(_)
        ) {
            self.0 = Some("the query modifies data".into());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

/// The first denied function called anywhere, in expressions or as a table (`FROM f(...)`).
struct DeniedFunctions(Option<String>);

impl DeniedFunctions {
    fn check(&mut self, name: &ObjectName) -> ControlFlow<()> {
        let last = name.0.last().map(|p| p.to_string()).unwrap_or_default();
        let bare = last.trim_matches(['"', '`', '[', ']']).to_ascii_lowercase();
        if DENIED_FUNCTIONS.contains(&bare.as_str())
            || bare.starts_with("dblink")
            || bare.starts_with("lo_")
            || bare.starts_with("pg_advisory")
            || bare.starts_with("pg_try_advisory")
        {
            self.0 = Some(bare);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

impl Visitor for DeniedFunctions {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = expr {
            return self.check(&f.name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            // `FROM pg_read_file('/etc/passwd')` parses as a table with arguments.
            TableFactor::Table { name, args: Some(_), .. } => self.check(name),
            TableFactor::Function { name, .. } => self.check(name),
            _ => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_reads_pass() {
        for sql in [
            "SELECT 1",
            "SELECT * FROM t WHERE a = 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "EXPLAIN SELECT * FROM t",
            "SELECT lower(name) FROM t",
        ] {
            assert_eq!(check_read_only(sql, Dialect::Postgres), Ok(()), "{sql}");
        }
    }

    #[test]
    fn escapes_are_refused() {
        for sql in [
            "COMMIT; DROP TABLE t",
            "SET TRANSACTION READ WRITE",
            "SELECT * FROM pg_read_file('/etc/passwd')",
            "SELECT pg_sleep(100)",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "SELECT * FROM t FOR UPDATE",
            "EXPLAIN ANALYZE DELETE FROM t",
            "SELECT * INTO t2 FROM t",
            "SELECT query_to_xml('delete from t', true, true, '')",
        ] {
            assert!(check_read_only(sql, Dialect::Postgres).is_err(), "{sql}");
        }
        assert!(check_read_only_bytes(b"SELECT '\xff'", Dialect::Postgres).is_err());
    }

    #[test]
    fn long_operator_chains_are_refused_before_parsing() {
        // 16,000 levels deep once parsed: walking that tree would overflow a thread's stack.
        let chain = format!("SELECT 1{}", "+1".repeat(16_000));
        let err = check_read_only(&chain, Dialect::Postgres).unwrap_err();
        assert!(err.0.contains("operators"), "{err}");
        assert!(check_explain_only(&format!("UPDATE t SET a = 1{}", "+1".repeat(16_000)), Dialect::Postgres).is_err());
        assert!(check_filter(&format!("a = 1{}", "+1".repeat(16_000)), Dialect::Postgres).unwrap_err().0.contains("operators"));
        assert_eq!(check_read_only(&format!("SELECT 1{}", "+1".repeat(MAX_OPERATORS - 1)), Dialect::Postgres), Ok(()));
    }

    #[test]
    fn filters_are_one_harmless_expression() {
        assert_eq!(check_filter("status = 'paid' AND amount > 0", Dialect::Postgres), Ok(()));
        for f in ["1=1) OR (1=1", "1=1; DROP TABLE t", "pg_sleep(10) IS NULL", "id IN (SELECT id FROM pg_read_file('/etc/passwd'))"] {
            assert!(check_filter(f, Dialect::Postgres).is_err(), "{f}");
        }
    }

    #[test]
    fn writes_may_be_planned_but_not_with_denied_functions() {
        assert_eq!(check_explain_only("UPDATE t SET a = 1 WHERE id = 2", Dialect::Postgres), Ok(()));
        assert_eq!(check_explain_only("SELECT * FROM t", Dialect::Mysql), Ok(()));
        assert!(check_explain_only("UPDATE t SET a = pg_sleep(100)", Dialect::Postgres).is_err());
        assert!(check_explain_only("DROP TABLE t", Dialect::Postgres).is_err());
        assert!(check_explain_only("DELETE FROM t; DROP TABLE t", Dialect::Postgres).is_err());
    }
}
