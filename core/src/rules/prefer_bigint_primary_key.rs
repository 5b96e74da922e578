//! `prefer-bigint-primary-key` (PostgreSQL, MySQL): 32-bit auto-increment keys run out at
//! 2^31 rows, and widening them later rewrites the table and every referencing one.

use sqlparser::ast::{Statement, TableConstraint};

use super::ast::{is_primary_key, is_small_int, type_name};
use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct PreferBigintPrimaryKey;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(// SQLite's INTEGER PRIMARY KEY is already 64-bit.
        &[Dialect::Postgres, Dialect::Mysql]),
    policy: None,
    summary: "INT/SERIAL primary keys overflow at about 2.1 billion rows; changing them later rewrites the table.",
    details: "A 32-bit integer key runs out at about 2.1 billion values (sooner with sequence gaps); widening it later rewrites the table and every referencing table under exclusive locks.",
    bad: "CREATE TABLE events (id serial PRIMARY KEY, payload jsonb);",
    good: "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb);",
};

impl Rule for PreferBigintPrimaryKey {
    fn id(&self) -> FindingId {
        FindingId::PreferBigintPrimaryKey
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Statement::CreateTable(ct) = ast else { return Vec::new() };
        let pk_columns: Vec<String> = ct
            .constraints
            .iter()
            .filter_map(|c| match c {
                TableConstraint::PrimaryKey(pk) if pk.columns.len() == 1 => Some(pk.columns[0].column.expr.to_string()),
                _ => None,
            })
            .collect();
        ct.columns
            .iter()
            .filter(|c| is_primary_key(c) || pk_columns.iter().any(|p| p.eq_ignore_ascii_case(&c.name.value)))
            .filter(|c| is_small_int(&c.data_type))
            .map(|c| {
                Violation::new(
                    format!("primary key {}.{} is {}, which overflows at 2,147,483,647", ct.name, c.name, type_name(&c.data_type)),
                    "Use BIGINT (BIGSERIAL / BIGINT GENERATED ALWAYS AS IDENTITY) or UUID.",
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
    fn flags_small_integer_keys() {
        assert_flags(FindingId::PreferBigintPrimaryKey, Dialect::Postgres, "CREATE TABLE t (id serial PRIMARY KEY);");
        assert_flags(FindingId::PreferBigintPrimaryKey, Dialect::Mysql, "CREATE TABLE t (id INT AUTO_INCREMENT, PRIMARY KEY (id));");
        assert_ok(FindingId::PreferBigintPrimaryKey, Dialect::Postgres, "CREATE TABLE t (id bigserial PRIMARY KEY);");
        assert_ok(FindingId::PreferBigintPrimaryKey, Dialect::Sqlite, "CREATE TABLE t (id INTEGER PRIMARY KEY);");
    }
}
