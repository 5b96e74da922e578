//! `transaction-nesting`: BEGIN inside a transaction that is already open. PostgreSQL ignores
//! it (a later COMMIT ends the outer transaction early), MySQL commits the open transaction
//! implicitly, SQLite refuses it.

use sqlparser::ast::Statement;

use super::context::{transaction_control, TransactionControl};
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct TransactionNesting;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "BEGIN inside a transaction that is already open: PostgreSQL ignores it, MySQL commits the open transaction, SQLite fails.",
    details: "Most migration tools (Flyway, sqlx, golang-migrate with its default, Django, Rails) already run each migration in a transaction. On PostgreSQL a BEGIN in the file only warns ('there is already a transaction in progress'), and the file's COMMIT then commits the tool's transaction halfway: statements after it run outside any transaction, and a failure there leaves the migration half applied. On MySQL and MariaDB, START TRANSACTION commits the open transaction implicitly: a later ROLLBACK undoes only what follows it. On SQLite it fails ('cannot start a transaction within a transaction', high).",
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
    if transaction_control(stmt) != Some(TransactionControl::Begin) {
        return Vec::new();
    }
    let inside = if ctx.transaction_open_before(stmt.index) {
        "while a transaction is already open in this file"
    } else if stmt.transactional == Some(true) {
        "in a migration the tool already runs in a transaction"
    } else {
        return Vec::new();
    };
    let violation = match ctx.dialect {
        Dialect::Postgres => Violation::new(
            format!("BEGIN {inside}: the BEGIN is ignored and the next COMMIT ends the outer transaction early"),
            "Remove the inner BEGIN/COMMIT (use SAVEPOINT for a nested unit of work), or mark the migration non-transactional for the tool.",
        ),
        Dialect::Mysql => Violation::new(
            format!("START TRANSACTION {inside}: MySQL commits the open transaction implicitly, and a later ROLLBACK undoes only what follows"),
            "Remove the inner START TRANSACTION/COMMIT (use SAVEPOINT for a nested unit of work).",
        ),
        Dialect::Sqlite => Violation::new(
            format!("BEGIN {inside}: SQLite refuses it ('cannot start a transaction within a transaction') and the migration stops"),
            "Remove the inner BEGIN/COMMIT (use SAVEPOINT for a nested unit of work), or mark the migration non-transactional for the tool.",
        )
        .with_severity(Severity::High),
    };
    vec![violation]
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

    #[test]
    fn says_what_mysql_and_sqlite_do_with_it() {
        let f = assert_flags(FindingId::TransactionNesting, Dialect::Mysql, "START TRANSACTION;\nSTART TRANSACTION;\nCOMMIT;");
        assert!(f[0].message.contains("commits the open transaction implicitly"), "{}", f[0].message);
        let f = assert_flags(FindingId::TransactionNesting, Dialect::Sqlite, "BEGIN;\nBEGIN;\nCOMMIT;");
        assert_eq!(f[0].severity, crate::model::Severity::High);
        assert_ok(FindingId::TransactionNesting, Dialect::Sqlite, "BEGIN;\nCOMMIT;\nBEGIN;\nCOMMIT;");
    }
}
