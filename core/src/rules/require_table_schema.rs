//! `require-table-schema` (PostgreSQL, opt-in): tables named without their schema land in
//! whatever schema `search_path` puts first.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Policy, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct RequireTableSchema;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: Some(Policy::OptIn),
    summary: "A table named without its schema is created or changed in whatever schema search_path puts first.",
    details: "CREATE TABLE users and ALTER TABLE users act on the first schema in the session's search_path, which differs between the migration tool, psql and the application role (and is a classic privilege-escalation vector when a writable schema comes first). Naming the schema makes the migration mean the same thing everywhere. Off unless enabled.",
    bad: "CREATE TABLE users (id bigint PRIMARY KEY);",
    good: "CREATE TABLE app.users (id bigint PRIMARY KEY);",
};

impl Rule for RequireTableSchema {
    fn id(&self) -> FindingId {
        FindingId::RequireTableSchema
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let relation = match tree {
            NodeEnum::CreateStmt(c) => c.relation.as_ref(),
            NodeEnum::AlterTableStmt(a) => a.relation.as_ref(),
            _ => None,
        };
        match relation {
            Some(r) if r.schemaname.is_empty() && r.relpersistence != "t" => vec![Violation::new(
                format!("table {} is named without a schema: it resolves through search_path", pg::relation(Some(r))),
                "Qualify the table with its schema (app.users).",
            )],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;
    use crate::rules::RuleConfig;

    #[test]
    fn flags_unqualified_tables_when_enabled() {
        let on = RuleConfig { enable: vec!["require-table-schema".into()], ..Default::default() };
        let hits =
            |sql: &str| findings(Dialect::Postgres, &on, sql).into_iter().filter(|f| f.rule == FindingId::RequireTableSchema).count();
        assert_eq!(hits("CREATE TABLE users (id bigint);\nALTER TABLE users ADD COLUMN a int;"), 2);
        assert_eq!(hits("CREATE TABLE app.users (id bigint);\nCREATE TEMP TABLE scratch (a int);"), 0);
    }
}
