//! `ban-drop-column`: dropping a column loses data and breaks code that still selects it.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropColumn;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "DROP COLUMN deletes data and breaks application code that still reads or writes the column.",
    details: "Dropping a column deletes its data, and code of the running release that still selects, inserts or updates it fails (ORMs often name every column). Removing a column safely takes two deploys: first the code stops using it, then the migration drops it.",
    bad: "ALTER TABLE customers DROP COLUMN legacy_score;",
    good: r#"-- release 1: the application no longer reads or writes legacy_score
-- release 2:
ALTER TABLE customers DROP COLUMN legacy_score;"#,
};

impl Rule for BanDropColumn {
    fn id(&self) -> FindingId {
        FindingId::BanDropColumn
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::BanDropColumn, Dialect::Postgres, "ALTER TABLE users DROP COLUMN email;");
        assert_flags(FindingId::BanDropColumn, Dialect::Sqlite, "ALTER TABLE users DROP COLUMN email;");
        assert_ok(FindingId::BanDropColumn, Dialect::Postgres, "ALTER TABLE users ADD COLUMN email text;");
    }
}
