//! `prefer-text-field` (PostgreSQL): varchar(n) limits need a table rewrite-level lock to raise; text with a CHECK does not.

use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct PreferTextField;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "varchar(n) limits need a table rewrite-level lock to raise; text with a CHECK does not.",
    details: "Raising a varchar(n) limit is cheap in recent PostgreSQL, but lowering it, or changing it on a column used by a view, needs ACCESS EXCLUSIVE and possibly a rewrite. text with a CHECK constraint on char_length can be changed with NOT VALID + VALIDATE, without blocking writes.",
    bad: "ALTER TABLE users ADD COLUMN nickname varchar(32);",
    good: "ALTER TABLE users ADD COLUMN nickname text;
ALTER TABLE users ADD CONSTRAINT nickname_length CHECK (char_length(nickname) <= 32) NOT VALID;",
};

impl Rule for PreferTextField {
    fn id(&self) -> FindingId {
        FindingId::PreferTextField
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        pg::columns_of_type(tree, &["varchar"], true)
            .into_iter()
            .map(|(table, c, t)| {
                Violation::new(
                    format!("column {}.{} is {}(n): changing the limit later takes a strong lock", table, c.colname, t),
                    "Use text, with a CHECK (char_length(...) <= n) constraint if the limit matters.",
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
        assert_flags(FindingId::PreferTextField, Dialect::Postgres, "CREATE TABLE users (id bigint, nickname varchar(32));");
        assert_ok(FindingId::PreferTextField, Dialect::Postgres, "CREATE TABLE users (id bigint, nickname text);");
    }
}
