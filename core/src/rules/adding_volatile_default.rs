//! `adding-volatile-default` (PostgreSQL): a column added with a volatile default (random(),
//! gen_random_uuid(), clock_timestamp()...) rewrites the whole table under an exclusive lock.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::{default_of, is_volatile};
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct AddingVolatileDefault;

impl Rule for AddingVolatileDefault {
    fn id(&self) -> &'static str {
        "adding-volatile-default"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "ADD COLUMN with a volatile DEFAULT rewrites every row while holding an ACCESS EXCLUSIVE lock."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                _ => None,
            })
            .filter_map(|col| default_of(col).filter(|d| is_volatile(d)).map(|d| (col, d)))
            .map(|(col, default)| {
                Violation::new(
                    format!("adds {table}.{} with volatile default {default}: the table is rewritten under an exclusive lock", col.name),
                    "Add the column without a default (or with a constant one), set the default afterwards, and backfill existing rows in batches.",
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
    fn flags_volatile_defaults() {
        assert_flags("adding-volatile-default", Dialect::Postgres, "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();");
        assert_ok("adding-volatile-default", Dialect::Postgres, "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();");
        assert_ok("adding-volatile-default", Dialect::Postgres, "ALTER TABLE users ADD COLUMN tier text DEFAULT 'free';");
    }
}
