//! `require-soft-delete-columns` (zero-delete policy): every new table carries the columns
//! that mark a row deleted.

use sqlparser::ast::Statement;

use super::{Policy, Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireSoftDeleteColumns;

impl Rule for RequireSoftDeleteColumns {
    fn id(&self) -> &'static str {
        "require-soft-delete-columns"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "Under the zero-delete policy, every table needs a soft-delete column (deleted_at / is_active)."
    }
    fn policy(&self) -> Option<Policy> {
        Some(Policy::ZeroDelete)
    }
    fn check(&self, ctx: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::CreateTable(ct) = ast else { return Vec::new() };
        let markers = ctx.config.soft_delete_markers();
        let has_marker = ct.columns.iter().any(|c| markers.iter().any(|m| m.eq_ignore_ascii_case(&c.name.value)));
        if has_marker || ct.temporary {
            return Vec::new();
        }
        vec![Violation::new(
            format!("table {} has no soft-delete column ({})", ct.name, markers.join(", ")),
            "Add deleted_at TIMESTAMP (NULL while live) and/or is_active BOOLEAN DEFAULT true.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_tables_without_soft_delete() {
        assert_flags("require-soft-delete-columns", Dialect::Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY);");
        assert_ok("require-soft-delete-columns", Dialect::Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY, deleted_at TEXT);");
    }
}
