//! `prefer-identity` (PostgreSQL): serial columns are a sequence glued on by convention; identity columns are the SQL standard.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct PreferIdentity;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "serial columns are a sequence glued on by convention; identity columns are the SQL standard.",
    details: "serial/bigserial create a sequence owned by the column, with separate permissions and an easy-to-break default (a manual INSERT with an explicit id leaves the sequence behind). GENERATED ... AS IDENTITY ties the sequence to the column, refuses explicit ids with ALWAYS, and copies correctly with CREATE TABLE ... LIKE.",
    bad: "CREATE TABLE orders (id bigserial PRIMARY KEY);",
    good: "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
};

impl Rule for PreferIdentity {
    fn id(&self) -> FindingId {
        FindingId::PreferIdentity
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        pg::columns_of_type(tree, &["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"], false)
            .into_iter()
            .map(|(table, c, t)| {
                Violation::new(
                    format!("column {}.{} is {}: an identity column does the same, safely", table, c.colname, t),
                    "Use bigint GENERATED ALWAYS AS IDENTITY.",
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
        assert_flags(FindingId::PreferIdentity, Dialect::Postgres, "CREATE TABLE orders (id bigserial PRIMARY KEY);");
        assert_ok(
            FindingId::PreferIdentity,
            Dialect::Postgres,
            "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
        );
    }
}
