//! `prefer-decimal-for-money`: binary floating point cannot represent cents exactly.

use sqlparser::ast::{AlterTableOperation, ColumnDef, Statement};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;
use crate::sqltypes::{family, TypeFamily};

pub struct PreferDecimalForMoney;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Medium,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "FLOAT/REAL/DOUBLE for monetary columns accumulates rounding errors.",
    details: "FLOAT, REAL and DOUBLE are binary approximations: 0.1 + 0.2 is not 0.3, sums of many amounts drift, and equality comparisons fail. Money belongs in an exact decimal type (or integer cents).",
    bad: "CREATE TABLE invoices (id bigint PRIMARY KEY, amount double precision);",
    good: "CREATE TABLE invoices (id bigint PRIMARY KEY, amount numeric(12,2));",
};

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
    fn id(&self) -> FindingId {
        FindingId::PreferDecimalForMoney
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::PreferDecimalForMoney, Dialect::Sqlite, "CREATE TABLE o (id INTEGER PRIMARY KEY, total_price REAL);");
        assert_flags(FindingId::PreferDecimalForMoney, Dialect::Postgres, "ALTER TABLE o ADD COLUMN amount double precision;");
        assert_ok(FindingId::PreferDecimalForMoney, Dialect::Postgres, "ALTER TABLE o ADD COLUMN amount numeric(12,2);");
        assert_ok(FindingId::PreferDecimalForMoney, Dialect::Postgres, "ALTER TABLE o ADD COLUMN latitude double precision;");
    }
}
