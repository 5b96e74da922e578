//! `ban-drop-schema`: dropping a schema or database removes everything inside it.

use sqlparser::ast::{ObjectType, Statement};

use super::{Rule, RuleContext, Violation, ALL_DIALECTS};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::ParsedStatement;

pub struct BanDropSchema;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Critical,
    scope: Scope::Rule(ALL_DIALECTS),
    policy: None,
    summary: "DROP SCHEMA / DROP DATABASE removes every table in it at once.",
    details: "DROP SCHEMA ... CASCADE or DROP DATABASE removes every table, view and function in it at once; there is no undo short of a restore.",
    bad: "DROP SCHEMA reporting CASCADE;",
    good: r#"-- Move what is still used elsewhere, back the schema up, and drop it by hand after review.
ALTER SCHEMA reporting RENAME TO reporting_retired;"#,
};

impl Rule for BanDropSchema {
    fn id(&self) -> FindingId {
        FindingId::BanDropSchema
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
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
        assert_flags(FindingId::BanDropSchema, Dialect::Postgres, "DROP SCHEMA billing CASCADE;");
        assert_flags(FindingId::BanDropSchema, Dialect::Mysql, "DROP DATABASE shop;");
        assert_ok(FindingId::BanDropSchema, Dialect::Postgres, "CREATE SCHEMA billing;");
    }
}
