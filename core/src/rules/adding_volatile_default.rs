//! `adding-volatile-default` (PostgreSQL): a column added with a volatile default (random(),
//! gen_random_uuid(), clock_timestamp()...) rewrites the whole table under an exclusive lock.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::{default_of, is_volatile};
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct AddingVolatileDefault;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "ADD COLUMN with a volatile DEFAULT rewrites every row while holding an ACCESS EXCLUSIVE lock.",
    details: "ADD COLUMN with a volatile default (random(), clock_timestamp(), gen_random_uuid() ...) must compute a value per row, so PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock. Constant defaults (and now()) are metadata-only since PostgreSQL 11.",
    bad: "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();",
    good: r#"ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- then backfill existing rows in batches"#,
};

impl Rule for AddingVolatileDefault {
    fn id(&self) -> FindingId {
        FindingId::AddingVolatileDefault
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
        assert_flags(
            FindingId::AddingVolatileDefault,
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        );
        assert_ok(
            FindingId::AddingVolatileDefault,
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();",
        );
        assert_ok(FindingId::AddingVolatileDefault, Dialect::Postgres, "ALTER TABLE users ADD COLUMN tier text DEFAULT 'free';");
    }
}
