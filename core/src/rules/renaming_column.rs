//! `renaming-column`: renaming a column breaks every query that uses the old name.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RenamingColumn;

impl Rule for RenamingColumn {
    fn id(&self) -> &'static str {
        "renaming-column"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn description(&self) -> &'static str {
        "Renaming a column is backward-incompatible: running code still reads and writes the old name."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = alter_table(ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::RenameColumn { old_column_name, new_column_name } => Some((old_column_name, new_column_name)),
                AlterTableOperation::ChangeColumn { old_name, new_name, .. } if old_name.value != new_name.value => {
                    Some((old_name, new_name))
                }
                _ => None,
            })
            .map(|(old, new)| {
                Violation::new(
                    format!("renames column {table}.{old} to {new}"),
                    "Add the new column, write to both, backfill, move readers, then drop the old column in a later release.",
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
    fn flags_column_renames() {
        assert_flags("renaming-column", Dialect::Sqlite, "ALTER TABLE users RENAME COLUMN name TO full_name;");
        assert_flags("renaming-column", Dialect::Mysql, "ALTER TABLE users CHANGE name full_name VARCHAR(100);");
        assert_ok("renaming-column", Dialect::Mysql, "ALTER TABLE users CHANGE name name VARCHAR(200);");
    }
}
