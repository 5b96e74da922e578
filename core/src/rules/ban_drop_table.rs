//! `ban-drop-table`: dropping a table loses its data and breaks every reader.

use sqlparser::ast::{ObjectType, Statement};

use super::ast::base_name;
use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropTable;

impl Rule for BanDropTable {
    fn id(&self) -> &'static str {
        "ban-drop-table"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn description(&self) -> &'static str {
        "DROP TABLE deletes the table's data and breaks every query that still reads it."
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::Drop { object_type: ObjectType::Table, names, .. } = ast else {
            return Vec::new();
        };
        names
            .iter()
            .map(|name| {
                let table = base_name(name);
                if ctx.rebuild_dropping_at(stmt.index).is_some_and(|r| r.table.eq_ignore_ascii_case(&table)) {
                    Violation::new(
                        format!("drops table {name} as part of a table rebuild (its rows were copied to the new table first)"),
                        "Keep the rebuild in one transaction and verify row counts of the copy before the drop.",
                    )
                    .with_severity(Severity::Info)
                } else if ctx.created_in_script_before(&table, stmt.index) {
                    Violation::new(
                        format!("drops table {name}, which this migration created"),
                        "Remove both statements if the table is not needed.",
                    )
                    .with_severity(Severity::Low)
                } else {
                    Violation::new(
                        format!("drops table {name} and all of its data"),
                        "Stop reading and writing the table in a deploy first, rename it (or back it up) and drop it in a later migration once nothing uses it.",
                    )
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::model::Severity;
    use crate::rules::testing::*;

    #[test]
    fn flags_drop_table() {
        let f = assert_flags("ban-drop-table", Dialect::Postgres, "DROP TABLE IF EXISTS users, orders;");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_ok("ban-drop-table", Dialect::Postgres, "DROP INDEX idx;");
    }

    #[test]
    fn rebuild_drop_is_informational() {
        let sql = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users_new (id, email) SELECT id, email FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;";
        let f = assert_flags("ban-drop-table", Dialect::Sqlite, sql);
        assert_eq!(f[0].severity, Severity::Info);
    }
}
