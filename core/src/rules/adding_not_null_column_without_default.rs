//! `adding-not-null-column-without-default`: old code that inserts without the new column fails,
//! and existing rows have no value (SQLite and MySQL strict mode reject the statement).

use sqlparser::ast::{AlterTableOperation, Expr, Statement, Value};

use super::ast::{alter_table, default_of, has_not_null, is_generated};
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct AddingNotNullColumnWithoutDefault;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "A NOT NULL column without a default has no value for existing rows and breaks inserts from code that does not know it.",
    details: "A new NOT NULL column without a default has no value for the rows already in the table: PostgreSQL and SQLite reject the statement when the table has rows, MySQL silently fills in 0 or '' (which then looks like real data). Inserts from the running release, which does not know the column, fail.",
    bad: "ALTER TABLE customers ADD COLUMN tier text NOT NULL;",
    good: r#"ALTER TABLE customers ADD COLUMN tier text NOT NULL DEFAULT 'basic';
-- or: add it nullable, backfill in batches, then set NOT NULL (see setting-not-null)"#,
};

impl Rule for AddingNotNullColumnWithoutDefault {
    fn id(&self) -> FindingId {
        FindingId::AddingNotNullColumnWithoutDefault
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = alter_table(ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::AddColumn { column_def, .. } => Some(column_def),
                _ => None,
            })
            .filter(|col| has_not_null(col) && !is_generated(col))
            .filter(|col| match default_of(col) {
                None => true,
                Some(Expr::Value(v)) => matches!(v.value, Value::Null),
                Some(_) => false,
            })
            .map(|col| {
                let fails = match ctx.dialect {
                    Dialect::Sqlite => " SQLite rejects this statement outright.",
                    Dialect::Postgres => " PostgreSQL rejects it when the table has rows.",
                    Dialect::Mysql => " MySQL fills existing rows with an implicit zero value.",
                };
                Violation::new(
                    format!("adds NOT NULL column {table}.{} without a default.{fails}", col.name),
                    "Add the column nullable (or with a DEFAULT), backfill it in batches, then add the NOT NULL constraint.",
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
    fn flags_not_null_without_default() {
        assert_flags(FindingId::AddingNotNullColumnWithoutDefault, Dialect::Sqlite, "ALTER TABLE users ADD COLUMN tier TEXT NOT NULL;");
        assert_flags(
            FindingId::AddingNotNullColumnWithoutDefault,
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT NULL;",
        );
        assert_ok(
            FindingId::AddingNotNullColumnWithoutDefault,
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'free';",
        );
        assert_ok(FindingId::AddingNotNullColumnWithoutDefault, Dialect::Postgres, "ALTER TABLE users ADD COLUMN tier text;");
    }
}
