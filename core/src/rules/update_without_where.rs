//! `update-without-where`: an UPDATE without WHERE rewrites every row.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct UpdateWithoutWhere;

impl Rule for UpdateWithoutWhere {
    fn id(&self) -> &'static str {
        "update-without-where"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn description(&self) -> &'static str {
        "UPDATE without a WHERE clause rewrites every row, locking them all in one transaction."
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
        assert_flags("update-without-where", Dialect::Postgres, "UPDATE users SET active = true;");
        assert_ok("update-without-where", Dialect::Postgres, "UPDATE users SET active = true WHERE id < 1000;");
    }
}
