//! EXPLAIN output of each dialect into the shared [`Plan`] shape, and which statements may be
//! explained (and which may run under EXPLAIN ANALYZE: read-only queries only).

use serde_json::Value;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::model::{Access, Plan, PlanNode};

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

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_string)
}

/// PostgreSQL `EXPLAIN (FORMAT JSON[, ANALYZE])`: `[{"Plan": {...}, "Execution Time": ..}]`.
pub fn postgres_plan(raw: Value, analyzed: bool) -> Result<Plan> {
    fn node(p: &Value) -> PlanNode {
        let node_type = text(p.get("Node Type")).unwrap_or_default();
        let access = match node_type.as_str() {
            "Seq Scan" | "Parallel Seq Scan" => Access::FullScan,
            "Index Scan" | "Index Only Scan" | "Bitmap Index Scan" | "Bitmap Heap Scan" => Access::IndexLookup,
            _ => Access::Other,
        };
        let mut n = PlanNode::new(node_type, access);
        n.relation = text(p.get("Relation Name"));
        n.index = text(p.get("Index Name"));
        n.estimated_rows = num(p.get("Plan Rows"));
        n.actual_rows = num(p.get("Actual Rows")).map(|r| r * num(p.get("Actual Loops")).unwrap_or(1.0));
        n.cost = num(p.get("Total Cost"));
        n.time_ms = num(p.get("Actual Total Time"));
        n.filter = text(p.get("Filter")).or_else(|| text(p.get("Index Cond"))).or_else(|| text(p.get("Hash Cond")));
        n.spilled =
            p.get("Sort Space Type").and_then(|v| v.as_str()) == Some("Disk") || num(p.get("Hash Batches")).is_some_and(|b| b > 1.0);
        n.children = p.get("Plans").and_then(|c| c.as_array()).map(|c| c.iter().map(node).collect()).unwrap_or_default();
        // A Bitmap Index Scan names the index; its Bitmap Heap Scan parent names the table.
        for child in n.children.iter_mut().filter(|c| c.relation.is_none() && c.index.is_some()) {
            child.relation = n.relation.clone();
        }
        n
    }
    let top = raw.get(0).ok_or_else(|| Error::Internal("empty PostgreSQL plan".into()))?;
    let plan = top.get("Plan").ok_or_else(|| Error::Internal("PostgreSQL plan without Plan".into()))?;
    let root = node(plan);
    Ok(Plan { total_cost: root.cost, execution_ms: num(top.get("Execution Time")), root, analyzed, raw })
}

/// MySQL / MariaDB `EXPLAIN FORMAT=JSON` (and MariaDB `ANALYZE FORMAT=JSON`): a nested
/// `query_block`; every object with a `table_name` is a table access.
pub fn mysql_plan(raw: Value, analyzed: bool) -> Result<Plan> {
    fn tables(v: &Value, out: &mut Vec<PlanNode>) {
        match v {
            Value::Object(map) => {
                if let Some(name) = map.get("table_name").and_then(|t| t.as_str()) {
                    let access_type = text(map.get("access_type")).unwrap_or_default();
                    let access = match access_type.as_str() {
                        "ALL" => Access::FullScan,
                        "index" => Access::FullIndexScan,
                        "" => Access::Other,
                        _ => Access::IndexLookup,
                    };
                    let mut n = PlanNode::new(access_type, access);
                    n.relation = Some(name.to_string());
                    n.index = text(map.get("key"));
                    // Rows the access keeps: rows examined × filtered %.
                    let filtered = num(map.get("filtered")).unwrap_or(100.0) / 100.0;
                    n.estimated_rows = num(map.get("rows")).or_else(|| num(map.get("rows_examined_per_scan"))).map(|r| r * filtered);
                    n.actual_rows = num(map.get("r_rows")).map(|r| r * num(map.get("r_filtered")).unwrap_or(100.0) / 100.0);
                    n.time_ms = num(map.get("r_total_time_ms"));
                    n.cost = map.get("cost_info").and_then(|c| num(c.get("read_cost")));
                    n.filter = text(map.get("attached_condition"));
                    out.push(n);
                }
                for (k, child) in map {
                    if k != "table_name" {
                        tables(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| tables(i, out)),
            _ => {}
        }
    }
    let block = raw.get("query_block").ok_or_else(|| Error::Internal("MySQL plan without query_block".into()))?;
    let mut root = PlanNode::new("query_block", Access::Other);
    tables(block, &mut root.children);
    root.cost = block.get("cost_info").and_then(|c| num(c.get("query_cost")));
    root.time_ms = num(block.get("r_total_time_ms"));
    root.spilled = raw.to_string().contains("\"filesort\"") && raw.to_string().contains("\"r_used_priority_queue\": false");
    Ok(Plan { total_cost: root.cost, execution_ms: root.time_ms, root, analyzed, raw })
}

/// SQLite `EXPLAIN QUERY PLAN` rows `{id, parent, detail}` into a tree.
pub fn sqlite_plan(raw: Value) -> Result<Plan> {
    let rows = raw.as_array().cloned().unwrap_or_default();
    fn build(rows: &[Value], parent: i64) -> Vec<PlanNode> {
        rows.iter()
            .filter(|r| r.get("parent").and_then(|p| p.as_i64()) == Some(parent))
            .map(|r| {
                let detail = text(r.get("detail")).unwrap_or_default();
                let mut words = detail.split_whitespace();
                let verb = words.next().unwrap_or("").to_string();
                let table = words.next().map(str::to_string);
                let index = detail
                    .split_once(" USING ")
                    .map(|(_, rest)| {
                        if rest.starts_with("INTEGER PRIMARY KEY") {
                            "INTEGER PRIMARY KEY".to_string()
                        } else {
                            rest.trim_start_matches("COVERING ")
                                .trim_start_matches("INDEX ")
                                .split_whitespace()
                                .next()
                                .unwrap_or("")
                                .to_string()
                        }
                    })
                    .filter(|i| !i.is_empty());
                let access = match verb.as_str() {
                    "SCAN" if detail.contains(" USING COVERING INDEX ") || detail.contains(" USING INDEX ") => Access::FullIndexScan,
                    "SCAN" => Access::FullScan,
                    "SEARCH" => Access::IndexLookup,
                    _ => Access::Other,
                };
                let mut n = PlanNode::new(detail.clone(), access);
                if matches!(verb.as_str(), "SCAN" | "SEARCH") {
                    n.relation = table;
                    n.index = index;
                }
                n.children = build(rows, r.get("id").and_then(|i| i.as_i64()).unwrap_or(-1));
                n
            })
            .collect()
    }
    let mut root = PlanNode::new("QUERY PLAN", Access::Other);
    root.children = build(&rows, 0);
    Ok(Plan { root, analyzed: false, total_cost: None, execution_ms: None, raw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn sqlite_rows_become_a_tree() {
        let raw = json!([
            {"id": 2, "parent": 0, "detail": "SCAN o"},
            {"id": 5, "parent": 0, "detail": "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)"},
            {"id": 9, "parent": 0, "detail": "SEARCH i USING INDEX idx_items_order (order_id=?)"}
        ]);
        let plan = sqlite_plan(raw).unwrap();
        let kids = &plan.root.children;
        assert_eq!((kids[0].access, kids[0].relation.as_deref()), (Access::FullScan, Some("o")));
        assert_eq!((kids[2].access, kids[2].index.as_deref()), (Access::IndexLookup, Some("idx_items_order")));
        assert!(plan.root.uses_index());
    }

    #[test]
    fn postgres_and_mysql_nodes() {
        let pg = json!([{"Plan": {"Node Type": "Hash Join", "Total Cost": 10.5, "Plan Rows": 5, "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "orders", "Plan Rows": 1000, "Filter": "(total > 10)", "Actual Rows": 2, "Actual Loops": 3},
            {"Node Type": "Sort", "Sort Space Type": "Disk"}
        ]}, "Execution Time": 1.25}]);
        let p = postgres_plan(pg, true).unwrap();
        assert_eq!((p.total_cost, p.execution_ms), (Some(10.5), Some(1.25)));
        let scan = &p.root.children[0];
        assert_eq!((scan.access, scan.actual_rows, scan.filter.as_deref()), (Access::FullScan, Some(6.0), Some("(total > 10)")));
        assert!(p.root.children[1].spilled);
        let my = json!({"query_block": {"select_id": 1, "nested_loop": [
            {"table": {"table_name": "o", "access_type": "ALL", "rows": 1000, "attached_condition": "o.total > 10"}},
            {"table": {"table_name": "c", "access_type": "eq_ref", "key": "PRIMARY", "rows": 1}}
        ]}});
        let m = mysql_plan(my, false).unwrap();
        assert_eq!(m.root.children.len(), 2);
        assert_eq!((m.root.children[0].access, m.root.children[1].index.as_deref()), (Access::FullScan, Some("PRIMARY")));
    }
}
