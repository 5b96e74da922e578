//! `mysql-implicit-commit` (MySQL/MariaDB): DDL inside BEGIN ... COMMIT commits the open
//! transaction implicitly and cannot be rolled back, so the transaction does not make the
//! migration atomic.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlImplicitCommit;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "DDL inside a transaction commits it implicitly on MySQL/MariaDB: BEGIN ... COMMIT does not make the migration atomic.",
    details: "MySQL and MariaDB commit the open transaction before and after CREATE, ALTER, DROP, RENAME and TRUNCATE (temporary tables aside), and DDL cannot be rolled back. A migration wrapped in START TRANSACTION ... COMMIT that fails halfway keeps every DDL statement before the failure and the data changes before each of them: ROLLBACK undoes only what came after the last DDL. Write migrations to be re-runnable (IF [NOT] EXISTS), one DDL per migration where the tool allows it.",
    bad: "START TRANSACTION;
ALTER TABLE customers ADD COLUMN tier VARCHAR(20);
UPDATE customers SET tier = 'basic';
ALTER TABLE customers MODIFY tier VARCHAR(20) NOT NULL;
COMMIT;",
    good: "-- One DDL statement per migration, data changes in their own transaction:
ALTER TABLE customers ADD COLUMN tier VARCHAR(20) NOT NULL DEFAULT 'basic';",
};

impl Rule for MysqlImplicitCommit {
    fn id(&self) -> FindingId {
        FindingId::MysqlImplicitCommit
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        verdict(ctx, stmt)
    }
    fn check_unparsed(&self, ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
        verdict(ctx, stmt)
    }
}

/// The statement kinds that commit implicitly (MySQL reference, "Statements That Cause an
/// Implicit Commit"), read from the text so that DDL the rules' parser cannot read counts too.
fn commits_implicitly(sql: &str) -> bool {
    let words: Vec<String> = sql.split_whitespace().take(3).map(|w| w.to_ascii_uppercase()).collect();
    let first = words.first().map(String::as_str);
    let temporary = words.get(1).is_some_and(|w| w == "TEMPORARY");
    matches!(first, Some("CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE")) && !temporary
}

fn verdict(ctx: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
    if !ctx.in_explicit_transaction(stmt.index) || !commits_implicitly(&stmt.sql) {
        return Vec::new();
    }
    vec![Violation::new(
        "runs DDL inside an explicit transaction: MySQL commits the transaction here and cannot roll this statement back, so a failure later leaves the migration half applied",
        "Drop BEGIN/COMMIT around DDL; make each statement re-runnable (IF [NOT] EXISTS) or give each DDL statement its own migration.",
    )]
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_ddl_in_an_explicit_transaction() {
        let sql = "START TRANSACTION;\nALTER TABLE customers ADD COLUMN tier VARCHAR(20);\nUPDATE customers SET tier = 'basic' WHERE id > 0;\nCOMMIT;";
        let f = assert_flags(FindingId::MysqlImplicitCommit, Dialect::Mysql, sql);
        assert_eq!(f.len(), 1, "only the DDL: {f:?}");
        assert_eq!(f[0].statement, Some(2));
        // DDL the rules' parser cannot read counts too.
        assert_flags(FindingId::MysqlImplicitCommit, Dialect::Mysql, "BEGIN;\nALTER TABLE customers ENGINE = InnoDB;\nCOMMIT;");
        assert_ok(FindingId::MysqlImplicitCommit, Dialect::Mysql, "ALTER TABLE customers ADD COLUMN tier VARCHAR(20);");
        assert_ok(FindingId::MysqlImplicitCommit, Dialect::Mysql, "BEGIN;\nCREATE TEMPORARY TABLE t (a INT);\nCOMMIT;");
    }
}
