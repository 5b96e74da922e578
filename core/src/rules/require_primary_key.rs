//! `require-primary-key`: tables without a primary key cannot be replicated row by row,
//! deduplicated, or reconciled by key.

use sqlparser::ast::{Statement, TableConstraint};

use super::ast::is_primary_key;
use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequirePrimaryKey;

impl Rule for RequirePrimaryKey {
    fn id(&self) -> &'static str {
        "require-primary-key"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "A new table without a primary key allows duplicate rows and breaks logical replication and key-based reconciliation."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::CreateTable(ct) = ast else { return Vec::new() };
        if ct.temporary || ct.like.is_some() || ct.clone.is_some() {
            return Vec::new();
        }
        let has_pk =
            ct.columns.iter().any(is_primary_key) || ct.constraints.iter().any(|c| matches!(c, TableConstraint::PrimaryKey { .. }));
        if has_pk {
            return Vec::new();
        }
        vec![Violation::new(
            format!("creates table {} without a primary key", ct.name),
            "Add a PRIMARY KEY (a BIGINT identity or a UUID column).",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_tables_without_pk() {
        assert_flags("require-primary-key", Dialect::Sqlite, "CREATE TABLE log (msg TEXT);");
        assert_ok("require-primary-key", Dialect::Sqlite, "CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT);");
        assert_ok("require-primary-key", Dialect::Postgres, "CREATE TABLE m (a int, b int, PRIMARY KEY (a, b));");
    }
}
