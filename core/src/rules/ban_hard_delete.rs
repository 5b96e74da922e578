//! `ban-hard-delete` (zero-delete policy): rows are never deleted, only marked deleted.

use sqlparser::ast::Statement;

use super::{Policy, Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanHardDelete;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: Some(Policy::ZeroDelete),
    summary: "Under the zero-delete policy, DELETE is forbidden: mark rows with deleted_at / is_active instead.",
    details: "Under the zero-delete policy (enabled with `[policy] zero_delete = true` or `--zero-delete`), rows are never removed: history and audit depend on it. A DELETE statement in a migration breaks the policy.",
    bad: "DELETE FROM customers WHERE id = 42;",
    good: "UPDATE customers SET deleted_at = now() WHERE id = 42;",
};

impl Rule for BanHardDelete {
    fn id(&self) -> FindingId {
        FindingId::BanHardDelete
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::BanHardDelete, Dialect::Postgres, "DELETE FROM users WHERE id = 1;");
        let off = findings(Dialect::Postgres, &RuleConfig::default(), "DELETE FROM users WHERE id = 1;");
        assert!(off.iter().all(|f| f.rule != FindingId::BanHardDelete));
    }
}
