//! `ban-truncate-cascade` (PostgreSQL): tRUNCATE ... CASCADE also empties every table that references the truncated one.

use pg_query::protobuf::DropBehavior;
use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanTruncateCascade;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "TRUNCATE ... CASCADE also empties every table that references the truncated one.",
    details: "With CASCADE, TRUNCATE empties every table with a foreign key to the named tables, and the tables referencing those, recursively: tables the migration never names lose all their rows, under ACCESS EXCLUSIVE locks.",
    bad: "TRUNCATE customers CASCADE;",
    good: "-- Name every table to empty, and let a foreign key stop the rest:
TRUNCATE customers, orders;",
};

impl Rule for BanTruncateCascade {
    fn id(&self) -> FindingId {
        FindingId::BanTruncateCascade
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::TruncateStmt(t) = tree else { return Vec::new() };
        if t.behavior != DropBehavior::DropCascade as i32 {
            return Vec::new();
        }
        let tables: Vec<String> = t
            .relations
            .iter()
            .filter_map(|n| match n.node.as_ref() {
                Some(NodeEnum::RangeVar(r)) => Some(pg::relation(Some(r))),
                _ => None,
            })
            .collect();
        vec![Violation::new(
            format!("truncates {} with CASCADE: every table that references it is emptied too", tables.join(", ")),
            "Name every table to empty explicitly (TRUNCATE a, b) and drop CASCADE.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanTruncateCascade, Dialect::Postgres, "TRUNCATE TABLE customers CASCADE;");
        assert_ok(FindingId::BanTruncateCascade, Dialect::Postgres, "TRUNCATE customers, orders;");
    }
}
