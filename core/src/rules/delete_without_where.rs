//! `delete-without-where`: a DELETE without WHERE empties the table.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct DeleteWithoutWhere;

impl Rule for DeleteWithoutWhere {
    fn id(&self) -> &'static str {
        "delete-without-where"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn description(&self) -> &'static str {
        "DELETE without a WHERE clause deletes every row of the table."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        match ast {
            Statement::Delete(delete) if delete.selection.is_none() && delete.limit.is_none() => {
                vec![Violation::new(
                    "DELETE without WHERE deletes every row of the table",
                    "Add a WHERE clause that selects exactly the rows to remove (and batch large deletes).",
                )]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_unbounded_delete() {
        assert_flags("delete-without-where", Dialect::Sqlite, "DELETE FROM users;");
        assert_ok("delete-without-where", Dialect::Sqlite, "DELETE FROM users WHERE id = 3;");
    }
}
