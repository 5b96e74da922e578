//! `disallowed-unique-constraint` (PostgreSQL): ADD CONSTRAINT ... UNIQUE builds the index
//! while holding an ACCESS EXCLUSIVE lock.

use sqlparser::ast::{AlterTableOperation, Statement, TableConstraint};

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct DisallowedUniqueConstraint;

impl Rule for DisallowedUniqueConstraint {
    fn id(&self) -> &'static str {
        "disallowed-unique-constraint"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "Adding a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::AddConstraint { constraint: TableConstraint::Unique(unique), .. } if !unique.columns.is_empty() => {
                    Some(&unique.name)
                }
                _ => None,
            })
            .map(|name| {
                let name = name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| "<unnamed>".into());
                Violation::new(
                    format!("adds UNIQUE constraint {name} on {table}: the index is built while the table is locked for reads and writes"),
                    format!("CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX <index>."),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_unique_constraint_without_index() {
        assert_flags("disallowed-unique-constraint", Dialect::Postgres, "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email);");
        assert_ok("disallowed-unique-constraint", Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ADD CONSTRAINT u UNIQUE (a);");
    }
}
