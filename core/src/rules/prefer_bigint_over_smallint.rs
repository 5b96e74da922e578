//! `prefer-bigint-over-smallint` (PostgreSQL): smallint columns overflow at 32,767; changing them later rewrites the table.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct PreferBigintOverSmallint;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "smallint columns overflow at 32,767; changing them later rewrites the table.",
    details: "A smallint (int2, smallserial) column holds at most 32,767; widening it later is a full table rewrite under ACCESS EXCLUSIVE. The space saved rarely matters next to row overhead and alignment.",
    bad: "CREATE TABLE ratings (id bigint, stars smallint);",
    good: "CREATE TABLE ratings (id bigint, stars bigint CHECK (stars BETWEEN 1 AND 5));",
};

impl Rule for PreferBigintOverSmallint {
    fn id(&self) -> FindingId {
        FindingId::PreferBigintOverSmallint
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        pg::columns_of_type(tree, &["int2", "smallint", "smallserial", "serial2"], false)
            .into_iter()
            .map(|(table, c, t)| {
                Violation::new(
                    format!("column {}.{} is {} (16-bit): it overflows at 32,767", table, c.colname, t),
                    "Use bigint (or integer with a CHECK if the range is truly small).",
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
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::PreferBigintOverSmallint, Dialect::Postgres, "CREATE TABLE ratings (id bigint, stars smallint);");
        assert_ok(FindingId::PreferBigintOverSmallint, Dialect::Postgres, "CREATE TABLE ratings (id bigint, stars bigint);");
    }
}
