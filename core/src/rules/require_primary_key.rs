//! `require-primary-key`: tables without a primary key cannot be replicated row by row,
//! deduplicated, or reconciled by key.

use sqlparser::ast::{Statement, TableConstraint};

use super::ast::is_primary_key;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequirePrimaryKey;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "A new table without a primary key allows duplicate rows and breaks logical replication and key-based reconciliation.",
    details: "A table without a primary key accepts duplicate rows, cannot be replicated logically (PostgreSQL logical replication, many CDC tools) and cannot be reconciled or deduplicated by key.",
    bad: "CREATE TABLE audit_log (event text, created_at timestamptz);",
    good: "CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event text, created_at timestamptz);",
};

impl Rule for RequirePrimaryKey {
    fn id(&self) -> FindingId {
        FindingId::RequirePrimaryKey
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::RequirePrimaryKey, Dialect::Sqlite, "CREATE TABLE log (msg TEXT);");
        assert_ok(FindingId::RequirePrimaryKey, Dialect::Sqlite, "CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT);");
        assert_ok(FindingId::RequirePrimaryKey, Dialect::Postgres, "CREATE TABLE m (a int, b int, PRIMARY KEY (a, b));");
    }
}
