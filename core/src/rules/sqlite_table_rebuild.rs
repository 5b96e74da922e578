//! `sqlite-table-rebuild` (SQLite): the create-copy-drop-rename procedure rewrites the whole
//! table and silently loses indexes, triggers and foreign-key checks unless done carefully.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, SQLITE_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct SqliteTableRebuild;

impl Rule for SqliteTableRebuild {
    fn id(&self) -> &'static str {
        "sqlite-table-rebuild"
    }
    fn severity(&self) -> Severity {
        Severity::Low
    }
    fn description(&self) -> &'static str {
        "A table rebuild copies every row and drops the old table's indexes and triggers with it."
    }
    fn dialects(&self) -> &'static [Dialect] {
        SQLITE_ONLY
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
        let f = assert_flags("sqlite-table-rebuild", Dialect::Sqlite, sql);
        assert_eq!(f[0].statement, Some(4));
        assert_ok("sqlite-table-rebuild", Dialect::Sqlite, "ALTER TABLE a RENAME TO b;");
    }
}
