//! `mysql-modify-drops-attributes` (MySQL/MariaDB): MODIFY/CHANGE redefine the whole column;
//! whatever the new definition leaves out (NOT NULL, DEFAULT) is silently dropped.

use sqlparser::ast::{AlterTableOperation, ColumnOption, Statement};

use super::ast::base_name;
use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlModifyDropsAttributes;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::High,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "MODIFY/CHANGE COLUMN replaces the column definition: NOT NULL or DEFAULT left out of it are silently removed.",
    details: "MODIFY and CHANGE COLUMN replace the whole column definition: NOT NULL, DEFAULT, AUTO_INCREMENT or COMMENT left out of the new definition are silently removed. Changing only a type this way turns a NOT NULL column nullable.",
    bad: r#"-- status was: VARCHAR(20) NOT NULL DEFAULT 'new'
ALTER TABLE orders MODIFY status VARCHAR(40);"#,
    good: "ALTER TABLE orders MODIFY status VARCHAR(40) NOT NULL DEFAULT 'new';",
};

impl Rule for MysqlModifyDropsAttributes {
    fn id(&self) -> FindingId {
        FindingId::MysqlModifyDropsAttributes
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        let existing = ctx.schema.and_then(|s| s.table(&base_name(table)));
        let mut out = Vec::new();
        for op in ops {
            let (old_name, options) = match op {
                AlterTableOperation::ModifyColumn { col_name, options, .. } => (col_name, options),
                AlterTableOperation::ChangeColumn { old_name, options, .. } => (old_name, options),
                _ => continue,
            };
            let Some(column) = existing.and_then(|t| t.column(&old_name.value)) else { continue };
            let keeps_not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
            let keeps_default = options.iter().any(|o| matches!(o, ColumnOption::Default(_)));
            if !column.nullable && !keeps_not_null {
                out.push(Violation::new(
                    format!("redefines {table}.{old_name} without NOT NULL: the column silently becomes nullable"),
                    "Restate the whole definition: type, NOT NULL, DEFAULT, COMMENT, character set.",
                ));
            }
            if column.default.is_some() && !keeps_default && !column.auto_increment {
                out.push(
                    Violation::new(
                        format!(
                            "redefines {table}.{old_name} without its DEFAULT ({}): inserts that omit it change behaviour",
                            column.default.as_deref().unwrap_or("")
                        ),
                        "Restate the whole definition: type, NOT NULL, DEFAULT, COMMENT, character set.",
                    )
                    .with_severity(Severity::Medium),
                );
            }
        }
        out
    }
}
