//! `transaction-nesting` (PostgreSQL): bEGIN inside a transaction that is already open does nothing: a later COMMIT ends the outer one early.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct TransactionNesting;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "BEGIN inside a transaction that is already open does nothing: a later COMMIT ends the outer one early.",
    details: "Most migration tools (Flyway, sqlx, golang-migrate with its default, Django, Rails) already run each migration in a transaction. A BEGIN in the file only warns ('there is already a transaction in progress'), and the file's COMMIT then commits the tool's transaction halfway: statements after it run outside any transaction, and a failure there leaves the migration half applied.",
    bad: "BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;",
    good: "-- Let the migration tool manage the transaction; or mark the file as non-transactional for the tool and keep BEGIN/COMMIT.",
};

impl Rule for TransactionNesting {
    fn id(&self) -> FindingId {
        FindingId::TransactionNesting
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, ctx: &RuleContext, stmt: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        if !pg::is_begin(tree) {
            return Vec::new();
        }
        let open_before = ctx.transaction_open_before(stmt.index);
        if open_before {
            return vec![Violation::new(
                "BEGIN while a transaction is already open in this file: the BEGIN is ignored and the next COMMIT ends the outer transaction",
                "Remove the inner BEGIN/COMMIT (use SAVEPOINT for a nested unit of work).",
            )];
        }
        if stmt.transactional == Some(true) {
            return vec![Violation::new(
                "BEGIN in a migration the tool already runs in a transaction: its COMMIT ends the tool's transaction early",
                "Remove BEGIN/COMMIT from the file, or mark the migration non-transactional for the tool.",
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::TransactionNesting, Dialect::Postgres, "BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;");
        assert_ok(FindingId::TransactionNesting, Dialect::Postgres, "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;");
    }
}
