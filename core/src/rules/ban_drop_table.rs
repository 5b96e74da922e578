//! `ban-drop-table`: dropping a table loses its data and breaks every reader.

use sqlparser::ast::{ObjectType, Statement};

use super::ast::base_name;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropTable;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "DROP TABLE deletes the table's data and breaks every query that still reads it.",
    details: "Dropping a table deletes every row at once, and every query, view and foreign key that still references it fails. Deploys are not atomic: instances running the previous release keep reading the table while the migration runs, and a restore from backup loses everything written since.",
    bad: "DROP TABLE legacy_coupons;",
    good: r#"-- release 1: stop reading and writing the table in the application
-- release 2: keep the data, free the name
ALTER TABLE legacy_coupons RENAME TO legacy_coupons_retired;
-- release 3, after a backup and a quiet period
DROP TABLE legacy_coupons_retired;"#,
};

impl Rule for BanDropTable {
    fn id(&self) -> FindingId {
        FindingId::BanDropTable
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        let f = assert_flags(FindingId::BanDropTable, Dialect::Postgres, "DROP TABLE IF EXISTS users, orders;");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_ok(FindingId::BanDropTable, Dialect::Postgres, "DROP INDEX idx;");
    }

    #[test]
    fn rebuild_drop_is_informational() {
        let sql = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users_new (id, email) SELECT id, email FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;";
        let f = assert_flags(FindingId::BanDropTable, Dialect::Sqlite, sql);
        assert_eq!(f[0].severity, Severity::Info);
    }
}
