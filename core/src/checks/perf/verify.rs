//! Checking an index recommendation before anyone creates the index: the planner's cost with
//! and without it, and whether it would use it at all.

use serde::{Deserialize, Serialize};

use super::analyze::IndexRecommendation;
use crate::driver::Driver;
use crate::error::Result;
use crate::model::Plan;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// `hypopg` (a hypothetical index on the target: no lock, the target's statistics),
    /// `sandbox-copy` (built in the sandbox: a copy of the schema; on PostgreSQL and
    /// MySQL/MariaDB its rows and statistics are a sample's), or `target-transaction` (built on
    /// the target in a rolled-back transaction, only with `--sandbox-on-target`).
    pub method: String,
    /// Where the index was built, for the sandbox methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    pub cost_before: Option<f64>,
    pub cost_after: Option<f64>,
    /// Would the planner use the index for this query?
    pub used: bool,
}

/// hypopg names its indexes `<oid>btree_...`.
fn uses_hypothetical_index(plan: &Plan) -> bool {
    plan.root.nodes().iter().any(|n| n.index.as_deref().is_some_and(|i| i.starts_with('<')))
}

/// Verify with a hypothetical index where the database offers one; `None` otherwise.
pub async fn verify(driver: &dyn Driver, sql: &str, before: &Plan, recommendation: &IndexRecommendation) -> Result<Option<Verification>> {
    let Some(after) = driver.explain_with_hypothetical_index(sql, &recommendation.create_index).await? else { return Ok(None) };
    Ok(Some(Verification {
        method: "hypopg".into(),
        sandbox: None,
        cost_before: before.total_cost,
        cost_after: after.total_cost,
        used: uses_hypothetical_index(&after),
    }))
}
