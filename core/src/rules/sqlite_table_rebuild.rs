//! `sqlite-table-rebuild` (SQLite): the create-copy-drop-rename procedure rewrites the whole
//! table and silently loses indexes, triggers and foreign-key checks unless done carefully.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, SQLITE_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct SqliteTableRebuild;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(SQLITE_ONLY),
    policy: None,
    summary: "A table rebuild copies every row and drops the old table's indexes and triggers with it.",
    details: "A SQLite table rebuild (create, copy, drop, rename) copies every row, and dropping the old table also drops its indexes and triggers: they must be recreated in the same migration or they are lost. Foreign keys are not checked while the rows are copied.",
    bad: r#"CREATE TABLE orders_new (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
INSERT INTO orders_new SELECT id, total FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;"#,
    good: r#"-- The same, in one transaction, recreating the indexes and checking the result:
BEGIN;
-- ... the four statements above ...
CREATE INDEX orders_total_idx ON orders (total);
PRAGMA foreign_key_check;
COMMIT;"#,
};

impl Rule for SqliteTableRebuild {
    fn id(&self) -> FindingId {
        FindingId::SqliteTableRebuild
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        let Some(rebuild) = ctx.rebuild_renaming_at(stmt.index) else { return Vec::new() };
        vec![Violation::new(
            format!("rebuilds table {}: every row is copied while the database is write-locked, and its indexes and triggers are dropped with the old table", rebuild.table),
            "Run the rebuild in one transaction with PRAGMA foreign_keys=OFF, recreate indexes and triggers, then run PRAGMA foreign_key_check before COMMIT.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn recognises_the_rebuild_procedure() {
        let sql = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users_new (id, email) SELECT id, email FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;";
        let f = assert_flags(FindingId::SqliteTableRebuild, Dialect::Sqlite, sql);
        assert_eq!(f[0].statement, Some(4));
        assert_ok(FindingId::SqliteTableRebuild, Dialect::Sqlite, "ALTER TABLE a RENAME TO b;");
    }
}
