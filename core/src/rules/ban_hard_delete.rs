//! `ban-hard-delete` (zero-delete policy): rows are never deleted, only marked deleted.

use sqlparser::ast::Statement;

use super::{Policy, Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanHardDelete;

impl Rule for BanHardDelete {
    fn id(&self) -> &'static str {
        "ban-hard-delete"
    }
    fn severity(&self) -> Severity {
        Severity::High
    }
    fn description(&self) -> &'static str {
        "Under the zero-delete policy, DELETE is forbidden: mark rows with deleted_at / is_active instead."
    }
    fn policy(&self) -> Option<Policy> {
        Some(Policy::ZeroDelete)
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        match ast {
            Statement::Delete(_) => vec![Violation::new(
                "hard DELETE violates the zero-delete policy",
                "UPDATE ... SET deleted_at = now(), is_active = false WHERE ... instead of deleting.",
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;
    use crate::rules::RuleConfig;

    #[test]
    fn flags_deletes_only_under_the_policy() {
        assert_flags("ban-hard-delete", Dialect::Postgres, "DELETE FROM users WHERE id = 1;");
        let off = findings(Dialect::Postgres, &RuleConfig::default(), "DELETE FROM users WHERE id = 1;");
        assert!(off.iter().all(|f| f.rule != "ban-hard-delete"));
    }
}
