//! `mysql-foreign-key-large-table` (MySQL/MariaDB): with foreign_key_checks on, adding a
//! foreign key needs ALGORITHM=COPY: the table is copied and every row checked, writes blocked.

use sqlparser::ast::{AlterTableOperation, Statement, TableConstraint};

use super::ast::base_name;
use super::mysql_alter_copies_table::LARGE_TABLE_ROWS;
use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlForeignKeyLargeTable;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "Adding a foreign key with foreign_key_checks on copies the table (ALGORITHM=COPY); on a large table that blocks writes for a long time.",
    details: "Adding a foreign key with foreign_key_checks on makes MySQL/MariaDB copy the table (ALGORITHM=COPY) to validate it, blocking writes for the duration; on a large table that is minutes to hours.",
    bad: "ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);",
    good: r#"-- Check for orphans first, then add the key in place:
SET foreign_key_checks = 0;
ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id), ALGORITHM=INPLACE;
SET foreign_key_checks = 1;"#,
};

impl Rule for MysqlForeignKeyLargeTable {
    fn id(&self) -> FindingId {
        FindingId::MysqlForeignKeyLargeTable
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        let rows = ctx.schema.and_then(|s| s.table(&base_name(table))).and_then(|t| t.row_estimate);
        ops.iter()
            .filter(|op| matches!(op, AlterTableOperation::AddConstraint { constraint: TableConstraint::ForeignKey { .. }, .. }))
            .map(|_| {
                let size = rows.map(|r| format!(" (~{r} rows)")).unwrap_or_default();
                let v = Violation::new(
                    format!("adds a foreign key to {table}{size}: with foreign_key_checks on, MySQL copies the table and checks every row while writes wait"),
                    "Clean orphans first, then add the key with SET foreign_key_checks=0 and ALGORITHM=INPLACE (no copy, no check), or use an online schema change tool.",
                );
                match rows {
                    Some(r) if r >= LARGE_TABLE_ROWS => v.with_severity(Severity::High),
                    _ => v,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_foreign_keys_on_existing_tables() {
        assert_flags(
            FindingId::MysqlForeignKeyLargeTable,
            Dialect::Mysql,
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
        );
        assert_ok(
            FindingId::MysqlForeignKeyLargeTable,
            Dialect::Mysql,
            "CREATE TABLE t (id INT PRIMARY KEY);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES customers (id);",
        );
    }
}
