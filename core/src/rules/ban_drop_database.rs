//! `ban-drop-database` (PostgreSQL): dROP DATABASE deletes a whole database.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanDropDatabase;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "DROP DATABASE deletes a whole database.",
    details: "A migration runs against one database; dropping a database (this one or another) deletes every table, row and object in it, and cannot be rolled back (DROP DATABASE refuses to run inside a transaction).",
    bad: "DROP DATABASE analytics;",
    good: "-- Drop databases by hand, after a backup, outside the migration history.",
};

impl Rule for BanDropDatabase {
    fn id(&self) -> FindingId {
        FindingId::BanDropDatabase
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::DropdbStmt(drop) = tree else { return Vec::new() };
        vec![Violation::new(
            format!("drops database {} and everything in it", drop.dbname),
            "Remove it from the migration; drop databases by hand after a backup.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanDropDatabase, Dialect::Postgres, "DROP DATABASE IF EXISTS analytics WITH (FORCE);");
        assert_ok(FindingId::BanDropDatabase, Dialect::Postgres, "DROP TABLE analytics;");
    }
}
