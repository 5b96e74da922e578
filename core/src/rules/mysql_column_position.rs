//! `mysql-column-position` (MySQL/MariaDB): ADD COLUMN ... FIRST/AFTER is only INSTANT on
//! MySQL 8.0.29+ and MariaDB 10.4+; older servers rebuild the table.

use sqlparser::ast::{AlterTableOperation, Statement};

use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlColumnPosition;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "Adding a column FIRST or AFTER another rebuilds the table on MySQL before 8.0.29 and MariaDB before 10.4.",
    details: "ADD COLUMN ... FIRST or AFTER another column cannot be done instantly on MySQL before 8.0.29 or MariaDB before 10.4: the table is rebuilt. Column order rarely matters to code.",
    bad: "ALTER TABLE customers ADD COLUMN tier VARCHAR(20) AFTER email;",
    good: "ALTER TABLE customers ADD COLUMN tier VARCHAR(20);",
};

impl Rule for MysqlColumnPosition {
    fn id(&self) -> FindingId {
        FindingId::MysqlColumnPosition
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::AddColumn { column_def, column_position: Some(_), .. } => Some(column_def),
                _ => None,
            })
            .map(|col| Violation::new(
                format!("adds {table}.{} at a position other than the end: older MySQL/MariaDB servers rebuild the table", col.name),
                "Add the column at the end (column order rarely matters to applications), or confirm the server version supports INSTANT here.",
            ))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_positioned_columns() {
        assert_flags(FindingId::MysqlColumnPosition, Dialect::Mysql, "ALTER TABLE users ADD COLUMN nick VARCHAR(20) AFTER name;");
        assert_ok(FindingId::MysqlColumnPosition, Dialect::Mysql, "ALTER TABLE users ADD COLUMN nick VARCHAR(20);");
    }
}
