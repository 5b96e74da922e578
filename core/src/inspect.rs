//! Inspection of a target for assistants and ad-hoc users: its schemas and tables, one table
//! in full, a bounded read-only query, a query plan. Every query text here comes from outside,
//! so it passes the read-only [`guard`](mod@crate::guard) first, then runs through
//! [`Driver::query`] (prepared, READ ONLY transaction rolled back, statement timeout), and
//! its rows are masked before they leave the library.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dialect::Dialect;
use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::guard;
use crate::masking::Masker;
use crate::model::schema::{CheckConstraint, Column, ForeignKey, Index, UniqueConstraint};
use crate::model::Plan;

pub use crate::model::schema::SchemaSummary;

/// A table or view as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// Schemas the login can see, with their table and view counts, sorted by name.
pub async fn list_schemas(driver: &dyn Driver) -> Result<Vec<SchemaSummary>> {
    driver.schemas().await
}

/// Tables and views of the default schema, or of `schema`; outside the default schema names
/// are qualified (`audit.events`), as a query names them. Sorted by name.
pub async fn list_tables(driver: &dyn Driver, schema: Option<&str>) -> Result<Vec<TableSummary>> {
    let default_schema = driver.default_schema().await?;
    let schema = schema.unwrap_or(&default_schema).to_string();
    let snapshot = driver.introspect_schema(&schema).await?;
    let outside = (schema != default_schema).then_some(schema.as_str());
    let qualified = |name: &str| qualify(outside, name);
    let mut out: Vec<TableSummary> = snapshot
        .tables
        .values()
        .map(|t| TableSummary {
            name: qualified(&t.name),
            schema: schema.clone(),
            kind: "table".into(),
            columns: Some(t.columns.len()),
            row_estimate: t.row_estimate,
        })
        .chain(snapshot.views.iter().map(|v| TableSummary {
            name: qualified(v),
            schema: schema.clone(),
            kind: "view".into(),
            columns: None,
            row_estimate: None,
        }))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A table's name as a query names it: `schema.table` outside the default schema.
fn qualify(outside_default: Option<&str>, name: &str) -> String {
    match outside_default {
        Some(schema) => format!("{schema}.{name}"),
        None => name.to_string(),
    }
}

/// `schema.table` outside the default schema, else the table of the default schema. A name
/// with a dot whose prefix is no schema is taken whole (a table may have a dot in its name).
async fn locate(driver: &dyn Driver, table: &str) -> Result<(Option<String>, crate::model::SchemaSnapshot, String)> {
    let default_schema = driver.default_schema().await?;
    if let Some((schema, name)) = table.split_once('.') {
        if schema != default_schema {
            if let Ok(snapshot) = driver.introspect_schema(schema).await {
                return Ok((Some(schema.to_string()), snapshot, name.to_string()));
            }
        } else {
            return Ok((None, driver.introspect().await?, name.to_string()));
        }
    }
    Ok((None, driver.introspect().await?, table.to_string()))
}

/// One table in full. Unknown names are an error that lists the closest existing names.
pub async fn describe_table(driver: &dyn Driver, table: &str) -> Result<TableDescription> {
    let (schema, snapshot, bare) = locate(driver, table).await?;
    let qualified = |name: &str| qualify(schema.as_deref(), name);
    let Some(t) = snapshot.table(&bare) else {
        let mut names: Vec<String> = snapshot.tables.keys().map(|n| qualified(n)).collect();
        let needle = bare.to_ascii_lowercase();
        names.sort_by_key(|n| (!n.to_ascii_lowercase().contains(&needle) && !needle.contains(&n.to_ascii_lowercase()), n.clone()));
        let known = names.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        let hint =
            if snapshot.views.iter().any(|v| v.eq_ignore_ascii_case(&bare)) { " (it is a view: query it with run_query)" } else { "" };
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
                .map(|fk| format!("{}({})", qualified(&other.name), fk.columns.join(", ")))
        })
        .collect();
    Ok(TableDescription {
        name: qualified(&t.name),
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
    let relations = guard::check_read_only_declaring(sql, driver.dialect(), &masker.secret_tables).map_err(|r| Error::Refused(r.0))?;
    let views = refuse_secrets_behind_views(driver, relations, &masker.secret_tables).await?;
    // One row more than asked tells whether the cap cut anything off.
    let mut result = driver.query(sql, max_rows.saturating_add(1)).await?;
    let truncated = result.rows.len() > max_rows;
    result.rows.truncate(max_rows);
    let mut masked_columns: Vec<String> = Vec::new();
    // Columns that carry a sensitive column's values under another name are masked as it is.
    let lineage = if masker.disabled {
        Default::default()
    } else {
        // A view's columns that carry sensitive values under other names are sensitive names
        // to the query that reads the view (views of views: repeated until nothing changes).
        let dialect = driver.dialect();
        let mut through_views: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            let before = through_views.len();
            for definition in &views {
                let found = crate::masking::lineage::sensitive_outputs(definition, dialect, |c| {
                    masker.sensitive_name(c) || through_views.contains(c)
                });
                through_views.extend(found.names);
            }
            if through_views.len() == before {
                break;
            }
        }
        crate::masking::lineage::sensitive_outputs(sql, dialect, |c| masker.sensitive_name(c) || through_views.contains(&c.to_lowercase()))
    };
    let derived: Vec<&String> = result
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| lineage.positions.contains(i) || lineage.names.contains(&c.to_lowercase()))
        .map(|(_, c)| c)
        .collect();
    let rows: Vec<Map<String, Value>> = result
        .rows
        .into_iter()
        .map(|mut row| {
            for column in &derived {
                if let Some(value) = row.get_mut(column.as_str()) {
                    if !value.is_null() {
                        *value = Value::String("<masked>".into());
                    }
                }
            }
            let masked = masker.mask_row(row.clone());
            for (column, value) in &masked {
                if row.get(column) != Some(value) && !masked_columns.contains(column) {
                    masked_columns.push(column.clone());
                }
            }
            masked
        })
        .collect();
    for column in derived {
        if !masked_columns.contains(column) {
            masked_columns.push(column.clone());
        }
    }
    masked_columns.sort_by_key(|c| result.columns.iter().position(|x| x == c));
    Ok(QueryOutput { columns: result.columns, row_count: rows.len(), rows, truncated, masked_columns })
}

/// Deepest chain of views looked into; a deeper one is refused rather than left unchecked.
const MAX_VIEW_DEPTH: usize = 8;

/// A view is read with its owner's rights: one over a credentials catalog or a declared secret
/// table would pass the guard by name. Look into the views a query reads (and the views they
/// read) through the database's own definitions.
/// Returns the definitions of the views looked into (for masking by lineage through them).
async fn refuse_secrets_behind_views(driver: &dyn Driver, mut pending: Vec<String>, secret_tables: &[String]) -> Result<Vec<String>> {
    let dialect = driver.dialect();
    let mut seen: Vec<String> = Vec::new();
    let mut definitions = Vec::new();
    for _ in 0..MAX_VIEW_DEPTH {
        pending.retain(|r| !seen.contains(r));
        pending.sort();
        pending.dedup();
        if pending.is_empty() {
            return Ok(definitions);
        }
        let names = std::mem::take(&mut pending);
        for (view, definition) in view_definitions(driver, &names).await? {
            pending.extend(guard::check_view(&view, &definition, dialect, secret_tables).map_err(|r| Error::Refused(r.0))?);
            definitions.push(definition);
        }
        seen.extend(names);
    }
    if pending.iter().any(|r| !seen.contains(r)) {
        return Err(Error::Refused(format!("views nested more than {MAX_VIEW_DEPTH} deep cannot be checked for secrets")));
    }
    Ok(definitions)
}

/// (view name, definition) of the views among `relations` (lowercase, dotted as a query wrote
/// them; an unqualified name is looked up where the session would find it).
async fn view_definitions(driver: &dyn Driver, relations: &[String]) -> Result<Vec<(String, String)>> {
    let dialect = driver.dialect();
    let literal = |n: &str| {
        // Backslashes escape in MySQL string literals only.
        let n = if dialect == Dialect::Mysql { n.replace('\\', "\\\\") } else { n.to_string() };
        format!("'{}'", n.replace('\'', "''"))
    };
    let conditions: Vec<String> = relations
        .iter()
        .map(|relation| {
            let mut parts = relation.rsplit('.');
            let name = literal(parts.next().unwrap_or(relation));
            let schema = parts.next().map(literal);
            match (dialect, schema) {
                (Dialect::Postgres, Some(schema)) => format!("(lower(c.relname) = {name} AND lower(n.nspname) = {schema})"),
                (Dialect::Postgres, None) => format!("(lower(c.relname) = {name} AND pg_catalog.pg_table_is_visible(c.oid))"),
                (Dialect::Mysql, Some(schema)) => format!("(LOWER(TABLE_NAME) = {name} AND LOWER(TABLE_SCHEMA) = {schema})"),
                (Dialect::Mysql, None) => format!("(LOWER(TABLE_NAME) = {name} AND TABLE_SCHEMA = DATABASE())"),
                (Dialect::Sqlite, _) => format!("lower(name) = {name}"),
            }
        })
        .collect();
    let any = conditions.join(" OR ");
    let sql = match dialect {
        Dialect::Postgres => format!(
            "SELECT c.relname::text AS name, pg_catalog.pg_get_viewdef(c.oid) AS definition FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND ({any})"
        ),
        Dialect::Mysql => format!("SELECT TABLE_NAME AS name, VIEW_DEFINITION AS definition FROM information_schema.VIEWS WHERE {any}"),
        Dialect::Sqlite => format!("SELECT name, sql AS definition FROM sqlite_schema WHERE type = 'view' AND ({any})"),
    };
    let found = driver.query(&sql, 10_000).await?;
    Ok(found
        .rows
        .into_iter()
        .filter_map(|row| {
            let text = |k: &str| row.get(k).and_then(|v| v.as_str()).map(str::to_string);
            Some((text("name")?, text("definition")?))
        })
        .collect())
}

/// The plan of one statement. `analyze` runs it (in a READ ONLY transaction rolled back),
/// so only statements the read-only guard accepts may be analyzed; writes are planned only.
pub async fn explain_query(driver: &dyn Driver, sql: &str, analyze: bool) -> Result<Plan> {
    if analyze {
        guard::check_read_only(sql, driver.dialect())
            .map_err(|r| Error::Refused(format!("{r} (EXPLAIN ANALYZE runs the statement: only read-only queries)")))?;
    } else {
        guard::check_explain_only(sql, driver.dialect()).map_err(|r| Error::Refused(r.0))?;
    }
    driver.explain(sql, analyze).await
}
