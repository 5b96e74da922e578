//! `require-concurrent-refresh` (PostgreSQL): rEFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until it finishes.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentRefresh;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until it finishes.",
    details: "A plain refresh takes ACCESS EXCLUSIVE on the materialized view: every query that reads it waits for the whole refresh. CONCURRENTLY refreshes beside the old contents and swaps in the difference, so reads continue; it needs a unique index on the view.",
    bad: "REFRESH MATERIALIZED VIEW sales_summary;",
    good: "CREATE UNIQUE INDEX sales_summary_key ON sales_summary (day, region);
REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;",
};

impl Rule for RequireConcurrentRefresh {
    fn id(&self) -> FindingId {
        FindingId::RequireConcurrentRefresh
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn lock_scaled(&self) -> bool {
        true
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::RefreshMatViewStmt(r) = tree else { return Vec::new() };
        if r.concurrent || r.skip_data {
            return Vec::new();
        }
        vec![Violation::new(
            format!(
                "refreshes materialized view {} without CONCURRENTLY: every read of it waits until the refresh ends",
                pg::relation(r.relation.as_ref())
            ),
            "Give the view a unique index and use REFRESH MATERIALIZED VIEW CONCURRENTLY.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::RequireConcurrentRefresh, Dialect::Postgres, "REFRESH MATERIALIZED VIEW sales_summary;");
        assert_ok(FindingId::RequireConcurrentRefresh, Dialect::Postgres, "REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;");
    }
}
