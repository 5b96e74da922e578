//! `ban-truncate`: TRUNCATE deletes every row, without a WHERE and without row triggers.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanTruncate;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "TRUNCATE removes every row of a table, skips row triggers and takes an exclusive lock.",
    details: "TRUNCATE removes every row of a table in one step, skips row-level triggers (so audit trails miss it) and takes an ACCESS EXCLUSIVE lock on PostgreSQL (a metadata lock on MySQL) that blocks all traffic on the table while it waits and runs.",
    bad: "TRUNCATE TABLE order_items;",
    good: r#"-- Archive, then delete in bounded batches:
DELETE FROM order_items WHERE id IN (SELECT id FROM order_items WHERE created_at < '2020-01-01' LIMIT 5000);"#,
};

impl Rule for BanTruncate {
    fn id(&self) -> FindingId {
        FindingId::BanTruncate
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::Truncate(truncate) = ast else { return Vec::new() };
        truncate
            .table_names
            .iter()
            .map(|t| {
                Violation::new(
                    format!("truncates table {} (every row is deleted)", t.name),
                    "Delete in bounded batches with a WHERE clause, or archive the rows first.",
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_truncate() {
        assert_flags(FindingId::BanTruncate, Dialect::Postgres, "TRUNCATE TABLE sessions;");
        assert_ok(FindingId::BanTruncate, Dialect::Postgres, "DELETE FROM sessions WHERE id = 1;");
    }
}
