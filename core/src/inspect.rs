//! Inspection of a target for assistants and ad-hoc users: its schemas and tables, one table
//! in full, a bounded read-only query, a query plan. Every query text here comes from outside,
//! so it passes the read-only [`guard`](crate::guard) first, then runs through
//! [`Driver::query`] (prepared, READ ONLY transaction rolled back, statement timeout), and
//! its rows are masked before they leave the library.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::guard;
use crate::masking::Masker;
use crate::model::schema::{CheckConstraint, Column, ForeignKey, Index, UniqueConstraint};
use crate::model::Plan;

/// One schema (PostgreSQL schema, MySQL database, SQLite `main`) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaSummary {
    pub name: String,
    pub tables: usize,
    pub views: usize,
}

/// A table or view as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    /// As queries name it: schema-qualified outside the default schema.
    pub name: String,
    pub schema: String,
    /// `table` or `view`.
    pub kind: String,
    /// Columns (tables only).
    pub columns: Option<usize>,
    pub row_estimate: Option<u64>,
}

/// One table in full: columns, keys, constraints, indexes and a row estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDescription {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Foreign keys of other tables that reference this one, as `table(columns)`.
    pub referenced_by: Vec<String>,
    pub unique_constraints: Vec<UniqueConstraint>,
    pub check_constraints: Vec<CheckConstraint>,
    pub indexes: Vec<Index>,
    pub row_estimate: Option<u64>,
}

/// Rows of a bounded read-only query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryOutput {
    pub columns: Vec<String>,
    pub rows: Vec<Map<String, Value>>,
    /// Rows returned (after the cap).
    pub row_count: usize,
    /// True exactly when the query had more rows than `max_rows`.
    pub truncated: bool,
    /// Columns in which at least one value was masked.
    pub masked_columns: Vec<String>,
}

/// The schema a table name belongs to: the part before the first dot, else the default.
fn schema_of(name: &str, default_schema: &str) -> String {
    match name.split_once('.') {
        Some((schema, _)) => schema.to_string(),
        None => default_schema.to_string(),
    }
}

/// Schemas with their table and view counts, sorted by name.
pub async fn list_schemas(driver: &dyn Driver) -> Result<Vec<SchemaSummary>> {
    let default_schema = driver.default_schema().await?;
    let snapshot = driver.introspect().await?;
    let mut by_name: BTreeMap<String, SchemaSummary> = BTreeMap::new();
    let mut entry = |name: &str| {
        let schema = schema_of(name, &default_schema);
        by_name.entry(schema.clone()).or_insert(SchemaSummary { name: schema, tables: 0, views: 0 }).name.clone()
    };
    let tables: Vec<String> = snapshot.tables.keys().map(|t| entry(t)).collect();
    let views: Vec<String> = snapshot.views.iter().map(|v| entry(v)).collect();
    for s in tables {
        by_name.get_mut(&s).expect("entered above").tables += 1;
    }
    for s in views {
        by_name.get_mut(&s).expect("entered above").views += 1;
    }
    if by_name.is_empty() {
        by_name.insert(default_schema.clone(), SchemaSummary { name: default_schema, tables: 0, views: 0 });
    }
    Ok(by_name.into_values().collect())
}

/// Tables and views, optionally of one schema, sorted by name.
pub async fn list_tables(driver: &dyn Driver, schema: Option<&str>) -> Result<Vec<TableSummary>> {
    let default_schema = driver.default_schema().await?;
    let snapshot = driver.introspect().await?;
    let wanted = |s: &str| schema.map_or(true, |w| w.eq_ignore_ascii_case(s));
    let mut out: Vec<TableSummary> = snapshot
        .tables
        .values()
        .map(|t| TableSummary {
            name: t.name.clone(),
            schema: schema_of(&t.name, &default_schema),
            kind: "table".into(),
            columns: Some(t.columns.len()),
            row_estimate: t.row_estimate,
        })
        .chain(snapshot.views.iter().map(|v| TableSummary {
            name: v.clone(),
            schema: schema_of(v, &default_schema),
            kind: "view".into(),
            columns: None,
            row_estimate: None,
        }))
        .filter(|t| wanted(&t.schema))
        .collect();
    if let Some(s) = schema {
        if out.is_empty() && !list_schemas(driver).await?.iter().any(|x| x.name.eq_ignore_ascii_case(s)) {
            return Err(Error::NotFound(format!("no schema named '{s}'")));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// One table in full. Unknown names are an error that lists the closest existing names.
pub async fn describe_table(driver: &dyn Driver, table: &str) -> Result<TableDescription> {
    let snapshot = driver.introspect().await?;
    let Some(t) = snapshot.table(table) else {
        let mut names: Vec<&str> = snapshot.tables.keys().map(String::as_str).collect();
        let needle = table.to_ascii_lowercase();
        names.sort_by_key(|n| (!n.to_ascii_lowercase().contains(&needle) && !needle.contains(&n.to_ascii_lowercase()), *n));
        let known = names.iter().take(10).copied().collect::<Vec<_>>().join(", ");
        let hint = if snapshot.views.iter().any(|v| v.eq_ignore_ascii_case(table)) { " (it is a view: query it with run_query)" } else { "" };
        return Err(Error::NotFound(format!("no table named '{table}'{hint}; tables: {known}")));
    };
    let referenced_by = snapshot
        .tables
        .values()
        .flat_map(|other| {
            other
                .foreign_keys
                .iter()
                .filter(|fk| fk.referenced_table.eq_ignore_ascii_case(&t.name))
                .map(move |fk| format!("{}({})", other.name, fk.columns.join(", ")))
        })
        .collect();
    Ok(TableDescription {
        name: t.name.clone(),
        columns: t.columns.clone(),
        primary_key: t.primary_key.clone(),
        foreign_keys: t.foreign_keys.clone(),
        referenced_by,
        unique_constraints: t.unique_constraints.clone(),
        check_constraints: t.check_constraints.clone(),
        indexes: t.indexes.clone(),
        row_estimate: t.row_estimate,
    })
}

/// Run one read-only statement from outside: refused by the guard unless it is exactly one
/// SELECT / WITH / EXPLAIN (without ANALYZE) / SHOW with no dangerous function; at most
/// `max_rows` rows, `truncated` when there were more; sensitive values masked.
pub async fn run_query(driver: &dyn Driver, sql: &str, max_rows: usize, masker: &Masker) -> Result<QueryOutput> {
    guard::check_read_only(sql, driver.dialect()).map_err(|r| Error::Refused(r.0))?;
    // One row more than asked tells whether the cap cut anything off.
    let mut result = driver.query(sql, max_rows.saturating_add(1)).await?;
    let truncated = result.rows.len() > max_rows;
    result.rows.truncate(max_rows);
    let mut masked_columns: Vec<String> = Vec::new();
    let rows: Vec<Map<String, Value>> = result
        .rows
        .into_iter()
        .map(|row| {
            let masked = masker.mask_row(row.clone());
            for (column, value) in &masked {
                if row.get(column) != Some(value) && !masked_columns.contains(column) {
                    masked_columns.push(column.clone());
                }
            }
            masked
        })
        .collect();
    masked_columns.sort_by_key(|c| result.columns.iter().position(|x| x == c));
    Ok(QueryOutput { columns: result.columns, row_count: rows.len(), rows, truncated, masked_columns })
}

/// The plan of one statement. `analyze` runs it (in a READ ONLY transaction rolled back),
/// so only statements the read-only guard accepts may be analyzed; writes are planned only.
pub async fn explain_query(driver: &dyn Driver, sql: &str, analyze: bool) -> Result<Plan> {
    if analyze {
        guard::check_read_only(sql, driver.dialect()).map_err(|r| Error::Refused(format!("{r} (EXPLAIN ANALYZE runs the statement: only read-only queries)")))?;
    } else {
        guard::check_explain_only(sql, driver.dialect()).map_err(|r| Error::Refused(r.0))?;
    }
    driver.explain(sql, analyze).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_the_prefix_or_the_default() {
        assert_eq!(schema_of("audit.events", "public"), "audit");
        assert_eq!(schema_of("orders", "public"), "public");
    }
}
