//! `constraint-missing-not-valid` (PostgreSQL): adding a FOREIGN KEY or CHECK validates every
//! row while holding a lock that blocks writes.

use sqlparser::ast::{AlterTableOperation, Statement, TableConstraint};

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct ConstraintMissingNotValid;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "Adding a FOREIGN KEY or CHECK constraint scans the whole table under a lock that blocks writes.",
    details: "Adding a FOREIGN KEY or CHECK constraint validates every existing row while holding a lock that blocks writes (SHARE ROW EXCLUSIVE on both tables for a foreign key). Adding it NOT VALID is instant; VALIDATE CONSTRAINT then scans with a lock that lets reads and writes continue.",
    bad: "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
    good: r#"ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;"#,
};

impl Rule for ConstraintMissingNotValid {
    fn id(&self) -> FindingId {
        FindingId::ConstraintMissingNotValid
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
                AlterTableOperation::AddConstraint { constraint, not_valid: false } => match constraint {
                    TableConstraint::ForeignKey(fk) => Some(("foreign key", &fk.name)),
                    TableConstraint::Check(check) => Some(("check constraint", &check.name)),
                    _ => None,
                },
                _ => None,
            })
            .map(|(kind, name)| {
                let name = name.as_ref().map(|n| n.value.clone()).unwrap_or_else(|| "<unnamed>".into());
                Violation::new(
                    format!("adds {kind} {name} on {table} without NOT VALID: every row is checked while writes are blocked"),
                    format!("ADD CONSTRAINT {name} ... NOT VALID, then ALTER TABLE {table} VALIDATE CONSTRAINT {name} in a separate transaction."),
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
    fn flags_validated_constraints() {
        assert_flags(
            FindingId::ConstraintMissingNotValid,
            Dialect::Postgres,
            "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);",
        );
        assert_flags(
            FindingId::ConstraintMissingNotValid,
            Dialect::Postgres,
            "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0);",
        );
        assert_ok(
            FindingId::ConstraintMissingNotValid,
            Dialect::Postgres,
            "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        );
    }
}
