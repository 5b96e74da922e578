//! `require-concurrent-index-deletion` (PostgreSQL): DROP INDEX without CONCURRENTLY takes an
//! ACCESS EXCLUSIVE lock on the table.

use sqlparser::ast::{ObjectType, Statement};

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentIndexDeletion;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "DROP INDEX without CONCURRENTLY locks the table against reads and writes while it waits for running queries.",
    details: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table; while it waits for running queries to finish, every new query on the table queues behind it.",
    bad: "DROP INDEX orders_status_idx;",
    good: "DROP INDEX CONCURRENTLY orders_status_idx;",
};

impl Rule for RequireConcurrentIndexDeletion {
    fn id(&self) -> FindingId {
        FindingId::RequireConcurrentIndexDeletion
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn lock_scaled(&self) -> bool {
        true
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
        assert_flags(FindingId::RequireConcurrentIndexDeletion, Dialect::Postgres, "DROP INDEX idx_users_email;");
        assert_ok(FindingId::RequireConcurrentIndexDeletion, Dialect::Postgres, "DROP INDEX CONCURRENTLY idx_users_email;");
    }
}
