//! `ban-uncommitted-transaction`: a BEGIN with no COMMIT before the end of the file leaves the
//! transaction to the tool's whim.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanUncommittedTransaction;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "A BEGIN with no COMMIT before the end of the file leaves the transaction to the tool's whim.",
    details: "A file that opens a transaction and never commits it relies on the client's behaviour at the end of the session: psql and SQLite roll it back, some tools commit, others keep the connection (and its locks) open. The migration may silently not apply, or hold locks long after it 'finished'. (On MySQL, DDL commits implicitly anyway: see `mysql-implicit-commit`.)",
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
    // Whether the statement opens a transaction comes from the script's transaction map, not
    // from this statement's parse: every statement is checked once, read or not.
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        verdict(ctx, stmt)
    }
    fn check_unparsed(&self, ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
        verdict(ctx, stmt)
    }
}

fn verdict(ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
    if !ctx.uncommitted_begin(stmt.index) {
        return Vec::new();
    }
    vec![Violation::new(
        format!("opens a transaction that is never committed in {}", stmt.file),
        "End the file with COMMIT (or remove BEGIN and let the tool manage the transaction).",
    )]
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nALTER TABLE users ADD COLUMN a int;");
        assert_ok(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;");
        // ROLLBACK TO SAVEPOINT does not end the transaction; END does.
        assert_flags(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nSAVEPOINT a;\nROLLBACK TO SAVEPOINT a;");
        assert_ok(FindingId::BanUncommittedTransaction, Dialect::Postgres, "BEGIN;\nSELECT 1;\nEND;");
    }

    #[test]
    fn flags_it_on_mysql_and_sqlite_too() {
        assert_flags(FindingId::BanUncommittedTransaction, Dialect::Mysql, "START TRANSACTION;\nUPDATE users SET a = 1 WHERE id = 2;");
        assert_ok(
            FindingId::BanUncommittedTransaction,
            Dialect::Mysql,
            "START TRANSACTION;\nUPDATE users SET a = 1 WHERE id = 2;\nCOMMIT;",
        );
        assert_flags(FindingId::BanUncommittedTransaction, Dialect::Sqlite, "BEGIN IMMEDIATE;\nUPDATE users SET a = 1 WHERE id = 2;");
        assert_ok(FindingId::BanUncommittedTransaction, Dialect::Sqlite, "BEGIN;\nUPDATE users SET a = 1 WHERE id = 2;\nEND TRANSACTION;");
    }
}
