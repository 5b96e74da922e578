//! `require-lock-timeout` (PostgreSQL): DDL that queues for an ACCESS EXCLUSIVE lock behind a
//! long query blocks every other query on the table while it waits; a lock_timeout bounds that.

use sqlparser::ast::Statement;

use super::ast::{alter_table, base_name};
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct RequireLockTimeout;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "Without lock_timeout, DDL waiting for its lock blocks all traffic on the table behind it.",
    details: "DDL that needs a strong lock first waits behind every running query on the table, and while it waits every new query queues behind it: a long report can take the whole table down. A short lock_timeout makes the migration fail fast (and be retried) instead.",
    bad: "ALTER TABLE orders ADD COLUMN note text;",
    good: r#"SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;"#,
};

/// The existing table a statement locks exclusively, if any.
fn locked_table(ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Option<String> {
    let table = match ast {
        Statement::CreateIndex(index) if !index.concurrently => base_name(&index.table_name),
        Statement::Truncate(truncate) => base_name(&truncate.table_names.first()?.name),
        _ => base_name(alter_table(ast)?.0),
    };
    (!ctx.created_in_script_before(&table, stmt.index)).then_some(table)
}

impl Rule for RequireLockTimeout {
    fn id(&self) -> FindingId {
        FindingId::RequireLockTimeout
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        if ctx.lock_timeout_set_before(stmt.index) {
            return Vec::new();
        }
        let Some(table) = locked_table(ctx, stmt, ast) else { return Vec::new() };
        // Report once per script: at the first statement that needs the timeout.
        let earlier = ctx.script.parsed().take_while(|(s, _)| s.index < stmt.index).any(|(s, a)| locked_table(ctx, s, a).is_some());
        if earlier {
            return Vec::new();
        }
        vec![Violation::new(
            format!("locks table {table} without a lock_timeout: while it waits, every query on {table} queues behind it"),
            "Start the migration with SET lock_timeout = '2s'; (and retry on timeout).",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_first_locking_statement_only() {
        let f = assert_flags(
            FindingId::RequireLockTimeout,
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statement, Some(1));
        assert_ok(FindingId::RequireLockTimeout, Dialect::Postgres, "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN a int;");
        assert_ok(FindingId::RequireLockTimeout, Dialect::Postgres, "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;");
    }
}
