//! PostgreSQL plans: `EXPLAIN (FORMAT JSON)` into the normalized plan shape.

use crate::driver::explain::{num, text};
use crate::model::{Access, Plan, PlanNode};
use serde_json::Value;

use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};

/// `EXPLAIN (options)` of a statement, inside the caller's transaction. With `$n` parameters
/// (pg_stat_statements keeps them), the generic plan — independent of the values — through
/// PREPARE / EXPLAIN EXECUTE with NULLs under `force_generic_plan` (PostgreSQL 16's
/// `EXPLAIN (GENERIC_PLAN)`, done by hand).
pub(super) async fn explain_json(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Access;
    use serde_json::json;

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
    }
}
