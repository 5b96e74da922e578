//! `ban-drop-schema`: dropping a schema or database removes everything inside it.

use sqlparser::ast::{ObjectType, Statement};

use super::{Rule, RuleContext, Violation};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropSchema;

impl Rule for BanDropSchema {
    fn id(&self) -> &'static str {
        "ban-drop-schema"
    }
    fn severity(&self) -> Severity {
        Severity::Critical
    }
    fn description(&self) -> &'static str {
        "DROP SCHEMA / DROP DATABASE removes every table in it at once."
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, ast: &Statement) -> Vec<Violation> {
        let what = match ast {
            Statement::Drop { object_type: ObjectType::Schema, names, .. } => {
                ("schema", names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            }
            Statement::Drop { object_type: ObjectType::Database, names, .. } => ("database", names.iter().map(|n| n.to_string()).collect()),
            _ => return Vec::new(),
        };
        what.1
            .into_iter()
            .map(|name| {
                Violation::new(
                    format!("drops {} {name} with everything in it", what.0),
                    "Never drop a schema or database from a migration; do it by hand after a verified backup.",
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
    fn flags_drop_schema_and_database() {
        assert_flags("ban-drop-schema", Dialect::Postgres, "DROP SCHEMA billing CASCADE;");
        assert_flags("ban-drop-schema", Dialect::Mysql, "DROP DATABASE shop;");
        assert_ok("ban-drop-schema", Dialect::Postgres, "CREATE SCHEMA billing;");
    }
}
