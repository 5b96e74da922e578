//! `prefer-bigint-over-int` (PostgreSQL): integer columns overflow at 2,147,483,647; changing them to bigint later rewrites the table.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct PreferBigintOverInt;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "integer columns overflow at 2,147,483,647; changing them to bigint later rewrites the table.",
    details: "An int (int4, serial) id or counter that reaches 2^31 - 1 stops accepting rows; widening it to bigint is a full table rewrite under ACCESS EXCLUSIVE, at the moment the table is largest. bigint costs 4 bytes more per row.",
    bad: "CREATE TABLE events (id serial PRIMARY KEY, views integer);",
    good: "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, views bigint);",
};

impl Rule for PreferBigintOverInt {
    fn id(&self) -> FindingId {
        FindingId::PreferBigintOverInt
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        pg::columns_of_type(tree, &["int4", "int", "integer", "serial", "serial4"], false)
            .into_iter()
            .map(|(table, c, t)| {
                Violation::new(
                    format!("column {}.{} is {} (32-bit): it overflows at 2,147,483,647", table, c.colname, t),
                    "Use bigint (bigserial or bigint identity for ids).",
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
        assert_flags(FindingId::PreferBigintOverInt, Dialect::Postgres, "CREATE TABLE events (id bigint, views integer);");
        assert_ok(FindingId::PreferBigintOverInt, Dialect::Postgres, "CREATE TABLE events (id bigint, views bigint);");
    }
}
