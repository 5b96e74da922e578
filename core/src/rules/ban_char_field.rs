//! `ban-char-field` (PostgreSQL): char(n) pads values with spaces and is never faster than text.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanCharField;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "char(n) pads values with spaces and is never faster than text.",
    details: "PostgreSQL's char(n) stores and compares blank-padded values, so 'a' and 'a  ' are equal and trailing spaces vanish from what clients read; it is no faster than text or varchar and its length limit needs a rewrite to change.",
    bad: "CREATE TABLE accounts (code char(8) NOT NULL);",
    good: "CREATE TABLE accounts (code text NOT NULL CHECK (char_length(code) = 8));",
};

impl Rule for BanCharField {
    fn id(&self) -> FindingId {
        FindingId::BanCharField
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        pg::columns_of_type(tree, &["bpchar"], false)
            .into_iter()
            .map(|(table, c, t)| {
                Violation::new(
                    format!("column {}.{} is char(n) ({}): values are blank-padded", table, c.colname, t),
                    "Use text (with a CHECK on char_length if the length matters).",
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
        assert_flags(FindingId::BanCharField, Dialect::Postgres, "CREATE TABLE accounts (id bigint, code char(8));");
        assert_ok(FindingId::BanCharField, Dialect::Postgres, "CREATE TABLE accounts (id bigint, code text);");
    }
}
