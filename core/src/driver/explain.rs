//! EXPLAIN output of each dialect into the shared [`Plan`](crate::model::plan::Plan) shape, and which statements may be
//! explained (and which may run under EXPLAIN ANALYZE: read-only queries only).

use serde_json::Value;

use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Refuse what cannot be explained safely: one statement, a query or a DML statement; ANALYZE
/// (which executes) only for a query.
pub fn check_explainable(sql: &str, dialect: Dialect, analyze: bool) -> Result<()> {
    use sqlparser::ast::Statement;
    let statements = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql)
        .map_err(|e| Error::invalid(format!("cannot parse query: {e}")))?;
    if analyze && placeholder_count(sql, dialect) > 0 {
        return Err(Error::invalid("a statement with parameters ($1, ?) has no values to run with: explained only, never analyzed"));
    }
    match statements.as_slice() {
        [Statement::Query(_)] => Ok(()),
        [Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_)] if !analyze => Ok(()),
        [Statement::Insert(_) | Statement::Update { .. } | Statement::Delete(_)] => {
            Err(Error::invalid("a write statement is explained only, never executed (no ANALYZE)"))
        }
        [_] => Err(Error::invalid("only SELECT, INSERT, UPDATE and DELETE statements can be explained")),
        _ => Err(Error::invalid("explain one statement at a time")),
    }
}

/// A write statement as the SELECT of the rows it would touch (MySQL/MariaDB refuse to
/// EXPLAIN a write in a read-only session): `UPDATE t SET .. WHERE c` → `SELECT * FROM t WHERE
/// c`, `INSERT .. SELECT q` → `q`. `None` for a query, or a write that reads nothing.
pub fn write_as_select(sql: &str, dialect: Dialect) -> Option<String> {
    use sqlparser::ast::{FromTable, Statement};
    let statements = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql).ok()?;
    let where_ = |selection: &Option<sqlparser::ast::Expr>| selection.as_ref().map(|s| format!(" WHERE {s}")).unwrap_or_default();
    match statements.first()? {
        Statement::Update(update) => Some(format!("SELECT * FROM {}{}", update.table, where_(&update.selection))),
        Statement::Delete(delete) => {
            let tables = match &delete.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let from = tables.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
            Some(format!("SELECT * FROM {from}{}", where_(&delete.selection)))
        }
        Statement::Insert(insert) => {
            insert.source.as_ref().filter(|q| !matches!(*q.body, sqlparser::ast::SetExpr::Values(_))).map(|q| q.to_string())
        }
        _ => None,
    }
}

/// How many parameters (`$1`, `?`) a statement has; 0 when it has none or does not parse.
pub fn placeholder_count(sql: &str, dialect: Dialect) -> usize {
    use std::ops::ControlFlow;
    let Ok(mut statements) = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql) else { return 0 };
    let mut count = 0usize;
    let _ = sqlparser::ast::visit_expressions_mut(&mut statements, |e| {
        if let sqlparser::ast::Expr::Value(v) = e {
            if let sqlparser::ast::Value::Placeholder(p) = &v.value {
                count = count.max(p.trim_start_matches('$').parse().unwrap_or(count + 1));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    count
}

/// The statement with every placeholder replaced by the string literal `'0'` (MySQL digests
/// keep `?`; a string converts to the column's type, so an index stays usable).
pub fn with_placeholder_values(sql: &str, dialect: Dialect) -> Option<String> {
    use std::ops::ControlFlow;
    let mut statements = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql).ok()?;
    let _ = sqlparser::ast::visit_expressions_mut(&mut statements, |e| {
        if let sqlparser::ast::Expr::Value(v) = e {
            if matches!(v.value, sqlparser::ast::Value::Placeholder(_)) {
                v.value = sqlparser::ast::Value::SingleQuotedString("0".into());
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Some(statements.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "))
}

pub(crate) fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_statements_are_explained() {
        assert!(check_explainable("SELECT * FROM t", Dialect::Postgres, true).is_ok());
        assert!(check_explainable("UPDATE t SET a = 1", Dialect::Postgres, false).is_ok());
        assert!(check_explainable("UPDATE t SET a = 1", Dialect::Postgres, true).is_err());
        assert!(check_explainable("SELECT 1; DROP TABLE t", Dialect::Postgres, false).is_err());
        assert!(check_explainable("DROP TABLE t", Dialect::Postgres, false).is_err());
        assert!(check_explainable("SELECT * FROM t WHERE a = $1", Dialect::Postgres, false).is_ok());
        assert!(check_explainable("SELECT * FROM t WHERE a = $1", Dialect::Postgres, true).is_err());
    }

    #[test]
    fn placeholders_are_counted_and_bound() {
        assert_eq!(placeholder_count("SELECT * FROM t WHERE a = $1 AND b = $2", Dialect::Postgres), 2);
        assert_eq!(placeholder_count("SELECT * FROM t WHERE a = 1", Dialect::Postgres), 0);
        assert_eq!(
            with_placeholder_values("SELECT * FROM t WHERE a = ?", Dialect::Mysql).as_deref(),
            Some("SELECT * FROM t WHERE a = '0'")
        );
    }

    #[test]
    fn writes_become_the_select_of_their_rows() {
        assert_eq!(write_as_select("UPDATE t SET a = 1 WHERE b = 2", Dialect::Mysql).as_deref(), Some("SELECT * FROM t WHERE b = 2"));
        assert_eq!(write_as_select("DELETE FROM t WHERE b > 2", Dialect::Mysql).as_deref(), Some("SELECT * FROM t WHERE b > 2"));
        assert_eq!(
            write_as_select("INSERT INTO t SELECT * FROM u WHERE x = 1", Dialect::Mysql).as_deref(),
            Some("SELECT * FROM u WHERE x = 1")
        );
        assert_eq!(write_as_select("INSERT INTO t VALUES (1)", Dialect::Mysql), None);
        assert_eq!(write_as_select("SELECT 1", Dialect::Mysql), None);
    }
}
