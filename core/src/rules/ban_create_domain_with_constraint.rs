//! `ban-create-domain-with-constraint` (PostgreSQL): a domain's CHECK constraint is hard to change later: every column of the domain is re-checked under lock.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanCreateDomainWithConstraint;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "A domain's CHECK constraint is hard to change later: every column of the domain is re-checked under lock.",
    details: "Changing or adding a domain constraint later scans every column of every table that uses the domain while holding locks on them, and domain constraints are not enforced on all paths (composite types, some casts). A CHECK on each column is easier to evolve (NOT VALID + VALIDATE).",
    bad: "CREATE DOMAIN email AS text CHECK (VALUE ~ '@');",
    good: "CREATE DOMAIN email AS text;
ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email ~ '@') NOT VALID;",
};

impl Rule for BanCreateDomainWithConstraint {
    fn id(&self) -> FindingId {
        FindingId::BanCreateDomainWithConstraint
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::CreateDomainStmt(d) = tree else { return Vec::new() };
        let checks = d.constraints.iter().filter_map(|n| pg::constraint(Some(n))).any(|k| pg::constraint_is(k, ConstrType::ConstrCheck));
        if !checks {
            return Vec::new();
        }
        let name: Vec<&str> = d.domainname.iter().filter_map(pg::string).collect();
        vec![Violation::new(
            format!(
                "creates domain {} with a CHECK constraint: changing it later re-checks every column that uses it under lock",
                name.join(".")
            ),
            "Put the CHECK on the columns (ADD CONSTRAINT ... NOT VALID, then VALIDATE) and keep the domain plain.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanCreateDomainWithConstraint, Dialect::Postgres, "CREATE DOMAIN email AS text CHECK (VALUE ~ '@');");
        assert_ok(FindingId::BanCreateDomainWithConstraint, Dialect::Postgres, "CREATE DOMAIN email AS text NOT NULL;");
    }
}
