//! MySQL/MariaDB introspection: information_schema of one database into the normalized model.

use std::collections::{HashMap, HashSet};

use sqlx::mysql::MySqlConnection;

use super::{internal, is_mariadb};
use crate::error::Result;
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table};

/// (table, constraint, column, referenced table, referenced column) from KEY_COLUMN_USAGE.
pub(super) type KeyColumn = (String, String, String, Option<String>, Option<String>);

/// The information_schema rows one snapshot is built from.
#[derive(Default)]
struct Catalog {
    tables: Vec<(String, String, Option<u64>, Option<u64>)>,
    columns: Vec<(String, String, String, String, Option<String>, String)>,
    constraints: Vec<(String, String, String)>,
    key_columns: Vec<KeyColumn>,
    rules: Vec<(String, String, String)>,
    checks: Vec<(Option<String>, String, String)>,
    statistics: Vec<(String, String, i64, Option<String>, String)>,
}

/// The tables and views of one database (`schema`, or the connection's) into the normalized
/// model, one information_schema query per kind of object.
pub(super) async fn introspect(conn: &mut MySqlConnection, schema: Option<&str>) -> Result<SchemaSnapshot> {
    let mariadb = is_mariadb(conn).await.map_err(internal)?;
    let mut catalog = Catalog::default();
    read_tables(conn, schema, &mut catalog).await?;
    read_constraints(conn, schema, mariadb, &mut catalog).await?;
    Ok(build(catalog, mariadb))
}

/// [`introspect`] with its queries split over two connections. Each information_schema view
/// opens every table's definition, about 0.4 s a view at 10,000 tables: two at a time halve
/// the wait.
pub(super) async fn introspect_on_two(
    first: &mut MySqlConnection,
    second: &mut MySqlConnection,
    schema: Option<&str>,
) -> Result<SchemaSnapshot> {
    let mariadb = is_mariadb(first).await.map_err(internal)?;
    let (mut catalog, mut rest) = (Catalog::default(), Catalog::default());
    let (a, b) = tokio::join!(read_tables(first, schema, &mut catalog), read_constraints(second, schema, mariadb, &mut rest));
    a?;
    b?;
    catalog.constraints = rest.constraints;
    catalog.key_columns = rest.key_columns;
    catalog.rules = rest.rules;
    catalog.checks = rest.checks;
    Ok(build(catalog, mariadb))
}

/// Tables, columns and indexes.
async fn read_tables(conn: &mut MySqlConnection, schema: Option<&str>, into: &mut Catalog) -> Result<()> {
    into.tables = sqlx::query_as(
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, CAST(DATA_LENGTH + INDEX_LENGTH AS UNSIGNED) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    into.columns = sqlx::query_as(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    into.statistics = sqlx::query_as(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    Ok(())
}

/// Keys, foreign keys and checks.
async fn read_constraints(conn: &mut MySqlConnection, schema: Option<&str>, mariadb: bool, into: &mut Catalog) -> Result<()> {
    // MariaDB's KEY_COLUMN_USAGE and CHECK_CONSTRAINTS (which names the table) say everything
    // TABLE_CONSTRAINTS does, which costs as much to read again; MySQL 8's CHECK_CONSTRAINTS
    // has no table name, so there it is read.
    if !mariadb {
        into.constraints = sqlx::query_as(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME",
        )
        .bind(schema)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?;
    }
    into.key_columns = sqlx::query_as(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
         FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    into.rules = sqlx::query_as(
        "SELECT CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    // MariaDB names column-level checks after their column, so the same name can appear in
    // several tables: match on the table too (MySQL 8's view has no TABLE_NAME; its names are
    // unique in a schema).
    into.checks = if mariadb {
        sqlx::query_as("SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())")
            .bind(schema)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default()
    } else {
        sqlx::query_as("SELECT NULL, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())")
            .bind(schema)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default()
    };
    Ok(())
}

fn build(catalog: Catalog, mariadb: bool) -> SchemaSnapshot {
    let Catalog { tables, columns, constraints, key_columns, rules, checks, statistics } = catalog;
    let mut snapshot = SchemaSnapshot::default();
    for (name, kind, rows, bytes) in tables {
        if kind == "VIEW" {
            snapshot.views.push(name);
        } else {
            snapshot.tables.insert(name.clone(), Table { name, row_estimate: rows, size_bytes: bytes, ..Default::default() });
        }
    }
    for (table, name, data_type, nullable, default, extra) in columns {
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        // MariaDB reports "no default" on nullable columns as the text NULL.
        let default = default.filter(|d| !(mariadb && d == "NULL"));
        t.columns.push(Column {
            name,
            data_type,
            nullable: nullable == "YES",
            default,
            auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
        });
    }
    // MariaDB shows TABLE_CONSTRAINTS only to users with more than SELECT (and it is not read
    // there at all); KEY_COLUMN_USAGE and CHECK_CONSTRAINTS, which a SELECT-only login sees
    // too, give every constraint.
    // Everything below is matched through maps: at 10,000 tables a scan per constraint is
    // billions of comparisons.
    let mut constraints = constraints;
    let mut listed: HashSet<(String, String)> = constraints.iter().map(|(t, n, _)| (t.clone(), n.clone())).collect();
    for k in &key_columns {
        if listed.insert((k.0.clone(), k.1.clone())) {
            let kind = if k.1 == "PRIMARY" {
                "PRIMARY KEY"
            } else if k.3.is_some() {
                "FOREIGN KEY"
            } else {
                "UNIQUE"
            };
            constraints.push((k.0.clone(), k.1.clone(), kind.to_string()));
        }
    }
    for (table, name, _) in &checks {
        if let Some(table) = table {
            if listed.insert((table.clone(), name.clone())) {
                constraints.push((table.clone(), name.clone(), "CHECK".to_string()));
            }
        }
    }
    constraints.sort();
    let mut columns_of: HashMap<(&str, &str), Vec<&KeyColumn>> = HashMap::new();
    for k in &key_columns {
        columns_of.entry((k.0.as_str(), k.1.as_str())).or_default().push(k);
    }
    let rules: HashMap<&str, (&str, &str)> = rules.iter().map(|(n, u, d)| (n.as_str(), (u.as_str(), d.as_str()))).collect();
    let mut clauses: HashMap<(Option<&str>, &str), &str> = HashMap::new();
    for (table, name, clause) in &checks {
        clauses.insert((table.as_deref(), name.as_str()), clause.as_str());
    }
    let action = |a: &str| (a != "NO ACTION" && a != "RESTRICT").then(|| a.to_string());
    for (table, name, kind) in &constraints {
        let Some(t) = snapshot.tables.get_mut(table) else { continue };
        let cols: &[&KeyColumn] = columns_of.get(&(table.as_str(), name.as_str())).map(Vec::as_slice).unwrap_or_default();
        match kind.as_str() {
            "PRIMARY KEY" => t.primary_key = cols.iter().map(|k| k.2.clone()).collect(),
            "FOREIGN KEY" => {
                let (on_update, on_delete) = rules.get(name.as_str()).map(|r| (action(r.0), action(r.1))).unwrap_or((None, None));
                t.foreign_keys.push(ForeignKey {
                    name: Some(name.clone()),
                    columns: cols.iter().map(|k| k.2.clone()).collect(),
                    referenced_table: cols.first().and_then(|k| k.3.clone()).unwrap_or_default(),
                    referenced_columns: cols.iter().map(|k| k.4.clone().unwrap_or_default()).collect(),
                    on_delete,
                    on_update,
                    // InnoDB enforces foreign keys, but rows loaded with FOREIGN_KEY_CHECKS=0
                    // were never checked: treat existing rows as unverified.
                    enforced: false,
                    deferrable: false,
                });
            }
            "CHECK" => {
                let clause = clauses.get(&(Some(table.as_str()), name.as_str())).or_else(|| clauses.get(&(None, name.as_str())));
                if let Some(clause) = clause {
                    // MariaDB adds json_valid() checks for JSON columns itself.
                    if !(mariadb && clause.starts_with("json_valid(")) {
                        t.check_constraints.push(CheckConstraint {
                            name: Some(name.clone()),
                            expression: clause.to_string(),
                            enforced: true,
                        });
                    }
                }
            }
            _ => {} // UNIQUE: read from the unique index below
        }
    }
    for (table, index, non_unique, column, method) in statistics {
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        let fk_backing = t.foreign_keys.iter().any(|f| f.name.as_deref() == Some(index.as_str()));
        let column = column.unwrap_or_else(|| "<expression>".into());
        match t.indexes.iter_mut().find(|i| i.name == index) {
            Some(existing) => existing.columns.push(column),
            None => t.indexes.push(Index {
                name: index.clone(),
                columns: vec![column],
                unique: non_unique == 0,
                predicate: None,
                method: Some(method.to_ascii_lowercase()),
                implicit: index == "PRIMARY" || fk_backing,
            }),
        }
    }
    snapshot
}
