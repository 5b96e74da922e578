//! `require-concurrent-index-deletion` (PostgreSQL): DROP INDEX without CONCURRENTLY takes an
//! ACCESS EXCLUSIVE lock on the table.

use sqlparser::ast::{ObjectType, Statement};

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentIndexDeletion;

impl Rule for RequireConcurrentIndexDeletion {
    fn id(&self) -> &'static str {
        "require-concurrent-index-deletion"
    }
    fn severity(&self) -> Severity {
        Severity::Low
    }
    fn description(&self) -> &'static str {
        "DROP INDEX without CONCURRENTLY locks the table against reads and writes while it waits for running queries."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
    }
    fn check(&self, _: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::Drop { object_type: ObjectType::Index, names, .. } = ast else { return Vec::new() };
        // sqlparser keeps no CONCURRENTLY flag on DROP; read it from the statement text.
        let concurrently = stmt.sql.to_ascii_uppercase().split_whitespace().take(3).any(|w| w == "CONCURRENTLY");
        if concurrently {
            return Vec::new();
        }
        names
            .iter()
            .map(|n| {
                Violation::new(
                    format!("drops index {n} without CONCURRENTLY: the table is locked for reads and writes"),
                    "Use DROP INDEX CONCURRENTLY, outside a transaction block.",
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_blocking_index_drops() {
        assert_flags("require-concurrent-index-deletion", Dialect::Postgres, "DROP INDEX idx_users_email;");
        assert_ok("require-concurrent-index-deletion", Dialect::Postgres, "DROP INDEX CONCURRENTLY idx_users_email;");
    }
}
