//! `ban-drop-not-null` (PostgreSQL): dROP NOT NULL lets NULLs into a column that readers assume is always set.

use pg_query::protobuf::AlterTableType;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanDropNotNull;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "DROP NOT NULL lets NULLs into a column that readers assume is always set.",
    details: "Code that reads the column (and other services, reports, ETL jobs) was written against a NOT NULL column; once NULLs can arrive it may crash or miscount. It is a breaking change for readers even though the statement itself is cheap.",
    bad: "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
    good: "-- Make every reader handle NULL first, deploy, then drop the constraint in a later migration.",
};

impl Rule for BanDropNotNull {
    fn id(&self) -> FindingId {
        FindingId::BanDropNotNull
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let Some((table, cmds)) = pg::alter_table(tree) else { return Vec::new() };
        cmds.into_iter()
            .filter(|c| pg::is(c, AlterTableType::AtDropNotNull))
            .map(|c| {
                Violation::new(
                    format!("makes {}.{} nullable: readers that assume a value break on the first NULL", pg::relation(Some(table)), c.name),
                    "Deploy readers that handle NULL first; drop NOT NULL in a later migration.",
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
        assert_flags(FindingId::BanDropNotNull, Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;");
        assert_ok(FindingId::BanDropNotNull, Dialect::Postgres, "ALTER TABLE users ALTER COLUMN email SET DEFAULT '';");
    }
}
