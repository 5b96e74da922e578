//! `require-concurrent-index-creation` (PostgreSQL): CREATE INDEX without CONCURRENTLY blocks
//! writes to the table for the whole build.

use sqlparser::ast::Statement;

use super::ast::base_name;
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentIndexCreation;

impl Rule for RequireConcurrentIndexCreation {
    fn id(&self) -> &'static str {
        "require-concurrent-index-creation"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "CREATE INDEX without CONCURRENTLY takes a SHARE lock that blocks all writes until the index is built."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
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
        assert_flags("require-concurrent-index-creation", Dialect::Postgres, "CREATE INDEX idx_users_email ON users (email);");
        assert_ok("require-concurrent-index-creation", Dialect::Postgres, "CREATE INDEX CONCURRENTLY idx ON users (email);");
        assert_ok("require-concurrent-index-creation", Dialect::Postgres, "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);");
        assert_ok("require-concurrent-index-creation", Dialect::Sqlite, "CREATE INDEX idx ON users (email);");
    }
}
