//! `require-soft-delete-columns` (zero-delete policy): every new table carries the columns
//! that mark a row deleted.

use sqlparser::ast::Statement;

use super::{Policy, Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireSoftDeleteColumns;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: Some(Policy::ZeroDelete),
    summary: "Under the zero-delete policy, every table needs a soft-delete column (deleted_at / is_active).",
    details: "Under the zero-delete policy (enabled with `[policy] zero_delete = true`), every table needs a soft-delete marker (deleted_at, is_active or is_deleted by default; configurable) so rows can be retired without being removed.",
    bad: "CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL);",
    good: "CREATE TABLE coupons (id bigint PRIMARY KEY, code text NOT NULL, deleted_at timestamptz);",
};

impl Rule for RequireSoftDeleteColumns {
    fn id(&self) -> FindingId {
        FindingId::RequireSoftDeleteColumns
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::RequireSoftDeleteColumns, Dialect::Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY);");
        assert_ok(FindingId::RequireSoftDeleteColumns, Dialect::Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY, deleted_at TEXT);");
    }
}
