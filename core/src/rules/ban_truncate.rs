//! `ban-truncate`: TRUNCATE deletes every row, without a WHERE and without row triggers.

use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanTruncate;

impl Rule for BanTruncate {
    fn id(&self) -> &'static str {
        "ban-truncate"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn description(&self) -> &'static str {
        "TRUNCATE removes every row of a table, skips row triggers and takes an exclusive lock."
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
        assert_flags("ban-truncate", Dialect::Postgres, "TRUNCATE TABLE sessions;");
        assert_ok("ban-truncate", Dialect::Postgres, "DELETE FROM sessions WHERE id = 1;");
    }
}
