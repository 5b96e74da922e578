//! `renaming-table`: renaming a table breaks every query that uses the old name.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RenamingTable;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "Renaming a table is backward-incompatible: running code still uses the old name.",
    details: "Renaming a table is backward-incompatible: the running release still queries the old name and fails from the moment the migration commits until the new code is deployed everywhere.",
    bad: "ALTER TABLE customers RENAME TO clients;",
    good: r#"-- Expand and contract: create the new name alongside the old one,
-- e.g. a view with the old name over the renamed table, switch the code, then drop the view.
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;"#,
};

const SUGGESTION: &str = "Create the new table (or a view with the old name) and migrate readers and writers before removing the old name.";

impl Rule for RenamingTable {
    fn id(&self) -> FindingId {
        FindingId::RenamingTable
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        if let Statement::RenameTable(renames) = ast {
            return renames.iter().map(|r| Violation::new(format!("renames table {} to {}", r.old_name, r.new_name), SUGGESTION)).collect();
        }
        let Some((table, ops)) = alter_table(ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::RenameTable { table_name } => Some(table_name),
                _ => None,
            })
            .map(|new_name| {
                let new_name = new_name.to_string().trim_start_matches("TO ").trim_start_matches("AS ").to_string();
                if ctx.rebuild_renaming_at(stmt.index).is_some() {
                    Violation::new(
                        format!("renames rebuilt table {table} back to {new_name}"),
                        "Part of a table rebuild; see sqlite-table-rebuild.",
                    )
                    .with_severity(Severity::Info)
                } else {
                    Violation::new(format!("renames table {table} to {new_name}"), SUGGESTION)
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
    fn flags_table_renames() {
        let f = assert_flags(FindingId::RenamingTable, Dialect::Postgres, "ALTER TABLE users RENAME TO customers;");
        assert!(f[0].message.contains("users to customers"), "{}", f[0].message);
        assert_flags(FindingId::RenamingTable, Dialect::Mysql, "RENAME TABLE users TO customers;");
        assert_ok(FindingId::RenamingTable, Dialect::Postgres, "ALTER TABLE users RENAME COLUMN a TO b;");
    }
}
