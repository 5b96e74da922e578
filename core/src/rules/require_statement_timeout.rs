//! `require-statement-timeout` (PostgreSQL): without statement_timeout, a locking statement that runs long holds its lock for as long as it runs.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use std::sync::LazyLock;

use crate::sql::grammar::postgres::{Kind, Tree};
use crate::sql::ParsedStatement;

pub struct RequireStatementTimeout;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "Without statement_timeout, a locking statement that runs long holds its lock for as long as it runs.",
    details: "lock_timeout bounds the wait for a lock; statement_timeout bounds how long the statement then holds it. An index build, a rewrite or a validation that takes far longer than expected keeps ACCESS EXCLUSIVE (or SHARE) the whole time; a statement_timeout turns that into a failed, retryable migration.",
    bad: "SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);",
    good: "SET lock_timeout = '2s';
SET statement_timeout = '5min';
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);",
};

impl Rule for RequireStatementTimeout {
    fn id(&self) -> FindingId {
        FindingId::RequireStatementTimeout
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, ctx: &RuleContext, stmt: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        if !locks_existing_table(ctx, stmt, tree) {
            return Vec::new();
        }
        // Once per script: at the first statement that needs it. (This check stops at the
        // first earlier locking statement, so a long script costs linear time, not quadratic.)
        let earlier = ctx
            .script
            .statements
            .iter()
            .take_while(|s| s.index < stmt.index)
            .any(|s| s.pg_tree.as_ref().and_then(|t| t.decode_if(&*LOCKING)).is_some_and(|t| locks_existing_table(ctx, s, &t)));
        if earlier || timeout_set_before(ctx, stmt) {
            return Vec::new();
        }
        vec![Violation::new(
            "locks an existing table with no statement_timeout: if it runs long, it holds the lock as long as it runs",
            "Start the migration with SET statement_timeout = '...' sized to the expected duration.",
        )]
    }
}

/// The kinds of statement [`locks_existing_table`] may be true of.
static LOCKING: LazyLock<[Kind; 4]> = LazyLock::new(|| {
    [
        Kind::of(NodeEnum::IndexStmt(Default::default())),
        Kind::of(NodeEnum::AlterTableStmt(Default::default())),
        Kind::of(NodeEnum::ClusterStmt(Default::default())),
        Kind::of(NodeEnum::ReindexStmt(Default::default())),
    ]
});
static VARIABLE_SET: LazyLock<Kind> = LazyLock::new(|| Kind::of(NodeEnum::VariableSetStmt(Default::default())));

/// A statement that takes a strong lock on a table that existed before the script.
fn locks_existing_table(ctx: &RuleContext, stmt: &ParsedStatement, tree: &Tree) -> bool {
    let table = match tree {
        NodeEnum::IndexStmt(i) if !i.concurrent => pg::base(i.relation.as_ref()),
        NodeEnum::AlterTableStmt(a) => pg::base(a.relation.as_ref()),
        NodeEnum::ClusterStmt(c) => pg::base(c.relation.as_ref()),
        NodeEnum::ReindexStmt(r) if !pg::has_option(&r.params, "concurrently") => pg::base(r.relation.as_ref()),
        _ => return false,
    };
    !table.is_empty() && !ctx.created_in_script_before(&table, stmt.index)
}

fn timeout_set_before(ctx: &RuleContext, stmt: &ParsedStatement) -> bool {
    ctx.script.statements.iter().take_while(|s| s.index < stmt.index).any(|s| {
        let tree = s.pg_tree.as_ref().and_then(|t| t.decode_if(&[*VARIABLE_SET]));
        matches!(tree, Some(NodeEnum::VariableSetStmt(v)) if v.name.eq_ignore_ascii_case("statement_timeout"))
    })
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::RequireStatementTimeout, Dialect::Postgres, "ALTER TABLE orders ADD COLUMN a int;");
        assert_ok(
            FindingId::RequireStatementTimeout,
            Dialect::Postgres,
            "SET statement_timeout = '1min';\nALTER TABLE orders ADD COLUMN a int;",
        );
        assert_ok(FindingId::RequireStatementTimeout, Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;");
    }
}
