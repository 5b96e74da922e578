//! `prefer-timestamptz` (PostgreSQL): TIMESTAMP WITHOUT TIME ZONE stores wall-clock values that
//! mean different instants depending on the writer's time zone.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, DataType, Statement, TimezoneInfo};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::dialect::Dialect;
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct PreferTimestamptz;

fn without_tz(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone))
}

impl Rule for PreferTimestamptz {
    fn id(&self) -> &'static str {
        "prefer-timestamptz"
    }
    fn severity(&self) -> Severity {
        Severity::Low
    }
    fn description(&self) -> &'static str {
        "TIMESTAMP WITHOUT TIME ZONE loses the instant a value refers to; use TIMESTAMPTZ."
    }
    fn dialects(&self) -> &'static [Dialect] {
        POSTGRES_ONLY
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let mut columns: Vec<(String, String)> = Vec::new();
        if let Statement::CreateTable(ct) = ast {
            columns.extend(ct.columns.iter().filter(|c| without_tz(&c.data_type)).map(|c| (ct.name.to_string(), c.name.value.clone())));
        }
        if let Some((table, ops)) = alter_table(ast) {
            for op in ops {
                match op {
                    AlterTableOperation::AddColumn { column_def, .. } if without_tz(&column_def.data_type) => {
                        columns.push((table.to_string(), column_def.name.value.clone()))
                    }
                    AlterTableOperation::AlterColumn { column_name, op: AlterColumnOperation::SetDataType { data_type, .. } }
                        if without_tz(data_type) =>
                    {
                        columns.push((table.to_string(), column_name.value.clone()))
                    }
                    _ => {}
                }
            }
        }
        columns
            .into_iter()
            .map(|(t, c)| Violation::new(format!("{t}.{c} is TIMESTAMP WITHOUT TIME ZONE"), "Use TIMESTAMPTZ (timestamp with time zone)."))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_timestamp_without_time_zone() {
        assert_flags("prefer-timestamptz", Dialect::Postgres, "CREATE TABLE t (id bigint PRIMARY KEY, at timestamp);");
        assert_flags("prefer-timestamptz", Dialect::Postgres, "ALTER TABLE t ADD COLUMN at timestamp without time zone;");
        assert_ok("prefer-timestamptz", Dialect::Postgres, "CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz);");
    }
}
