//! `mysql-charset-change` (MySQL/MariaDB): converting a table or column to another character
//! set rebuilds the table, can change comparisons and sorting, and can overflow index limits.

use sqlparser::ast::{AlterTableOperation, ColumnOption, Statement};

use super::{Rule, RuleContext, Violation};
use crate::dialect::Dialect;
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct MysqlCharsetChange;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(&[Dialect::Mysql]),
    policy: None,
    summary: "Changing a table's or column's character set or collation rebuilds the table and changes how values compare and sort.",
    details: "Changing a table's or column's character set or collation rebuilds the table (and its indexes), and changes how values compare, sort and which ones count as duplicates: a unique index can start rejecting rows that were distinct before.",
    bad: "ALTER TABLE customers CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;",
    good: r#"-- Check duplicates under the new collation first, then convert in a maintenance window
-- or with an online schema change tool."#,
};

const FIX: &str = "Convert in a planned window with an online schema change tool, check index prefix lengths (utf8mb4 uses up to 4 bytes per character) and re-test queries that compare or sort these columns.";

impl Rule for MysqlCharsetChange {
    fn id(&self) -> FindingId {
        FindingId::MysqlCharsetChange
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, ctx: &RuleContext, stmt: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let Some((table, ops)) = ctx.alter_of_existing_table(stmt, ast) else { return Vec::new() };
        ops.iter()
            .filter_map(|op| match op {
                AlterTableOperation::ModifyColumn { col_name, options, .. }
                | AlterTableOperation::ChangeColumn { new_name: col_name, options, .. } => {
                    options.iter().any(|o| matches!(o, ColumnOption::CharacterSet(_) | ColumnOption::Collation(_))).then_some(col_name)
                }
                _ => None,
            })
            .map(|col| Violation::new(format!("changes the character set or collation of {table}.{col}"), FIX))
            .collect()
    }
    fn check_unparsed(&self, _: &RuleContext, stmt: &ParsedStatement) -> Vec<Violation> {
        let upper = stmt.sql.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
        if !upper.starts_with("ALTER TABLE") {
            return Vec::new();
        }
        let converts = [
            "CONVERT TO CHARACTER SET",
            "CONVERT TO CHARSET",
            "DEFAULT CHARSET",
            "DEFAULT CHARACTER SET",
            "CHARACTER SET =",
            "CHARSET=",
            "COLLATE=",
        ]
        .iter()
        .any(|p| upper.replace(" = ", "=").contains(&p.replace(" =", "=")));
        if !converts {
            return Vec::new();
        }
        let table = stmt.sql.split_whitespace().nth(2).unwrap_or("?").trim_matches('`').to_string();
        vec![Violation::new(format!("changes the character set or collation of table {table}"), FIX)]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::model::Severity;
    use crate::rules::testing::*;

    #[test]
    fn flags_conversions_even_where_the_parser_gives_up() {
        assert_flags(FindingId::MysqlCharsetChange, Dialect::Mysql, "ALTER TABLE users MODIFY name VARCHAR(50) CHARACTER SET latin1;");
        assert_flags(
            FindingId::MysqlCharsetChange,
            Dialect::Mysql,
            "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
        );
        // The statement is MySQL, just beyond the parser: a note, never a syntax error.
        let sql = "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4;";
        assert!(violations(FindingId::SyntaxError, Dialect::Mysql, sql).is_empty());
        assert_eq!(violations(FindingId::UnanalyzedStatement, Dialect::Mysql, sql)[0].severity, Severity::Info);
        assert_ok(FindingId::MysqlCharsetChange, Dialect::Mysql, "ALTER TABLE users MODIFY name VARCHAR(50);");
    }
}
