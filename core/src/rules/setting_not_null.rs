//! `setting-not-null`: SET NOT NULL scans the table under an exclusive lock and fails if any row
//! is NULL; old code that writes NULL breaks.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement};

use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct SettingNotNull;

impl Rule for SettingNotNull {
    fn id(&self) -> &'static str {
        "setting-not-null"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "SET NOT NULL is backward-incompatible for writers of NULL and scans the whole table while holding an ACCESS EXCLUSIVE lock."
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
        assert_flags("setting-not-null", Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
        assert_ok("setting-not-null", Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;");
    }
}
