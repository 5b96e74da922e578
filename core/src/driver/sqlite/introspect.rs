//! SQLite introspection: pragmas, plus the DDL text for what pragmas do not tell (CHECK
//! constraints, constraint names, partial indexes).

use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
use sqlparser::parser::Parser;
use sqlx::sqlite::SqliteConnection;
use sqlx::Row;

use super::internal;
use crate::error::Result;
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table, UniqueConstraint};

/// Read the schema of the connected database into the normalized model.
pub(super) async fn introspect(conn: &mut SqliteConnection) -> Result<SchemaSnapshot> {
    let fk_enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.map_err(internal)?;
    let objects: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let mut snapshot = SchemaSnapshot::default();
    for (kind, name, sql) in objects {
        if kind == "view" {
            snapshot.views.push(name);
            continue;
        }
        let table = introspect_table(conn, &name, sql.as_deref(), fk_enforced != 0).await?;
        snapshot.tables.insert(name, table);
    }
    Ok(snapshot)
}

pub(super) async fn introspect_table(conn: &mut SqliteConnection, name: &str, sql: Option<&str>, fk_enforced: bool) -> Result<Table> {
    let mut table = Table { name: name.to_string(), ..Default::default() };
    let columns = sqlx::query("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?;
    let mut pk: Vec<(i64, String)> = Vec::new();
    let declared = sql.map(parse_create_table).unwrap_or_default();
    for row in &columns {
        let col_name: String = row.get(0);
        let data_type: String = row.get(1);
        let pk_pos: i64 = row.get(4);
        if pk_pos > 0 {
            pk.push((pk_pos, col_name.clone()));
        }
        let rowid_alias = pk_pos > 0 && data_type.eq_ignore_ascii_case("INTEGER");
        table.columns.push(Column {
            name: col_name,
            data_type,
            // SQLite lets PRIMARY KEY columns hold NULL unless declared NOT NULL (rowid aliases cannot).
            nullable: row.get::<i64, _>(2) == 0 && !rowid_alias,
            default: row.get::<Option<String>, _>(3),
            auto_increment: rowid_alias,
        });
    }
    pk.sort();
    table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
    if table.primary_key.len() == 1 {
        // Only a single INTEGER PRIMARY KEY column aliases the rowid.
    } else {
        table.columns.iter_mut().for_each(|c| c.auto_increment = false);
    }

    let fks =
        sqlx::query("SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq")
            .bind(name)
            .fetch_all(&mut *conn)
            .await
            .map_err(internal)?;
    let mut current: Option<(i64, ForeignKey)> = None;
    for row in &fks {
        let id: i64 = row.get(0);
        if current.as_ref().map(|(cid, _)| *cid) != Some(id) {
            if let Some((_, fk)) = current.take() {
                table.foreign_keys.push(fk);
            }
            current = Some((
                id,
                ForeignKey {
                    name: None,
                    referenced_table: row.get(2),
                    on_update: Some(row.get::<String, _>(5)).filter(|a| a != "NO ACTION"),
                    on_delete: Some(row.get::<String, _>(6)).filter(|a| a != "NO ACTION"),
                    enforced: fk_enforced,
                    ..Default::default()
                },
            ));
        }
        let fk = &mut current.as_mut().unwrap().1;
        fk.columns.push(row.get(3));
        // `to` is NULL when the FK references the parent's primary key implicitly.
        fk.referenced_columns.push(row.get::<Option<String>, _>(4).unwrap_or_default());
    }
    if let Some((_, fk)) = current {
        table.foreign_keys.push(fk);
    }
    // Foreign keys are listed by SQLite in reverse declaration order; give names from the DDL.
    table.foreign_keys.reverse();
    for (fk, name) in table.foreign_keys.iter_mut().zip(declared.fk_names.iter()) {
        fk.name = name.clone();
    }

    let indexes = sqlx::query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name")
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        .map_err(internal)?;
    for row in &indexes {
        let index_name: String = row.get(0);
        let unique = row.get::<i64, _>(1) != 0;
        let origin: String = row.get(2);
        let cols = sqlx::query("SELECT cid, name FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno")
            .bind(&index_name)
            .fetch_all(&mut *conn)
            .await
            .map_err(internal)?;
        let index_sql: Option<String> = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?")
            .bind(&index_name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(internal)?
            .flatten();
        let parsed = index_sql.as_deref().map(parse_create_index).unwrap_or_default();
        let columns: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, r)| r.get::<Option<String>, _>(1).or_else(|| parsed.columns.get(i).cloned()).unwrap_or_else(|| "<expression>".into()))
            .collect();
        if origin == "u" {
            table.unique_constraints.push(UniqueConstraint { name: None, columns: columns.clone() });
        }
        table.indexes.push(Index { name: index_name, columns, unique, predicate: parsed.predicate, method: None, implicit: origin != "c" });
    }
    table.check_constraints = declared.checks;
    Ok(table)
}

#[derive(Default)]
pub(super) struct DeclaredTable {
    checks: Vec<CheckConstraint>,
    fk_names: Vec<Option<String>>,
}

/// CHECK constraints and FK names are not in SQLite's pragmas: read them from the DDL.
pub(super) fn parse_create_table(sql: &str) -> DeclaredTable {
    let dialect = sqlparser::dialect::SQLiteDialect {};
    let Ok(Statement::CreateTable(ct)) = Parser::new(&dialect).try_with_sql(sql).and_then(|mut p| p.parse_statement()) else {
        tracing::warn!("cannot parse table definition; CHECK constraints unknown: {sql}");
        return DeclaredTable::default();
    };
    let mut out = DeclaredTable::default();
    for col in &ct.columns {
        for opt in &col.options {
            match &opt.option {
                ColumnOption::Check(check) => out.checks.push(CheckConstraint {
                    name: opt.name.as_ref().or(check.name.as_ref()).map(|n| n.value.clone()),
                    expression: check.expr.to_string(),
                    enforced: true,
                }),
                ColumnOption::ForeignKey { .. } => out.fk_names.push(opt.name.as_ref().map(|n| n.value.clone())),
                _ => {}
            }
        }
    }
    for constraint in &ct.constraints {
        match constraint {
            TableConstraint::Check(check) => out.checks.push(CheckConstraint {
                name: check.name.as_ref().map(|n| n.value.clone()),
                expression: check.expr.to_string(),
                enforced: true,
            }),
            TableConstraint::ForeignKey(fk) => out.fk_names.push(fk.name.as_ref().map(|n| n.value.clone())),
            _ => {}
        }
    }
    out
}

#[derive(Default)]
pub(super) struct DeclaredIndex {
    columns: Vec<String>,
    predicate: Option<String>,
}

pub(super) fn parse_create_index(sql: &str) -> DeclaredIndex {
    let dialect = sqlparser::dialect::SQLiteDialect {};
    match Parser::new(&dialect).try_with_sql(sql).and_then(|mut p| p.parse_statement()) {
        Ok(Statement::CreateIndex(ci)) => DeclaredIndex {
            columns: ci.columns.iter().map(|c| c.column.expr.to_string()).collect(),
            predicate: ci.predicate.map(|p| p.to_string()),
        },
        _ => DeclaredIndex::default(),
    }
}
