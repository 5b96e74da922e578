//! `require-enum-value-ordering` (PostgreSQL): aLTER TYPE ... ADD VALUE without BEFORE/AFTER appends the value, which also decides how the enum sorts.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::{pg, Rule, RuleContext, Violation, POSTGRES_ONLY};
use crate::findings::{FindingDoc, FindingId, Scope};
use crate::model::Severity;
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

pub struct RequireEnumValueOrdering;

pub(crate) const DOC: FindingDoc = FindingDoc {
    severity: Severity::Low,
    scope: Scope::Rule(POSTGRES_ONLY),
    policy: None,
    summary: "ALTER TYPE ... ADD VALUE without BEFORE/AFTER appends the value, which also decides how the enum sorts.",
    details: "Enum values sort in declaration order, and ORDER BY, <, > and indexes use that order. A value added without BEFORE or AFTER goes last, which is often not where it belongs (a 'paused' status after 'archived'); the order cannot be changed later without recreating the type.",
    bad: "ALTER TYPE order_status ADD VALUE 'paused';",
    good: "ALTER TYPE order_status ADD VALUE 'paused' AFTER 'active';",
};

impl Rule for RequireEnumValueOrdering {
    fn id(&self) -> FindingId {
        FindingId::RequireEnumValueOrdering
    }
    fn doc(&self) -> &'static FindingDoc {
        &DOC
    }
    fn check(&self, _: &RuleContext, _: &ParsedStatement, _: &Statement) -> Vec<Violation> {
        Vec::new() // reads PostgreSQL's own tree: check_postgres
    }
    fn check_postgres(&self, _: &RuleContext, _: &ParsedStatement, tree: &Tree) -> Vec<Violation> {
        let NodeEnum::AlterEnumStmt(e) = tree else { return Vec::new() };
        if e.new_val.is_empty() || !e.new_val_neighbor.is_empty() {
            return Vec::new(); // a rename, or placed explicitly
        }
        let name: Vec<&str> = e.type_name.iter().filter_map(pg::string).collect();
        vec![Violation::new(
            format!("adds '{}' to enum {} without BEFORE/AFTER: it sorts after every existing value", e.new_val, name.join(".")),
            "Say where it sorts: ADD VALUE '...' BEFORE '...' or AFTER '...'.",
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;
    use crate::rules::testing::*;

    #[test]
    fn flags_what_postgres_would_suffer_from() {
        assert_flags(FindingId::RequireEnumValueOrdering, Dialect::Postgres, "ALTER TYPE order_status ADD VALUE 'paused';");
        assert_ok(
            FindingId::RequireEnumValueOrdering,
            Dialect::Postgres,
            "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'paused' AFTER 'active';",
        );
    }
}
