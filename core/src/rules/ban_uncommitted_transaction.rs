//! `ban-uncommitted-transaction` (PostgreSQL): a BEGIN with no COMMIT before the end of the file leaves the transaction to the tool's whim.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanUncommittedTransaction;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "A BEGIN with no COMMIT before the end of the file leaves the transaction to the tool's whim.",
    details: "A file that opens a transaction and never commits it relies on the client's behaviour at the end of the session: psql rolls it back, some tools commit, others keep the connection (and its locks) open. The migration may silently not apply, or hold locks long after it 'finished'.",
    bad: "BEGIN;
ALTER TABLE users ADD COLUMN a int;",
    good: "BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;",
};

impl Rule for BanUncommittedTransaction {
    fn id(&self) -> FindingId {
        FindingId::BanUncommittedTransaction
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
        let closed = ctx
            .script
            .statements
            .iter()
            .filter(|s| s.file == stmt.file && s.index > stmt.index)
            .any(|s| s.pg_tree.as_deref().is_some_and(pg::ends_transaction));
        if closed {
            return Vec::new();
        }
        vec![Violation::new(
            format!("opens a transaction that is never committed in {}", stmt.file),
            "End the file with COMMIT (or remove BEGIN and let the tool manage the transaction).",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nALTER TABLE users ADD COLUMN a int;");
        assert_ok(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;");
    }
}
