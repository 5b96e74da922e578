//! `setting-not-null`: SET NOT NULL scans the table under an exclusive lock and fails if any row
//! is NULL; old code that writes NULL breaks.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement};

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct SettingNotNull;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "SET NOT NULL is backward-incompatible for writers of NULL and scans the whole table while holding an ACCESS EXCLUSIVE lock.",
    details: "SET NOT NULL makes writes of NULL from the running release fail, and on PostgreSQL it scans the whole table to verify the constraint while holding an ACCESS EXCLUSIVE lock (reads and writes wait). From PostgreSQL 12, a validated CHECK (col IS NOT NULL) constraint lets SET NOT NULL skip the scan.",
    bad: "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;",
    good: r#"ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null CHECK (customer_id IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;"#,
};

impl Rule for SettingNotNull {
    fn id(&self) -> FindingId {
        FindingId::SettingNotNull
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
                AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetNotNull } => Some(column_name),
                _ => None,
            })
            .map(|col| {
                Violation::new(
                    format!("sets {table}.{col} NOT NULL: fails if any row is NULL, and scans the table under an exclusive lock"),
                    format!("Add CHECK ({col} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a separate transaction, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the CHECK."),
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
    fn flags_set_not_null() {
        assert_flags(FindingId::SettingNotNull, Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
        assert_ok(FindingId::SettingNotNull, Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;");
    }
}
