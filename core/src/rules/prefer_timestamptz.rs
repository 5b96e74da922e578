//! `prefer-timestamptz` (PostgreSQL): TIMESTAMP WITHOUT TIME ZONE stores wall-clock values that
//! mean different instants depending on the writer's time zone.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, DataType, Statement, TimezoneInfo};

use super::ast::alter_table;
use super::{Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct PreferTimestamptz;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "TIMESTAMP WITHOUT TIME ZONE loses the instant a value refers to; use TIMESTAMPTZ.",
    details: "TIMESTAMP WITHOUT TIME ZONE stores a wall-clock reading without saying where: the same value means different instants for servers and clients in different zones, and daylight-saving changes make values ambiguous. TIMESTAMPTZ stores an instant.",
    bad: "CREATE TABLE payments (id bigint PRIMARY KEY, paid_at timestamp);",
    good: "CREATE TABLE payments (id bigint PRIMARY KEY, paid_at timestamptz);",
};

fn without_tz(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone))
}

impl Rule for PreferTimestamptz {
    fn id(&self) -> FindingId {
        FindingId::PreferTimestamptz
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::PreferTimestamptz, Dialect::Postgres, "CREATE TABLE t (id bigint PRIMARY KEY, at timestamp);");
        assert_flags(FindingId::PreferTimestamptz, Dialect::Postgres, "ALTER TABLE t ADD COLUMN at timestamp without time zone;");
        assert_ok(FindingId::PreferTimestamptz, Dialect::Postgres, "CREATE TABLE t (id bigint PRIMARY KEY, at timestamptz);");
    }
}
