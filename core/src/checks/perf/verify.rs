//! Checking an index recommendation before anyone creates the index: the planner's cost with
//! and without it, and whether it would use it at all.

use serde::{Deserialize, Serialize};

use super::analyze::IndexRecommendation;
use crate::driver::Driver;
use crate::error::Result;
use crate::model::Plan;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// `hypopg` (a hypothetical index on PostgreSQL).
    pub method: String,
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
        cost_before: before.total_cost,
        cost_after: after.total_cost,
        used: uses_hypothetical_index(&after),
    }))
}
