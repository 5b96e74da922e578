//! `require-concurrent-index-creation` (PostgreSQL): CREATE INDEX without CONCURRENTLY blocks
//! writes to the table for the whole build.

use sqlparser::ast::Statement;

use super::ast::base_name;
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentIndexCreation;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "CREATE INDEX without CONCURRENTLY takes a SHARE lock that blocks all writes until the index is built.",
    details: "CREATE INDEX without CONCURRENTLY takes a SHARE lock on the table for the whole build: reads continue but every INSERT, UPDATE and DELETE waits, for minutes on a large table.",
    bad: "CREATE INDEX orders_status_idx ON orders (status);",
    good: r#"-- Outside a transaction block:
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"#,
};

impl Rule for RequireConcurrentIndexCreation {
    fn id(&self) -> FindingId {
        FindingId::RequireConcurrentIndexCreation
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn lock_scaled(&self) -> bool {
        true
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::CreateIndex(index) = ast else { return Vec::new() };
        if index.concurrently || ctx.created_in_script_before(&base_name(&index.table_name), stmt.index) {
            return Vec::new();
        }
        let name = index.name.as_ref().map(|n| format!("{n} ")).unwrap_or_default();
        vec![Violation::new(
            format!("creates index {name}on {} without CONCURRENTLY: writes to the table block until it is built", index.table_name),
            "Use CREATE INDEX CONCURRENTLY, outside a transaction block.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_blocking_index_builds() {
        assert_flags(FindingId::RequireConcurrentIndexCreation, Dialect::Postgres, "CREATE INDEX idx_users_email ON users (email);");
        assert_ok(FindingId::RequireConcurrentIndexCreation, Dialect::Postgres, "CREATE INDEX CONCURRENTLY idx ON users (email);");
        assert_ok(FindingId::RequireConcurrentIndexCreation, Dialect::Postgres, "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);");
        assert_ok(FindingId::RequireConcurrentIndexCreation, Dialect::Sqlite, "CREATE INDEX idx ON users (email);");
    }
}
