//! `delete-without-where`: a DELETE without WHERE empties the table.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct DeleteWithoutWhere;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "DELETE without a WHERE clause deletes every row of the table.",
    details: "DELETE without a WHERE clause deletes every row of the table, usually by accident (a condition lost in editing). On a large table it also holds row locks on everything for the whole transaction.",
    bad: "DELETE FROM sessions;",
    good: "DELETE FROM sessions WHERE expires_at < now() - interval '30 days';",
};

impl Rule for DeleteWithoutWhere {
    fn id(&self) -> FindingId {
        FindingId::DeleteWithoutWhere
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::DeleteWithoutWhere, Dialect::Sqlite, "DELETE FROM users;");
        assert_ok(FindingId::DeleteWithoutWhere, Dialect::Sqlite, "DELETE FROM users WHERE id = 3;");
    }
}
