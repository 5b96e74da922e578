//! `adding-serial-primary-key-field` (PostgreSQL): adding a primary key to an existing table builds its index under ACCESS EXCLUSIVE.

use pg_query::protobuf::{AlterTableType, ConstrType};
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct AddingSerialPrimaryKeyField;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "Adding a primary key to an existing table builds its index under ACCESS EXCLUSIVE.",
    details: "ALTER TABLE ... ADD PRIMARY KEY (or ADD COLUMN ... PRIMARY KEY / serial PRIMARY KEY) builds the unique index while holding ACCESS EXCLUSIVE: no reads or writes for the whole build, and a serial column also rewrites the table to fill it.",
    bad: "ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;",
    good: "CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;",
};

impl Rule for AddingSerialPrimaryKeyField {
    fn id(&self) -> FindingId {
        FindingId::AddingSerialPrimaryKeyField
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
        let Some((table, cmds)) = pg::alter_table(tree) else { return Vec::new() };
        let name = pg::relation(Some(table));
        if ctx.created_in_script_before(&pg::base(Some(table)), stmt.index) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for c in cmds {
            let by_constraint = pg::is(c, AlterTableType::AtAddConstraint)
                && pg::constraint(c.def.as_deref())
                    .is_some_and(|k| pg::constraint_is(k, ConstrType::ConstrPrimary) && k.indexname.is_empty());
            let by_column = pg::is(c, AlterTableType::AtAddColumn)
                && pg::column_def(c.def.as_deref())
                    .is_some_and(|col| pg::column_constraints(col).any(|k| pg::constraint_is(k, ConstrType::ConstrPrimary)));
            if by_constraint || by_column {
                out.push(Violation::new(
                    format!("adds a primary key to existing table {name}: its index is built under ACCESS EXCLUSIVE"),
                    "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.",
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::AddingSerialPrimaryKeyField, Dialect::Postgres, "ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;");
        assert_flags(FindingId::AddingSerialPrimaryKeyField, Dialect::Postgres, "ALTER TABLE events ADD PRIMARY KEY (id);");
        assert_ok(
            FindingId::AddingSerialPrimaryKeyField,
            Dialect::Postgres,
            "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;",
        );
        assert_ok(
            FindingId::AddingSerialPrimaryKeyField,
            Dialect::Postgres,
            "CREATE TABLE events (a int);\nALTER TABLE events ADD PRIMARY KEY (a);",
        );
    }
}
