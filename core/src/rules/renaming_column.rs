//! `renaming-column`: renaming a column breaks every query that uses the old name.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RenamingColumn;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "Renaming a column is backward-incompatible: running code still reads and writes the old name.",
    details: "Renaming a column is backward-incompatible: queries of the running release that name the old column fail immediately, and so do inserts that set it.",
    bad: "ALTER TABLE customers RENAME COLUMN full_name TO display_name;",
    good: r#"-- Add the new column, write both, backfill, switch readers, then drop the old one later:
ALTER TABLE customers ADD COLUMN display_name text;
UPDATE customers SET display_name = full_name WHERE display_name IS NULL;"#,
};

impl Rule for RenamingColumn {
    fn id(&self) -> FindingId {
        FindingId::RenamingColumn
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::RenamingColumn, Dialect::Sqlite, "ALTER TABLE users RENAME COLUMN name TO full_name;");
        assert_flags(FindingId::RenamingColumn, Dialect::Mysql, "ALTER TABLE users CHANGE name full_name VARCHAR(100);");
        assert_ok(FindingId::RenamingColumn, Dialect::Mysql, "ALTER TABLE users CHANGE name name VARCHAR(200);");
    }
}
