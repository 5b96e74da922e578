//! SQLite plans: `EXPLAIN QUERY PLAN` rows into the normalized plan shape.

use crate::driver::explain::text;
use crate::model::{Access, Plan, PlanNode};
use serde_json::Value;

use sqlx::sqlite::SqliteConnection;

use super::query;
use crate::error::Result;

/// `EXPLAIN QUERY PLAN` rows of a statement, as a plan tree.
pub(super) async fn explain_query_plan(conn: &mut SqliteConnection, sql: &str) -> Result<crate::model::Plan> {
    let result = query(conn, &format!("EXPLAIN QUERY PLAN {}", sql.trim().trim_end_matches(';')), 10_000).await?;
    sqlite_plan(serde_json::Value::Array(result.rows.into_iter().map(serde_json::Value::Object).collect()))
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
}
