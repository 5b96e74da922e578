//! MySQL/MariaDB introspection: information_schema of one database into the normalized model.

use sqlx::mysql::MySqlConnection;

use super::{internal, is_mariadb};
use crate::error::Result;
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table};

/// (table, constraint, column, referenced table, referenced column) from KEY_COLUMN_USAGE.
pub(super) type KeyColumn = (String, String, String, Option<String>, Option<String>);

/// The current database's schema from information_schema into the normalized model.
/// The tables and views of one database: `schema`, or the connection's.
pub(super) async fn introspect(conn: &mut MySqlConnection, schema: Option<&str>) -> Result<SchemaSnapshot> {
    let mariadb = is_mariadb(conn).await.map_err(internal)?;
    let mut snapshot = SchemaSnapshot::default();
    let tables: Vec<(String, String, Option<u64>, Option<u64>)> = sqlx::query_as(
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, CAST(DATA_LENGTH + INDEX_LENGTH AS UNSIGNED) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for (name, kind, rows, bytes) in tables {
        if kind == "VIEW" {
            snapshot.views.push(name);
        } else {
            snapshot.tables.insert(name.clone(), Table { name, row_estimate: rows, size_bytes: bytes, ..Default::default() });
        }
    }
    let columns: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
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
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
         WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let key_columns: Vec<KeyColumn> = sqlx::query_as(
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
         FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let rules: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE())",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    // MariaDB names column-level checks after their column, so the same name can appear in
    // several tables: match on the table too (MySQL 8's view has no TABLE_NAME; its names are
    // unique in a schema).
    let checks: Vec<(Option<String>, String, String)> = if mariadb {
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
    // MariaDB shows TABLE_CONSTRAINTS only to users with more than SELECT; a SELECT-only login
    // (the least-privilege setup we recommend) still sees KEY_COLUMN_USAGE and
    // CHECK_CONSTRAINTS, so the constraints missing from the first are derived from those.
    let mut constraints = constraints;
    let listed = |c: &[(String, String, String)], table: &str, name: &str| c.iter().any(|(t, n, _)| t == table && n == name);
    for k in &key_columns {
        if !listed(&constraints, &k.0, &k.1) {
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
            if !listed(&constraints, table, name) {
                constraints.push((table.clone(), name.clone(), "CHECK".to_string()));
            }
        }
    }
    constraints.sort();
    let action = |a: &str| (a != "NO ACTION" && a != "RESTRICT").then(|| a.to_string());
    for (table, name, kind) in &constraints {
        let Some(t) = snapshot.tables.get_mut(table) else { continue };
        let cols: Vec<&KeyColumn> = key_columns.iter().filter(|k| &k.0 == table && &k.1 == name).collect();
        match kind.as_str() {
            "PRIMARY KEY" => t.primary_key = cols.iter().map(|k| k.2.clone()).collect(),
            "FOREIGN KEY" => {
                let (on_update, on_delete) =
                    rules.iter().find(|r| &r.0 == name).map(|r| (action(&r.1), action(&r.2))).unwrap_or((None, None));
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
                if let Some((_, _, clause)) = checks.iter().find(|c| &c.1 == name && c.0.as_ref().is_none_or(|t| t == table)) {
                    // MariaDB adds json_valid() checks for JSON columns itself.
                    if !(mariadb && clause.starts_with("json_valid(")) {
                        t.check_constraints.push(CheckConstraint { name: Some(name.clone()), expression: clause.clone(), enforced: true });
                    }
                }
            }
            _ => {} // UNIQUE: read from the unique index below
        }
    }
    let statistics: Vec<(String, String, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
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
    Ok(snapshot)
}
