//! `changing-column-type`: a type change can reject or truncate values and, on PostgreSQL and
//! MySQL, rewrites the table under an exclusive lock.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, Statement};

use super::ast::base_name;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;
use crate::sqltypes::is_narrowing;

pub struct ChangingColumnType;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "Changing a column's type may reject or truncate existing values and rewrites the table while holding an exclusive lock.",
    details: "Changing a column's type can reject or silently truncate existing values (narrowing), breaks code that expects the old type, and on most databases rewrites the whole table while holding an exclusive lock (PostgreSQL ACCESS EXCLUSIVE, MySQL ALGORITHM=COPY). Widening varchar(n) to a larger n or to text is metadata-only on PostgreSQL and is reported as such.",
    bad: "ALTER TABLE orders ALTER COLUMN total TYPE integer;",
    good: r#"-- Add a column of the new type, backfill in batches, switch the code, drop the old column:
ALTER TABLE orders ADD COLUMN total_cents bigint;
UPDATE orders SET total_cents = round(total * 100) WHERE total_cents IS NULL AND id < 10000;"#,
};

impl Rule for ChangingColumnType {
    fn id(&self) -> FindingId {
        FindingId::ChangingColumnType
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
                AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetDataType { data_type, .. } } => {
                    Some((column_name.value.clone(), data_type.to_string()))
                }
                AlterTableOperation::ModifyColumn { col_name, data_type, .. } => Some((col_name.value.clone(), data_type.to_string())),
                AlterTableOperation::ChangeColumn { new_name, data_type, .. } => Some((new_name.value.clone(), data_type.to_string())),
                _ => None,
            })
            .filter_map(|(column, new_type)| {
                let old = ctx.existing_column_type(&base_name(table), &column);
                match old.as_deref().map(|old| (old, is_narrowing(old, &new_type))) {
                    Some((old, _)) if old.eq_ignore_ascii_case(&new_type) => None,
                    Some((old, Some(true))) => Some(Violation::new(
                        format!("narrows {table}.{column} from {old} to {new_type}: existing values may be truncated or rejected"),
                        "Add a new column of the new type, backfill and validate it, then switch readers over.",
                    ).with_severity(Severity::Critical)),
                    Some((old, Some(false))) => Some(Violation::new(
                        format!("widens {table}.{column} from {old} to {new_type}; the table may be rewritten under an exclusive lock"),
                        "Prefer types that can widen without a rewrite (e.g. VARCHAR(n) to TEXT on PostgreSQL), or migrate through a new column.",
                    ).with_severity(Severity::Medium)),
                    Some((old, None)) => Some(Violation::new(
                        format!("changes type of {table}.{column} from {old} to {new_type}"),
                        "Add a new column of the new type, backfill it in batches and switch readers before dropping the old one.",
                    )),
                    None => Some(Violation::new(
                        format!("changes type of {table}.{column} to {new_type}: existing values may not convert, and the table is rewritten under an exclusive lock"),
                        "Add a new column of the new type, backfill it in batches and switch readers before dropping the old one.",
                    )),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_type_changes() {
        assert_flags(FindingId::ChangingColumnType, Dialect::Postgres, "ALTER TABLE users ALTER COLUMN age TYPE bigint;");
        assert_flags(FindingId::ChangingColumnType, Dialect::Mysql, "ALTER TABLE users MODIFY email VARCHAR(50);");
        assert_ok(FindingId::ChangingColumnType, Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a TYPE bigint;");
    }
}
