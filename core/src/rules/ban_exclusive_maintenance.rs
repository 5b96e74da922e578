//! `ban-exclusive-maintenance` (PostgreSQL): vACUUM FULL, CLUSTER and SET TABLESPACE rewrite the whole table under ACCESS EXCLUSIVE.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct BanExclusiveMaintenance;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "VACUUM FULL, CLUSTER and SET TABLESPACE rewrite the whole table under ACCESS EXCLUSIVE.",
    details: "Each of these copies every row of the table (and rebuilds its indexes) while holding ACCESS EXCLUSIVE: no reads and no writes for as long as the copy takes, minutes to hours on a large table, and it needs free disk for a second copy. In a migration they run at deploy time, unattended.",
    bad: "VACUUM FULL orders;",
    good: "-- Plain VACUUM (no lock on reads or writes), or an online tool such as pg_repack, run by hand.
VACUUM (ANALYZE) orders;",
};

impl Rule for BanExclusiveMaintenance {
    fn id(&self) -> FindingId {
        FindingId::BanExclusiveMaintenance
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn lock_scaled(&self) -> bool {
        true
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, ctx: &RuleContext, stmt: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let what = match tree {
            NodeEnum::VacuumStmt(v) if v.is_vacuumcmd && pg::has_option(&v.options, "full") => Some("VACUUM FULL"),
            NodeEnum::ClusterStmt(_) => Some("CLUSTER"),
            _ => pg::alter_table(tree)
                .and_then(|(_, cmds)| cmds.into_iter().any(|c| pg::is(c, AlterTableType::AtSetTableSpace)).then_some("SET TABLESPACE")),
        };
        let Some(what) = what else { return Vec::new() };
        if let Some((table, _)) = pg::alter_table(tree) {
            if ctx.created_in_script_before(&pg::base(Some(table)), stmt.index) {
                return Vec::new();
            }
        }
        vec![Violation::new(
            format!("{what} rewrites the table under ACCESS EXCLUSIVE: no reads or writes until the copy ends"),
            "Use plain VACUUM, or pg_repack run by hand outside the migration.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::BanExclusiveMaintenance, Dialect::Postgres, "VACUUM FULL orders;");
        assert_flags(FindingId::BanExclusiveMaintenance, Dialect::Postgres, "CLUSTER orders USING orders_pkey;");
        assert_flags(FindingId::BanExclusiveMaintenance, Dialect::Postgres, "ALTER TABLE orders SET TABLESPACE fast;");
        assert_ok(FindingId::BanExclusiveMaintenance, Dialect::Postgres, "VACUUM (ANALYZE) orders;");
    }
}
