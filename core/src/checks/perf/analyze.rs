//! What a plan and the query's text say together: full scans of large tables filtered on
//! unindexed columns (with the exact `CREATE INDEX` that would serve them), joins on unindexed
//! columns, estimates off by 10x or more, spills, functions hiding an indexed column, and
//! `SELECT *` on wide tables.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};
use sqlparser::ast::{BinaryOperator, Expr, SelectItem, SetExpr, Statement, TableFactor, Visit, Visitor};

use crate::dialect::Dialect;
use crate::findings::FindingId;
use crate::model::{Access, Plan, SchemaSnapshot, Severity, Table};

/// An index that would serve the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRecommendation {
    /// The index's name in `create_index`.
    pub name: String,
    pub table: String,
    pub columns: Vec<String>,
    /// The exact statement to create it.
    pub create_index: String,
    pub reason: String,
}

/// One problem the profile found in a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfFinding {
    pub rule: FindingId,
    pub severity: Severity,
    pub message: String,
    pub suggestion: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryAnalysis {
    pub findings: Vec<PerfFinding>,
    pub recommendations: Vec<IndexRecommendation>,
}

/// Columns the query filters or joins on, per table.
#[derive(Debug, Default)]
struct Predicates {
    /// table → columns compared with `=` / `IN` (first) and ranges (after), in order seen.
    equality: BTreeMap<String, Vec<String>>,
    range: BTreeMap<String, Vec<String>>,
    /// (table, column) wrapped in a function call in a predicate.
    wrapped: BTreeSet<(String, String)>,
}

struct Scope<'s> {
    /// alias or name → table.
    tables: BTreeMap<String, &'s Table>,
}

impl<'s> Scope<'s> {
    /// The table a column reference belongs to.
    fn resolve(&self, expr: &Expr) -> Option<(String, String)> {
        let (qualifier, column) = match expr {
            Expr::Identifier(c) => (None, c.value.clone()),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                (Some(parts[parts.len() - 2].value.clone()), parts[parts.len() - 1].value.clone())
            }
            Expr::Nested(inner) => return self.resolve(inner),
            _ => return None,
        };
        let table = match qualifier {
            Some(q) => *self.tables.get(&q.to_ascii_lowercase())?,
            None => *self
                .tables
                .values()
                .find(|t| t.column(&column).is_some() || t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(&column)))?,
        };
        let name = table.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&column))?.name.clone();
        Some((table.name.clone(), name))
    }
}

fn push(map: &mut BTreeMap<String, Vec<String>>, (table, column): (String, String)) {
    let list = map.entry(table).or_default();
    if !list.contains(&column) {
        list.push(column);
    }
}

fn collect(expr: &Expr, scope: &Scope<'_>, out: &mut Predicates) {
    match expr {
        Expr::BinaryOp { left, op: BinaryOperator::And | BinaryOperator::Or, right } => {
            collect(left, scope, out);
            collect(right, scope, out);
        }
        Expr::BinaryOp { left, op, right } => {
            let equality = matches!(op, BinaryOperator::Eq);
            let range = matches!(op, BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq);
            if !(equality || range) {
                return;
            }
            let target = if equality { &mut out.equality } else { &mut out.range };
            match (scope.resolve(left), scope.resolve(right)) {
                // A join condition: both sides may want an index.
                (Some(a), Some(b)) => {
                    push(target, a);
                    push(target, b);
                }
                (Some(a), None) => push(target, a),
                (None, Some(b)) => push(target, b),
                (None, None) => {
                    for side in [left, right] {
                        if let Expr::Function(f) = side.as_ref() {
                            let _ = f.visit(&mut WrappedColumns { scope, out: &mut out.wrapped });
                        }
                    }
                }
            }
        }
        Expr::In { expr, .. } => {
            if let Some(c) = scope.resolve(expr) {
                push(&mut out.equality, c);
            }
        }
        Expr::Between { expr, .. } => {
            if let Some(c) = scope.resolve(expr) {
                push(&mut out.range, c);
            }
        }
        Expr::Nested(inner) => collect(inner, scope, out),
        _ => {}
    }
}

/// Columns inside a function call in a predicate (`lower(email) = ...`).
struct WrappedColumns<'a, 's> {
    scope: &'a Scope<'s>,
    out: &'a mut BTreeSet<(String, String)>,
}

impl Visitor for WrappedColumns<'_, '_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Some(c) = self.scope.resolve(expr) {
            self.out.insert(c);
        }
        ControlFlow::Continue(())
    }
}

fn table_of<'s>(factor: &TableFactor, schema: &'s SchemaSnapshot) -> Option<(String, &'s Table)> {
    if let TableFactor::Table { name, alias, .. } = factor {
        let table_name = name.0.last()?.to_string().trim_matches('"').trim_matches('`').to_string();
        let table = schema.table(&table_name).or_else(|| schema.tables.values().find(|t| t.name.eq_ignore_ascii_case(&table_name)))?;
        let key = alias.as_ref().map(|a| a.name.value.clone()).unwrap_or(table_name);
        return Some((key.to_ascii_lowercase(), table));
    }
    None
}

/// Does an index on `table` start with `column`?
fn indexed(table: &Table, column: &str) -> bool {
    table.primary_key.first().is_some_and(|c| c.eq_ignore_ascii_case(column))
        || table.indexes.iter().any(|i| i.columns.first().is_some_and(|c| c.eq_ignore_ascii_case(column)))
        || table.unique_constraints.iter().any(|u| u.columns.first().is_some_and(|c| c.eq_ignore_ascii_case(column)))
}

/// Every node with whether it sits under a LIMIT (and may stop before its estimate).
fn walk<'a>(node: &'a crate::model::PlanNode, inside: bool, out: &mut Vec<(&'a crate::model::PlanNode, bool)>) {
    let inside = inside || node.node_type.eq_ignore_ascii_case("limit");
    out.push((node, inside));
    for child in &node.children {
        walk(child, inside, out);
    }
}

fn finding(rule: FindingId, severity: Severity, message: String, suggestion: String) -> PerfFinding {
    PerfFinding { rule, severity, message, suggestion }
}

/// Analyze one query with its plan. `large_rows`: a full scan of a table with at least that
/// many rows is worth an index.
pub fn analyze(sql: &str, dialect: Dialect, plan: &Plan, schema: &SchemaSnapshot, large_rows: u64) -> QueryAnalysis {
    let mut out = QueryAnalysis::default();
    let statements = sqlparser::parser::Parser::parse_sql(&*dialect.parser_dialect(), sql).unwrap_or_default();
    let mut predicates = Predicates::default();
    let mut select_star: Vec<&Table> = Vec::new();
    for statement in &statements {
        let Statement::Query(query) = statement else { continue };
        let SetExpr::Select(select) = query.body.as_ref() else { continue };
        let mut scope = Scope { tables: BTreeMap::new() };
        for from in &select.from {
            for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)) {
                if let Some((key, table)) = table_of(factor, schema) {
                    scope.tables.insert(key, table);
                }
            }
        }
        if let Some(selection) = &select.selection {
            collect(selection, &scope, &mut predicates);
        }
        for from in &select.from {
            for join in &from.joins {
                use sqlparser::ast::{JoinConstraint, JoinOperator};
                let constraint = match &join.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c) => Some(c),
                    _ => None,
                };
                if let Some(JoinConstraint::On(on)) = constraint {
                    collect(on, &scope, &mut predicates);
                }
            }
        }
        if select.projection.iter().any(|p| matches!(p, SelectItem::Wildcard(_))) {
            select_star.extend(scope.tables.values().copied());
        }
    }

    let mut walked = Vec::new();
    walk(&plan.root, false, &mut walked);
    let mut recommended: BTreeSet<String> = BTreeSet::new();
    for &(node, under_limit) in &walked {
        let Some(relation) = node.relation.as_deref() else { continue };
        let Some(table) = schema.table(relation).or_else(|| schema.tables.values().find(|t| t.name.eq_ignore_ascii_case(relation))) else {
            continue;
        };
        let rows = table.row_estimate.map(|r| r as f64).or(node.actual_rows).or(node.estimated_rows).unwrap_or(0.0);
        // Selective: the scan keeps at most 2% of the table. Where the database did not
        // estimate the filter (SQLite; MariaDB without histograms reports 100% kept), the
        // verification below decides whether the planner would use the index.
        let kept = node.actual_rows.or(node.estimated_rows);
        let selective = match kept {
            Some(k) if rows > 0.0 => k / rows <= 0.02 || k / rows >= 0.99,
            _ => true,
        };
        if node.access == Access::FullScan && rows >= large_rows as f64 && selective {
            let mut columns: Vec<String> = predicates.equality.get(&table.name).cloned().unwrap_or_default();
            columns.extend(predicates.range.get(&table.name).into_iter().flatten().take(1).cloned());
            columns.retain(|c| !predicates.wrapped.contains(&(table.name.clone(), c.clone())));
            columns.truncate(3);
            if let Some(first) = columns.first().filter(|c| !indexed(table, c)) {
                let name = format!("idx_{}_{}", table.name, columns.join("_"));
                if recommended.insert(name.clone()) {
                    let q = |s: &str| dialect.quote_ident(s);
                    let create_index = format!(
                        "CREATE INDEX {} ON {} ({})",
                        q(&name),
                        q(&table.name),
                        columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
                    );
                    out.findings.push(finding(
                        FindingId::FullScanOnLargeTable,
                        Severity::High,
                        format!(
                            "full scan of {} (~{} rows) filtered on {}, which no index serves",
                            table.name,
                            rows as u64,
                            columns.join(", ")
                        ),
                        format!("Create the index: {create_index}"),
                    ));
                    out.recommendations.push(IndexRecommendation {
                        name: name.clone(),
                        table: table.name.clone(),
                        columns: columns.clone(),
                        create_index,
                        reason: format!("full scan of ~{} rows filtered on {first}", rows as u64),
                    });
                }
            }
        }
        if let (Some(actual), Some(estimated)) = (node.actual_rows, node.estimated_rows) {
            let (hi, lo) = (actual.max(estimated), actual.min(estimated).max(1.0));
            // Below a LIMIT a node stops early by design: fewer rows than estimated is normal.
            let stopped_early = actual < estimated && under_limit;
            if hi >= 1000.0 && hi / lo >= 10.0 && !stopped_early {
                out.findings.push(finding(
                    FindingId::EstimateOff10x,
                    Severity::Medium,
                    format!("{} on {}: the planner expected {} rows, got {}", node.node_type, table.name, estimated as u64, actual as u64),
                    format!("Statistics look stale: ANALYZE {}", dialect.quote_ident(&table.name)),
                ));
            }
        }
    }
    for &(node, _) in &walked {
        if node.spilled {
            out.findings.push(finding(
                FindingId::SpillToDisk,
                Severity::Medium,
                format!("{} spilled to disk", node.node_type),
                "Give the operation more memory (work_mem / sort_buffer_size), or an index that returns rows in order.".into(),
            ));
        }
    }
    for (table, column) in &predicates.wrapped {
        if schema.table(table).is_some_and(|t| indexed(t, column)) {
            out.findings.push(finding(
                FindingId::FunctionOnIndexedColumn,
                Severity::Medium,
                format!("{table}.{column} is indexed, but the query wraps it in a function, so the index cannot be used"),
                format!("Compare the bare column, or index the expression (CREATE INDEX ... ON {table} ((expression)))"),
            ));
        }
    }
    for table in select_star {
        if table.columns.len() > 12 {
            out.findings.push(finding(
                FindingId::SelectStarWideTable,
                Severity::Low,
                format!("SELECT * reads all {} columns of {}", table.columns.len(), table.name),
                "Select the columns the caller uses.".into(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, PlanNode};

    fn schema() -> SchemaSnapshot {
        let mut s = SchemaSnapshot::default();
        let columns = (0..14)
            .map(|i| Column { name: format!("c{i}"), data_type: "int".into(), nullable: true, default: None, auto_increment: false })
            .collect();
        s.tables.insert("t".into(), Table { name: "t".into(), columns, row_estimate: Some(100_000), ..Default::default() });
        s
    }

    fn plan(root: PlanNode) -> Plan {
        Plan { root, analyzed: true, total_cost: None, execution_ms: None, raw: serde_json::Value::Null }
    }

    fn node(kind: &str, access: Access, estimated: f64, actual: f64, children: Vec<PlanNode>) -> PlanNode {
        let mut n = PlanNode::new(kind, access);
        n.relation = (access != Access::Other).then(|| "t".to_string());
        n.estimated_rows = Some(estimated);
        n.actual_rows = Some(actual);
        n.children = children;
        n
    }

    #[test]
    fn estimates_under_a_limit_may_stop_early_but_underestimates_are_reported() {
        let limited =
            plan(node("Limit", Access::Other, 10.0, 10.0, vec![node("Index Scan", Access::IndexLookup, 100_000.0, 10.0, vec![])]));
        assert!(analyze("SELECT c1 FROM t ORDER BY c0 LIMIT 10", Dialect::Postgres, &limited, &schema(), 10_000).findings.is_empty());
        let stale = plan(node("Index Scan", Access::IndexLookup, 10.0, 50_000.0, vec![]));
        let found = analyze("SELECT c1 FROM t WHERE c0 = 1", Dialect::Postgres, &stale, &schema(), 10_000);
        assert_eq!(found.findings.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), ["estimate-off-10x"]);
    }

    #[test]
    fn select_star_on_a_wide_table_and_join_columns() {
        let scan = plan(node("Seq Scan", Access::FullScan, 10.0, 10.0, vec![]));
        let found = analyze("SELECT * FROM t WHERE c3 = 5 AND c4 > 2", Dialect::Postgres, &scan, &schema(), 10_000);
        let rules: Vec<&str> = found.findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(rules.contains(&"select-star-wide-table") && rules.contains(&"full-scan-on-large-table"), "{rules:?}");
        assert_eq!(found.recommendations[0].create_index, r#"CREATE INDEX "idx_t_c3_c4" ON "t" ("c3", "c4")"#);
    }
}
