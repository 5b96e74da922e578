//! `prefer-robust-stmts` (PostgreSQL, opt-in): statements outside a transaction that fail when
//! the migration is re-run after failing half way.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Policy, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct PreferRobustStmts;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: Some(Policy::OptIn),
    summary: "Outside a transaction, a statement without IF [NOT] EXISTS makes a half-applied migration fail when re-run.",
    details: "A migration that fails part way and does not run in a transaction (CREATE INDEX CONCURRENTLY cannot) leaves the statements before the failure applied. Re-running it then fails at the first CREATE that already succeeded. IF NOT EXISTS / IF EXISTS make each statement safe to repeat. Off unless enabled: inside a transaction the rollback already makes re-runs safe.",
    bad: "CREATE INDEX CONCURRENTLY users_email ON users (email);",
    good: "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);",
};

impl Rule for PreferRobustStmts {
    fn id(&self) -> FindingId {
        FindingId::PreferRobustStmts
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, ctx: &RuleContext, stmt: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        if stmt.transactional == Some(true) || ctx.transaction_open_before(stmt.index) {
            return Vec::new();
        }
        let missing = match tree {
            NodeEnum::CreateStmt(c) if !c.if_not_exists => Some("CREATE TABLE without IF NOT EXISTS"),
            NodeEnum::IndexStmt(i) if !i.if_not_exists => Some("CREATE INDEX without IF NOT EXISTS"),
            NodeEnum::DropStmt(d) if !d.missing_ok => Some("DROP without IF EXISTS"),
            _ => pg::alter_table(tree).and_then(|(_, cmds)| {
                cmds.into_iter().find_map(|c| match () {
                    _ if pg::is(c, AlterTableType::AtAddColumn) && !c.missing_ok => Some("ADD COLUMN without IF NOT EXISTS"),
                    _ if pg::is(c, AlterTableType::AtDropColumn) && !c.missing_ok => Some("DROP COLUMN without IF EXISTS"),
                    _ => None,
                })
            }),
        };
        missing
            .map(|what| {
                Violation::new(
                    format!("{what}, outside a transaction: if the migration fails later on, re-running it fails here"),
                    "Add IF NOT EXISTS / IF EXISTS so the statement can be repeated.",
                )
            })
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;
    use crate::rules::RuleConfig;

    #[test]
    fn flags_unrepeatable_statements_only_when_enabled_and_outside_transactions() {
        let sql = "CREATE INDEX CONCURRENTLY users_email ON users (email);";
        let on = RuleConfig { enable: vec!["prefer-robust-stmts".into()], ..Default::default() };
        let found: Vec<_> = findings(Dialect::Postgres, &on, sql).into_iter().filter(|f| f.rule == FindingId::PreferRobustStmts).collect();
        assert_eq!(found.len(), 1);
        assert!(findings(Dialect::Postgres, &RuleConfig::default(), sql).iter().all(|f| f.rule != FindingId::PreferRobustStmts), "opt-in");
        let robust =
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\nALTER TABLE users ADD COLUMN IF NOT EXISTS a int;";
        assert!(findings(Dialect::Postgres, &on, robust).iter().all(|f| f.rule != FindingId::PreferRobustStmts));
        let in_tx = "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;";
        assert!(findings(Dialect::Postgres, &on, in_tx).iter().all(|f| f.rule != FindingId::PreferRobustStmts));
    }
}
