//! A query plan in one shape for every dialect (PostgreSQL `EXPLAIN (FORMAT JSON)`, MySQL /
//! MariaDB `EXPLAIN FORMAT=JSON`, SQLite `EXPLAIN QUERY PLAN`), with the database's own
//! output kept next to it.

use serde::{Deserialize, Serialize};

/// How a node reads its table, normalized across dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Every row of the table (PostgreSQL Seq Scan, MySQL `ALL`, SQLite `SCAN t`).
    FullScan,
    /// Every entry of an index (MySQL `index`, SQLite `SCAN t USING COVERING INDEX`).
    FullIndexScan,
    /// A lookup or range through an index.
    IndexLookup,
    /// Not a table access (join, sort, aggregate, ...).
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PlanNode {
    /// The database's name for the node ("Seq Scan", "ALL", "SCAN", "Hash Join", ...).
    pub node_type: String,
    pub access: Access,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_rows: Option<f64>,
    /// Rows the node really produced (all loops), when the plan was analyzed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_rows: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<f64>,
    /// The filter applied to the rows read, as the database prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The node spilled to disk (external sort, multi-batch hash).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spilled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    pub fn new(node_type: impl Into<String>, access: Access) -> PlanNode {
        PlanNode {
            node_type: node_type.into(),
            access,
            relation: None,
            index: None,
            estimated_rows: None,
            actual_rows: None,
            cost: None,
            time_ms: None,
            filter: None,
            spilled: false,
            children: Vec::new(),
        }
    }

    /// This node and every node below it, depth first.
    pub fn nodes(&self) -> Vec<&PlanNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.nodes());
        }
        out
    }

    /// Does any node read through an index?
    pub fn uses_index(&self) -> bool {
        self.nodes().iter().any(|n| n.index.is_some() || matches!(n.access, Access::IndexLookup | Access::FullIndexScan))
    }
}

/// A plan and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    pub root: PlanNode,
    /// Was the statement executed to measure the plan (EXPLAIN ANALYZE)?
    pub analyzed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_ms: Option<f64>,
    /// The database's own output.
    pub raw: serde_json::Value,
}
