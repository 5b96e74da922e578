//! `sqlite-unsupported-alter` (SQLite): ALTER TABLE forms SQLite cannot run; they need the
//! table-rebuild procedure instead.

use sqlparser::ast::{AlterTableOperation, ColumnOption, Expr, Statement};

use super::ast::{alter_table, base_name, default_of, is_primary_key, is_unique};
use super::{Rule, RuleContext, Violation, SQLITE_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct SqliteUnsupportedAlter;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(SQLITE_ONLY),
    policy: None,
    summary: "SQLite's ALTER TABLE only renames, adds and drops columns, with restrictions; other changes need a table rebuild.",
    details: "SQLite's ALTER TABLE can only rename a table or column, add a column (with restrictions) and drop a column: changing a type, a constraint or a default is a syntax error there. Such changes need a table rebuild (create new table, copy, drop, rename).",
    bad: "ALTER TABLE orders ALTER COLUMN total TYPE integer;",
    good: r#"CREATE TABLE orders_new (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
INSERT INTO orders_new (id, total) SELECT id, total FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;"#,
};

const REBUILD: &str = "Rebuild the table: CREATE TABLE new_t (...); INSERT INTO new_t SELECT ... FROM t; DROP TABLE t; ALTER TABLE new_t RENAME TO t; then recreate indexes, triggers and views (https://sqlite.org/lang_altertable.html#otheralter).";

impl Rule for SqliteUnsupportedAlter {
    fn id(&self) -> FindingId {
        FindingId::SqliteUnsupportedAlter
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = alter_table(ast) else { return Vec::new() };
        let existing = ctx.schema.and_then(|s| s.table(&base_name(table)));
        let mut out = Vec::new();
        for op in ops {
            let problem = match op {
                AlterTableOperation::AlterColumn { column_name, .. } => Some(format!("cannot alter column {table}.{column_name}")),
                AlterTableOperation::AddConstraint { .. } => Some(format!("cannot add a constraint to existing table {table}")),
                AlterTableOperation::DropConstraint { name, .. } => Some(format!("cannot drop constraint {name} of {table}")),
                AlterTableOperation::ModifyColumn { col_name, .. } => Some(format!("cannot modify column {table}.{col_name}")),
                AlterTableOperation::ChangeColumn { old_name, .. } => Some(format!("cannot change column {table}.{old_name}")),
                AlterTableOperation::AddColumn { column_def, .. } => {
                    if is_primary_key(column_def) || is_unique(column_def) {
                        Some(format!("cannot add a PRIMARY KEY or UNIQUE column {table}.{}", column_def.name))
                    } else if default_of(column_def).is_some_and(non_constant_default) {
                        Some(format!("cannot add column {table}.{} with a non-constant default", column_def.name))
                    } else if column_def.options.iter().any(|o| matches!(o.option, ColumnOption::Generated { .. }))
                        && column_def.options.iter().any(|o| o.option.to_string().to_ascii_uppercase().contains("STORED"))
                    {
                        Some(format!("cannot add STORED generated column {table}.{}", column_def.name))
                    } else {
                        None
                    }
                }
                AlterTableOperation::DropColumn { column_names, .. } => existing.and_then(|t| {
                    column_names.iter().find_map(|c| {
                        let c = c.value.as_str();
                        let eq = |n: &String| n.eq_ignore_ascii_case(c);
                        let reason = if t.primary_key.iter().any(eq) {
                            Some("part of the PRIMARY KEY")
                        } else if t.unique_constraints.iter().any(|u| u.columns.iter().any(eq)) {
                            Some("in a UNIQUE constraint")
                        } else if t.indexes.iter().any(|i| i.columns.iter().any(eq)) {
                            Some("indexed")
                        } else if t.foreign_keys.iter().any(|f| f.columns.iter().any(eq)) {
                            Some("part of a FOREIGN KEY")
                        } else {
                            None
                        };
                        reason.map(|r| format!("cannot drop column {table}.{c}: it is {r}"))
                    })
                }),
                _ => None,
            };
            if let Some(problem) = problem {
                out.push(Violation::new(format!("SQLite {problem}; the statement fails"), REBUILD));
            }
        }
        out
    }
}

fn non_constant_default(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) => false,
        Expr::UnaryOp { expr, .. } => non_constant_default(expr),
        Expr::Identifier(ident) => {
            let upper = ident.value.to_ascii_uppercase();
            matches!(upper.as_str(), "CURRENT_TIMESTAMP" | "CURRENT_TIME" | "CURRENT_DATE")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_alter_forms_sqlite_cannot_run() {
        assert_flags(FindingId::SqliteUnsupportedAlter, Dialect::Sqlite, "ALTER TABLE users ALTER COLUMN email SET NOT NULL;");
        assert_flags(FindingId::SqliteUnsupportedAlter, Dialect::Sqlite, "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);");
        assert_flags(FindingId::SqliteUnsupportedAlter, Dialect::Sqlite, "ALTER TABLE users ADD COLUMN code TEXT UNIQUE;");
        assert_flags(
            FindingId::SqliteUnsupportedAlter,
            Dialect::Sqlite,
            "ALTER TABLE users ADD COLUMN seen_at TEXT DEFAULT CURRENT_TIMESTAMP;",
        );
        assert_ok(FindingId::SqliteUnsupportedAlter, Dialect::Sqlite, "ALTER TABLE users ADD COLUMN tier TEXT DEFAULT 'free';");
        assert_ok(FindingId::SqliteUnsupportedAlter, Dialect::Sqlite, "ALTER TABLE users RENAME COLUMN a TO b;");
    }
}
