//! Lock findings scaled by the size of the table they lock. When validating against a
//! database the rules know each table's row estimate: a lock held to build an index on a
//! 10-row table is over in a blink (`low`), on a 50-million-row table it is an outage
//! (`high`). The size goes into the message either way.

use pg_query::NodeEnum;
use sqlparser::ast::Statement;

use super::ast::{alter_table, base_name};
use super::pg;
use crate::model::{SchemaSnapshot, Severity};
use crate::sql::grammar::postgres::Tree;
use crate::sql::ParsedStatement;

/// Below this many rows a table lock is brief.
pub const SMALL_TABLE_ROWS: u64 = 10_000;
/// From this many rows a table lock is long enough to be an outage.
pub const LARGE_TABLE_ROWS: u64 = 1_000_000;

/// The existing table a statement locks, lower-case, when the statement names one.
/// `tree` is the statement's PostgreSQL tree, when it has one.
pub fn locked_table(stmt: &ParsedStatement, tree: Option<&Tree>, schema: &SchemaSnapshot) -> Option<String> {
    let from_tree = tree.and_then(|tree| match tree {
        NodeEnum::IndexStmt(i) => Some(pg::base(i.relation.as_ref())),
        NodeEnum::AlterTableStmt(a) => Some(pg::base(a.relation.as_ref())),
        NodeEnum::ReindexStmt(r) => r.relation.as_ref().map(|r| r.relname.to_lowercase()),
        NodeEnum::ClusterStmt(c) => c.relation.as_ref().map(|r| r.relname.to_lowercase()),
        NodeEnum::RefreshMatViewStmt(r) => Some(pg::base(r.relation.as_ref())),
        NodeEnum::VacuumStmt(v) => v.rels.iter().find_map(|n| match n.node.as_ref()? {
            NodeEnum::VacuumRelation(r) => r.relation.as_ref().map(|r| r.relname.to_lowercase()),
            _ => None,
        }),
        // DROP INDEX names the index: the table is the one that holds it.
        NodeEnum::DropStmt(d) => d.objects.iter().find_map(|o| match o.node.as_ref()? {
            NodeEnum::List(l) => l.items.last().and_then(pg::string).and_then(|index| table_of_index(schema, index)),
            _ => None,
        }),
        _ => None,
    });
    let table = from_tree.or_else(|| match stmt.statement()? {
        Statement::CreateIndex(index) => Some(base_name(&index.table_name)),
        ast => alter_table(ast).map(|(name, _)| base_name(name)),
    })?;
    (!table.is_empty()).then(|| table.to_lowercase())
}

fn table_of_index(schema: &SchemaSnapshot, index: &str) -> Option<String> {
    schema.tables.values().find(|t| t.indexes.iter().any(|i| i.name.eq_ignore_ascii_case(index))).map(|t| t.name.to_lowercase())
}

/// The severity and message of a lock finding on a table of `rows` rows.
pub fn scale(severity: Severity, message: String, table: &str, rows: u64) -> (Severity, String) {
    if rows < SMALL_TABLE_ROWS {
        (severity.min(Severity::Low), format!("{message} (table {table} has ~{rows} rows: the lock is brief)"))
    } else if rows >= LARGE_TABLE_ROWS {
        (severity.max(Severity::High), format!("{message} (table {table} has ~{rows} rows: the lock lasts as long as the scan or build)"))
    } else {
        (severity, format!("{message} (table {table} has ~{rows} rows)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tables_lower_and_large_tables_raise_the_severity() {
        let (s, m) = scale(Severity::Medium, "builds an index".into(), "t", 10);
        assert_eq!(s, Severity::Low);
        assert!(m.contains("~10 rows"), "{m}");
        assert_eq!(scale(Severity::Medium, String::new(), "t", 50_000_000).0, Severity::High);
        assert_eq!(scale(Severity::Medium, String::new(), "t", 100_000).0, Severity::Medium);
        assert_eq!(scale(Severity::Critical, String::new(), "t", 50_000_000).0, Severity::Critical, "never milder for a large table");
    }
}
