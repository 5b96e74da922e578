//! `update-without-where`: an UPDATE without WHERE rewrites every row.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct UpdateWithoutWhere;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "UPDATE without a WHERE clause rewrites every row, locking them all in one transaction.",
    details: "UPDATE without a WHERE clause rewrites every row in one transaction: every row is locked until it commits, the table bloats (PostgreSQL writes a new version of each row), replicas lag, and an unintended value overwrites all data.",
    bad: "UPDATE customers SET tier = 'basic';",
    good: r#"-- Backfill in batches with a condition that makes progress:
UPDATE customers SET tier = 'basic' WHERE tier IS NULL AND id BETWEEN 1 AND 10000;"#,
};

impl Rule for UpdateWithoutWhere {
    fn id(&self) -> FindingId {
        FindingId::UpdateWithoutWhere
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        match ast {
            Statement::Update(update) if update.selection.is_none() && update.limit.is_none() => vec![Violation::new(
                "UPDATE without WHERE rewrites every row of the table",
                "Add a WHERE clause; backfill large tables in batches of a few thousand rows.",
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_unbounded_update() {
        assert_flags(FindingId::UpdateWithoutWhere, Dialect::Postgres, "UPDATE users SET active = true;");
        assert_ok(FindingId::UpdateWithoutWhere, Dialect::Postgres, "UPDATE users SET active = true WHERE id < 1000;");
    }
}
