//! `ban-alter-domain-with-add-constraint` (PostgreSQL): aLTER DOMAIN ... ADD CONSTRAINT checks every column of the domain while holding locks.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanAlterDomainWithAddConstraint;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "ALTER DOMAIN ... ADD CONSTRAINT checks every column of the domain while holding locks.",
    details: "Adding a constraint to a domain validates it against every column, in every table, that uses the domain, holding locks that block writes to them for the whole scan. NOT VALID skips the scan, but VALIDATE CONSTRAINT on a domain still locks every table using it.",
    bad: "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE ~ '@');",
    good: "-- Add the CHECK to each table's column instead, NOT VALID, then VALIDATE CONSTRAINT per table.",
};

impl Rule for BanAlterDomainWithAddConstraint {
    fn id(&self) -> FindingId {
        FindingId::BanAlterDomainWithAddConstraint
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::AlterDomainStmt(d) = tree else { return Vec::new() };
        if d.subtype != "C" {
            return Vec::new();
        }
        let name: Vec<&str> = d.type_name.iter().filter_map(pg::string).collect();
        vec![Violation::new(
            format!("adds a constraint to domain {}: every column using it, in every table, is checked under lock", name.join(".")),
            "Add the CHECK to the tables' columns with NOT VALID, then VALIDATE CONSTRAINT per table.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(
            FindingId::BanAlterDomainWithAddConstraint,
            Dialect::Postgres,
            "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE ~ '@');",
        );
        assert_ok(FindingId::BanAlterDomainWithAddConstraint, Dialect::Postgres, "ALTER DOMAIN email SET DEFAULT '';");
    }
}
