//! `prefer-decimal-for-money`: binary floating point cannot represent cents exactly.

use sqlparser::ast::{AlterTableOperation, ColumnDef, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;
use crate::sqltypes::{family, TypeFamily};

pub struct PreferDecimalForMoney;

const MONEY_WORDS: &[&str] = &[
    "price", "amount", "cost", "total", "balance", "fee", "salary", "tax", "money", "payment", "revenue", "charge", "subtotal", "discount",
    "refund", "wage", "budget",
];

fn is_money_float(col: &ColumnDef) -> bool {
    let name = col.name.value.to_ascii_lowercase();
    matches!(family(&col.data_type.to_string()), TypeFamily::Float(_))
        && name.split('_').any(|part| MONEY_WORDS.iter().any(|w| part == *w || part == format!("{w}s")))
}

impl Rule for PreferDecimalForMoney {
    fn id(&self) -> &'static str {
        "prefer-decimal-for-money"
    }
    fn severity(&self) -> Severity {
        Severity::Medium
    }
    fn description(&self) -> &'static str {
        "FLOAT/REAL/DOUBLE for monetary columns accumulates rounding errors."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let mut cols: Vec<(String, &ColumnDef)> = Vec::new();
        if let Statement::CreateTable(ct) = ast {
            cols.extend(ct.columns.iter().map(|c| (ct.name.to_string(), c)));
        }
        if let Some((table, ops)) = alter_table(ast) {
            cols.extend(ops.iter().filter_map(|op| match op {
                AlterTableOperation::AddColumn { column_def, .. } => Some((table.to_string(), column_def)),
                _ => None,
            }));
        }
        cols.into_iter()
            .filter(|(_, c)| is_money_float(c))
            .map(|(t, c)| {
                Violation::new(
                    format!("{t}.{} stores money as floating point ({})", c.name, c.data_type),
                    "Use DECIMAL/NUMERIC(precision, scale), or an integer number of cents.",
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
    fn flags_float_money() {
        assert_flags("prefer-decimal-for-money", Dialect::Sqlite, "CREATE TABLE o (id INTEGER PRIMARY KEY, total_price REAL);");
        assert_flags("prefer-decimal-for-money", Dialect::Postgres, "ALTER TABLE o ADD COLUMN amount double precision;");
        assert_ok("prefer-decimal-for-money", Dialect::Postgres, "ALTER TABLE o ADD COLUMN amount numeric(12,2);");
        assert_ok("prefer-decimal-for-money", Dialect::Postgres, "ALTER TABLE o ADD COLUMN latitude double precision;");
    }
}
