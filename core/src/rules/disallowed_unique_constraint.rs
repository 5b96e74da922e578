//! `disallowed-unique-constraint` (PostgreSQL): ADD CONSTRAINT ... UNIQUE builds the index
//! while holding an ACCESS EXCLUSIVE lock.

use sqlparser::ast::{AlterTableOperation, Statement, TableConstraint};

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct DisallowedUniqueConstraint;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "Adding a UNIQUE constraint builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes.",
    details: "ADD CONSTRAINT ... UNIQUE builds its index while holding an ACCESS EXCLUSIVE lock: no reads or writes on the table until the build ends. Building the unique index concurrently first, then attaching it as the constraint, is instant.",
    bad: "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);",
    good: r#"CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON customers (email);
ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX customers_email_key;"#,
};

impl Rule for DisallowedUniqueConstraint {
    fn id(&self) -> FindingId {
        FindingId::DisallowedUniqueConstraint
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn lock_scaled(&self) -> bool {
        true
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
        assert_flags(FindingId::DisallowedUniqueConstraint, Dialect::Postgres, "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email);");
        assert_ok(
            FindingId::DisallowedUniqueConstraint,
            Dialect::Postgres,
            "CREATE TABLE t (a int);\nALTER TABLE t ADD CONSTRAINT u UNIQUE (a);",
        );
    }
}
