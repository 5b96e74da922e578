//! `adding-foreign-key-constraint` (PostgreSQL): a column added with REFERENCES validates the foreign key at once, locking both tables.

use pg_query::protobuf::ConstrType;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct AddingForeignKeyConstraint;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "A column added with REFERENCES validates the foreign key at once, locking both tables.",
    details: "ADD COLUMN ... REFERENCES other(id) adds a validated foreign key: it takes SHARE ROW EXCLUSIVE on both tables, blocking their writes while the constraint is set up, and, unlike ADD CONSTRAINT, cannot be written NOT VALID. (ADD CONSTRAINT ... FOREIGN KEY without NOT VALID is `constraint-missing-not-valid`.)",
    bad: "ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);",
    good: "ALTER TABLE orders ADD COLUMN coupon_id bigint;
ALTER TABLE orders ADD CONSTRAINT orders_coupon_fk FOREIGN KEY (coupon_id) REFERENCES coupons (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_coupon_fk;",
};

impl Rule for AddingForeignKeyConstraint {
    fn id(&self) -> FindingId {
        FindingId::AddingForeignKeyConstraint
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
        let Some((table, _)) = pg::alter_table(tree) else { return Vec::new() };
        if ctx.created_in_script_before(&pg::base(Some(table)), stmt.index) {
            return Vec::new();
        }
        pg::column_defs(tree)
            .into_iter()
            .filter_map(|(table, c, _)| {
                let fk = pg::column_constraints(c).find(|k| pg::constraint_is(k, ConstrType::ConstrForeign))?;
                Some(Violation::new(
                    format!("adds column {table}.{} with a foreign key to {}: both tables are locked against writes while it is set up", c.colname, pg::relation(fk.pktable.as_ref())),
                    "Add the column without REFERENCES, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID and VALIDATE CONSTRAINT separately.",
                ))
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
        assert_flags(
            FindingId::AddingForeignKeyConstraint,
            Dialect::Postgres,
            "ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);",
        );
        assert_ok(FindingId::AddingForeignKeyConstraint, Dialect::Postgres, "ALTER TABLE orders ADD COLUMN coupon_id bigint;");
        assert_ok(
            FindingId::AddingForeignKeyConstraint,
            Dialect::Postgres,
            "CREATE TABLE orders (id bigint);\nALTER TABLE orders ADD COLUMN c bigint REFERENCES coupons (id);",
        );
    }
}
