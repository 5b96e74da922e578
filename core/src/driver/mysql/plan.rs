//! MySQL/MariaDB plans: `EXPLAIN FORMAT=JSON` (and MariaDB `ANALYZE FORMAT=JSON`) into the
//! normalized plan shape.

use serde_json::Value;

use crate::driver::explain::{num, text};
use crate::error::{Error, Result};
use crate::model::{Access, Plan, PlanNode};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mysql_nodes() {
        let my = json!({"query_block": {"select_id": 1, "nested_loop": [
            {"table": {"table_name": "o", "access_type": "ALL", "rows": 1000, "attached_condition": "o.total > 10"}},
            {"table": {"table_name": "c", "access_type": "eq_ref", "key": "PRIMARY", "rows": 1}}
        ]}});
        let m = mysql_plan(my, false).unwrap();
        assert_eq!(m.root.children.len(), 2);
        assert_eq!((m.root.children[0].access, m.root.children[1].index.as_deref()), (Access::FullScan, Some("PRIMARY")));
    }
}
