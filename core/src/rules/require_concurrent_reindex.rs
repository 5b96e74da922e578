//! `require-concurrent-reindex` (PostgreSQL): rEINDEX without CONCURRENTLY blocks writes to the table (and reads that use the index) for the whole rebuild.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct RequireConcurrentReindex;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "REINDEX without CONCURRENTLY blocks writes to the table (and reads that use the index) for the whole rebuild.",
    details: "REINDEX takes a SHARE lock on the table (no writes) and ACCESS EXCLUSIVE on the index (no reads through it) while it rebuilds. REINDEX ... CONCURRENTLY (PostgreSQL 12+) builds a new index beside the old one and swaps them, blocking neither; it cannot run inside a transaction block.",
    bad: "REINDEX INDEX orders_status_idx;",
    good: "REINDEX INDEX CONCURRENTLY orders_status_idx;",
};

impl Rule for RequireConcurrentReindex {
    fn id(&self) -> FindingId {
        FindingId::RequireConcurrentReindex
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
        let NodeEnum::ReindexStmt(r) = tree else { return Vec::new() };
        if pg::has_option(&r.params, "concurrently") {
            return Vec::new();
        }
        let what = if r.relation.is_some() { pg::relation(r.relation.as_ref()) } else { r.name.clone() };
        let what = if what.is_empty() { "the database's indexes".to_string() } else { what };
        vec![Violation::new(
            format!("reindexes {what} without CONCURRENTLY: writes are blocked for the whole rebuild"),
            "Use REINDEX ... CONCURRENTLY, outside a transaction block.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::RequireConcurrentReindex, Dialect::Postgres, "REINDEX TABLE orders;");
        assert_ok(FindingId::RequireConcurrentReindex, Dialect::Postgres, "REINDEX INDEX CONCURRENTLY orders_status_idx;");
    }
}
