//! `mysql-alter-copies-table` (MySQL/MariaDB): an ALTER that changes a column's type (or
//! otherwise needs ALGORITHM=COPY) copies the whole table and blocks writes meanwhile.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::base_name;
use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlAlterCopiesTable;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "ALTER TABLE without ALGORITHM/LOCK that changes a column type copies the table and blocks writes until done.",
    details: "An ALTER TABLE that changes a column's type (or other definition) cannot use INSTANT or INPLACE on MySQL/MariaDB: the server copies the table row by row with writes blocked until it finishes. Saying ALGORITHM=INPLACE, LOCK=NONE makes the server refuse instead of silently copying.",
    bad: "ALTER TABLE orders MODIFY total DECIMAL(14,2) NOT NULL;",
    good: r#"ALTER TABLE orders MODIFY total DECIMAL(14,2) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
-- if refused: an online schema change tool (gh-ost, pt-online-schema-change)"#,
};

/// Tables at least this large make a table copy a high-severity finding.
pub const LARGE_TABLE_ROWS: u64 = 1_000_000;

impl Rule for MysqlAlterCopiesTable {
    fn id(&self) -> FindingId {
        FindingId::MysqlAlterCopiesTable
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        if ops.iter().any(|op| matches!(op, AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. })) {
            return Vec::new();
        }
        let name = base_name(table);
        let type_changes: Vec<String> = ops
            .iter()
            .filter_map(|op| match op {
                AlterTableOperation::ModifyColumn { col_name, data_type, .. } => Some((col_name.value.clone(), data_type.to_string())),
                AlterTableOperation::ChangeColumn { old_name, data_type, .. } => Some((old_name.value.clone(), data_type.to_string())),
                _ => None,
            })
            .filter(|(col, new_type)| match ctx.existing_column_type(&name, col) {
                // Only a real type change copies; restating the same type does not.
                Some(old) => !old.eq_ignore_ascii_case(new_type),
                None => true,
            })
            .map(|(col, _)| col)
            .collect();
        if type_changes.is_empty() {
            return Vec::new();
        }
        let rows = ctx.schema.and_then(|s| s.table(&name)).and_then(|t| t.row_estimate);
        let size = rows.map(|r| format!(" (~{r} rows)")).unwrap_or_default();
        let violation = Violation::new(
            format!("changes the type of {table}.{} without ALGORITHM/LOCK: MySQL copies the whole table{size} and blocks writes until done", type_changes.join(", ")),
            "Add ALGORITHM=INPLACE, LOCK=NONE so the server refuses instead of blocking, or use an online schema change tool (gh-ost, pt-online-schema-change).",
        );
        match rows {
            Some(r) if r >= LARGE_TABLE_ROWS => vec![violation.with_severity(Severity::High)],
            _ => vec![violation],
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_type_changes_without_algorithm() {
        assert_flags(FindingId::MysqlAlterCopiesTable, Dialect::Mysql, "ALTER TABLE orders MODIFY total BIGINT NOT NULL;");
        assert_ok(
            FindingId::MysqlAlterCopiesTable,
            Dialect::Mysql,
            "ALTER TABLE orders MODIFY total BIGINT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;",
        );
        assert_ok(FindingId::MysqlAlterCopiesTable, Dialect::Mysql, "ALTER TABLE orders ADD COLUMN note TEXT;");
    }
}
