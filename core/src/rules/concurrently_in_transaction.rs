//! `concurrently-in-transaction` (PostgreSQL): CONCURRENTLY cannot run inside a transaction
//! block; the migration fails at that statement.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct ConcurrentlyInTransaction;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "CREATE/DROP INDEX CONCURRENTLY fails inside a transaction block.",
    details: "CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects them, and the migration fails midway. Many migration tools wrap each file in a transaction unless told otherwise.",
    bad: r#"BEGIN;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
COMMIT;"#,
    good: r#"-- A migration of its own, marked as not transactional for the migration tool:
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"#,
};

impl Rule for ConcurrentlyInTransaction {
    fn id(&self) -> FindingId {
        FindingId::ConcurrentlyInTransaction
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let concurrent = match ast {
            Statement::CreateIndex(index) => index.concurrently,
            Statement::Drop { .. } => stmt.sql.to_ascii_uppercase().split_whitespace().take(3).any(|w| w == "CONCURRENTLY"),
            _ => false,
        };
        if !concurrent || !ctx.in_transaction(stmt.index) {
            return Vec::new();
        }
        let why = if stmt.transactional == Some(true) && !ctx.in_explicit_transaction(stmt.index) {
            "runs CONCURRENTLY in a migration its tool wraps in a transaction: PostgreSQL rejects it"
        } else {
            "runs CONCURRENTLY inside a transaction block: PostgreSQL rejects it"
        };
        vec![Violation::new(
            why,
            "Move the statement out of BEGIN/COMMIT (and tell your migration tool not to wrap this migration in a transaction).",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_concurrently_in_transaction() {
        assert_flags(
            FindingId::ConcurrentlyInTransaction,
            Dialect::Postgres,
            "BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (email);\nCOMMIT;",
        );
        assert_ok(
            FindingId::ConcurrentlyInTransaction,
            Dialect::Postgres,
            "BEGIN;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON users (email);",
        );
    }
}
