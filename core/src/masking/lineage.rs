//! Which output columns of a query carry a sensitive column's values under another name:
//! `SELECT email AS contact`, `upper(email)`, `name || email`, `string_agg(email, ',')`, through
//! subqueries and CTEs by the names they give. Masking by name then covers them as it covers
//! the source. What a value cannot carry is left alone: `count(email)`, `email IS NULL`,
//! comparisons.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions, BinaryOperator, Expr, Query, SelectItem, SetExpr, Statement, TableFactor};

use crate::dialect::Dialect;

/// The output columns to mask: by name (lower-case) and by position in the result.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SensitiveOutputs {
    pub names: HashSet<String>,
    pub positions: HashSet<usize>,
}

/// One select list item: the name it outputs (when known) and the column names its value is
/// made of.
struct Item {
    name: Option<String>,
    sources: Vec<String>,
}

pub fn sensitive_outputs(sql: &str, dialect: Dialect, is_sensitive: impl Fn(&str) -> bool) -> SensitiveOutputs {
    let Ok(statements) = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql) else {
        return SensitiveOutputs::default();
    };
    // A view's definition as SQLite keeps it is the whole CREATE VIEW statement.
    let query = match statements.first() {
        Some(Statement::Query(query)) => query,
        Some(Statement::CreateView(view)) => &view.query,
        _ => return SensitiveOutputs::default(),
    };
    let mut selects: Vec<Vec<Item>> = Vec::new();
    collect_query(query, &mut selects);
    // A name is tainted when an item giving it is made of a sensitive or tainted name; names
    // pass through nested queries, so repeat until nothing changes.
    let mut tainted: HashSet<String> = HashSet::new();
    loop {
        let before = tainted.len();
        for item in selects.iter().flatten() {
            if let Some(name) = &item.name {
                if item.sources.iter().any(|s| is_sensitive(s) || tainted.contains(s)) && !is_sensitive(name) {
                    tainted.insert(name.clone());
                }
            }
        }
        if tainted.len() == before {
            break;
        }
    }
    let mut out = SensitiveOutputs { names: tainted.clone(), positions: HashSet::new() };
    // The top-level select lists map to the result's columns by position when they have no
    // `*`; every branch of a UNION feeds the same columns.
    let mut lists = Vec::new();
    if top_level_lists(&query.body, &mut lists) {
        for list in lists {
            for (i, p) in list.iter().enumerate() {
                if item_of(p).sources.iter().any(|s| is_sensitive(s) || tainted.contains(s)) {
                    out.positions.insert(i);
                }
            }
        }
    }
    out
}

/// The select lists whose items become the result's columns; false when one has a `*`.
fn top_level_lists<'q>(body: &'q SetExpr, out: &mut Vec<&'q [SelectItem]>) -> bool {
    match body {
        SetExpr::Select(select) => {
            out.push(&select.projection);
            !select.projection.iter().any(|p| matches!(p, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)))
        }
        SetExpr::Query(q) => top_level_lists(&q.body, out),
        SetExpr::SetOperation { left, right, .. } => top_level_lists(left, out) && top_level_lists(right, out),
        _ => false,
    }
}

fn collect_query(query: &Query, out: &mut Vec<Vec<Item>>) {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            collect_query(&cte.query, out);
        }
    }
    collect_set_expr(&query.body, out);
}

fn collect_set_expr(body: &SetExpr, out: &mut Vec<Vec<Item>>) {
    match body {
        SetExpr::Select(select) => {
            out.push(select.projection.iter().map(item_of).collect());
            for table in &select.from {
                collect_factor(&table.relation, out);
                for join in &table.joins {
                    collect_factor(&join.relation, out);
                }
            }
            // Scalar subqueries anywhere in the select list or filters.
            let _ = visit_expressions(select, |e| {
                if let Expr::Subquery(q) | Expr::Exists { subquery: q, .. } = e {
                    collect_query(q, out);
                }
                ControlFlow::<()>::Continue(())
            });
        }
        SetExpr::Query(q) => collect_query(q, out),
        SetExpr::SetOperation { left, right, .. } => {
            collect_set_expr(left, out);
            collect_set_expr(right, out);
        }
        _ => {}
    }
}

fn collect_factor(factor: &TableFactor, out: &mut Vec<Vec<Item>>) {
    match factor {
        TableFactor::Derived { subquery, .. } => collect_query(subquery, out),
        TableFactor::NestedJoin { table_with_joins, .. } => {
            collect_factor(&table_with_joins.relation, out);
            for join in &table_with_joins.joins {
                collect_factor(&join.relation, out);
            }
        }
        _ => {}
    }
}

fn item_of(p: &SelectItem) -> Item {
    match p {
        SelectItem::ExprWithAlias { expr, alias } => Item { name: Some(alias.value.to_lowercase()), sources: carried(expr) },
        SelectItem::UnnamedExpr(expr) => {
            let name = match expr {
                Expr::Identifier(i) => Some(i.value.to_lowercase()),
                Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.to_lowercase()),
                _ => None,
            };
            Item { name, sources: carried(expr) }
        }
        _ => Item { name: None, sources: Vec::new() },
    }
}

/// The column names whose values an expression's result carries.
fn carried(expr: &Expr) -> Vec<String> {
    let carries_nothing = match expr {
        Expr::Function(f) => f.name.to_string().eq_ignore_ascii_case("count"),
        Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::Exists { .. } | Expr::Like { .. } | Expr::ILike { .. } => true,
        Expr::BinaryOp { op, .. } => matches!(
            op,
            BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::Gt
                | BinaryOperator::LtEq
                | BinaryOperator::GtEq
        ),
        Expr::Nested(inner) => return carried(inner),
        _ => false,
    };
    if carries_nothing {
        return Vec::new();
    }
    let mut names = Vec::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            Expr::Identifier(i) => names.push(i.value.to_lowercase()),
            Expr::CompoundIdentifier(parts) => names.extend(parts.last().map(|i| i.value.to_lowercase())),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(sql: &str) -> SensitiveOutputs {
        sensitive_outputs(sql, Dialect::Postgres, |c| c == "email" || c == "password")
    }

    #[test]
    fn renamed_and_derived_columns_are_found() {
        let o = outputs("SELECT id, email AS contact, upper(c.email) AS loud, name || ' <' || email || '>' AS line FROM customers c");
        assert_eq!(o.positions, HashSet::from([1, 2, 3]));
        assert!(o.names.contains("contact") && o.names.contains("loud") && o.names.contains("line"));
        let o = outputs("SELECT string_agg(email, ',') FROM customers");
        assert_eq!(o.positions, HashSet::from([0]), "an unnamed aggregate, by position");
    }

    #[test]
    fn names_pass_through_subqueries_and_ctes() {
        let o = outputs("WITH a AS (SELECT email AS x FROM customers) SELECT * FROM (SELECT x AS y FROM a) s");
        assert!(o.names.contains("x") && o.names.contains("y"), "{o:?}");
        let o = outputs("SELECT (SELECT password FROM users LIMIT 1) AS p");
        assert_eq!(o.positions, HashSet::from([0]));
        // The union's column is called `id` and holds e-mail addresses from its second branch.
        let o = outputs("SELECT id FROM customers UNION SELECT email FROM customers");
        assert_eq!(o.positions, HashSet::from([0]));
    }

    #[test]
    fn what_carries_no_value_is_left_alone() {
        let o = outputs("SELECT count(email) AS n, email IS NULL AS missing, email = 'x' AS same, id FROM customers");
        assert!(o.positions.is_empty() && o.names.is_empty(), "{o:?}");
    }
}
