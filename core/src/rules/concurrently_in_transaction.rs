//! `concurrently-in-transaction` (PostgreSQL): CONCURRENTLY cannot run inside a transaction
//! block; the migration fails at that statement.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct ConcurrentlyInTransaction;

impl Rule for ConcurrentlyInTransaction {
    fn id(&self) -> &'static str {
        "concurrently-in-transaction"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn description(&self) -> &'static str {
        "CREATE/DROP INDEX CONCURRENTLY fails inside a transaction block."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
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
        vec![Violation::new(
            "runs CONCURRENTLY inside a transaction block: PostgreSQL rejects it",
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
        assert_flags("concurrently-in-transaction", Dialect::Postgres, "BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (email);\nCOMMIT;");
        assert_ok("concurrently-in-transaction", Dialect::Postgres, "BEGIN;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON users (email);");
    }
}
