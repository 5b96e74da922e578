//! `ban-drop-column`: dropping a column loses data and breaks code that still selects it.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropColumn;

impl Rule for BanDropColumn {
    fn id(&self) -> &'static str {
        "ban-drop-column"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn description(&self) -> &'static str {
        "DROP COLUMN deletes data and breaks application code that still reads or writes the column."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = alter_table(ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::DropColumn { column_names, .. } => Some(column_names),
                _ => None,
            })
            .flatten()
            .map(|col| {
                Violation::new(
                    format!("drops column {table}.{col} and its data"),
                    "Deploy code that no longer uses the column first (expand/contract), then drop it in a later migration.",
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
    fn flags_drop_column() {
        assert_flags("ban-drop-column", Dialect::Postgres, "ALTER TABLE users DROP COLUMN email;");
        assert_flags("ban-drop-column", Dialect::Sqlite, "ALTER TABLE users DROP COLUMN email;");
        assert_ok("ban-drop-column", Dialect::Postgres, "ALTER TABLE users ADD COLUMN email text;");
    }
}
