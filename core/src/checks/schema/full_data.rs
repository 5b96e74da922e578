//! Which new constraints can be checked against the target's full data. A sandbox that
//! holds only a sample of a table cannot say whether every row satisfies a constraint; the
//! target can, with the same pushed-down `SELECT`s in its read-only session, as long as the
//! migration does not change that table's rows or column types before the constraint (a
//! backfill `UPDATE` followed by `SET NOT NULL` would otherwise be reported against rows the
//! backfill fixes).

use std::collections::BTreeSet;

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, FromTable, SetExpr, Statement, TableFactor, TableObject};

use crate::model::SchemaSnapshot;
use crate::rules::ast_names::base_name;
use crate::sql::Script;

/// Tables whose existing rows the migration may change (lower case), or `None` when a
/// statement could not be read and any table may be changed.
pub fn changed_tables(script: &Script) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for stmt in &script.statements {
        let ast = stmt.statement()?;
        match ast {
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    out.insert(base_name(name).to_lowercase());
                }
            }
            Statement::Update(update) => {
                if let TableFactor::Table { name, .. } = &update.table.relation {
                    out.insert(base_name(name).to_lowercase());
                }
            }
            Statement::Delete(delete) => {
                let tables = match &delete.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                for t in tables {
                    if let TableFactor::Table { name, .. } = &t.relation {
                        out.insert(base_name(name).to_lowercase());
                    }
                }
            }
            Statement::Merge(merge) => {
                if let TableFactor::Table { name, .. } = &merge.table {
                    out.insert(base_name(name).to_lowercase());
                }
            }
            Statement::Truncate(truncate) => {
                for t in &truncate.table_names {
                    out.insert(base_name(&t.name).to_lowercase());
                }
            }
            Statement::AlterTable(alter) => {
                let rewrites = alter.operations.iter().any(|op| match op {
                    AlterTableOperation::AlterColumn { op, .. } => matches!(op, AlterColumnOperation::SetDataType { .. }),
                    AlterTableOperation::RenameTable { .. }
                    | AlterTableOperation::RenameColumn { .. }
                    | AlterTableOperation::ChangeColumn { .. }
                    | AlterTableOperation::ModifyColumn { .. } => true,
                    _ => false,
                });
                if rewrites {
                    out.insert(base_name(&alter.name).to_lowercase());
                }
            }
            // Data-modifying CTEs, functions called for their effects, procedures and DO
            // blocks: what they change is not known.
            Statement::Query(query) => {
                let writes = query.with.as_ref().is_some_and(|w| {
                    w.cte_tables.iter().any(|c| matches!(*c.query.body, SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_)))
                });
                if writes || function_call(&stmt.sql) {
                    return None;
                }
            }
            Statement::Call(_) | Statement::Execute { .. } => return None,
            _ if stmt.sql.trim_start().get(..2).is_some_and(|w| w.eq_ignore_ascii_case("DO")) => return None,
            _ => {}
        }
    }
    Some(out)
}

/// `SELECT f(...)` without `FROM`: a function run for its effect (`SELECT backfill()`).
fn function_call(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.contains('(') && !upper.contains(" FROM ")
}

/// Can a check of `table` (and its parent) run on the target's data as it is now?
pub fn on_target(
    target: &SchemaSnapshot,
    changed: Option<&BTreeSet<String>>,
    table: &str,
    columns: &[String],
    parent: Option<(&str, &[String])>,
) -> bool {
    let Some(changed) = changed else { return false };
    let present = |t: &str, cols: &[String]| {
        !changed.contains(&t.to_lowercase()) && target.table(t).is_some_and(|table| cols.iter().all(|c| table.column(c).is_some()))
    };
    present(table, columns) && parent.is_none_or(|(p, cols)| present(p, cols))
}
