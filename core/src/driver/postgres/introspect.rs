//! PostgreSQL introspection: the catalogs of one schema into the normalized model.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::{internal, strip_outer_parens};
use crate::error::Result;
use crate::model::{CheckConstraint, Column, ForeignKey, Index, SchemaSnapshot, Table, UniqueConstraint};

/// The current schema, from the catalogs, into the normalized model.
/// The tables, views and enums of one schema: `schema`, or the current schema.
pub(super) async fn introspect(conn: &mut PgConnection, schema: Option<&str>) -> Result<SchemaSnapshot> {
    let mut snapshot = SchemaSnapshot::default();
    let tables = sqlx::query(
        // Sizes from the catalog's page counts where the table was analyzed (the statistics its
        // row estimate comes from too); asking the file system (`pg_total_relation_size`) costs
        // a dozen stat calls per table, over half a second at 10,000 tables.
        "SELECT c.relname, GREATEST(c.reltuples, 0)::bigint, c.reltuples >= 0,
                CASE WHEN c.reltuples >= 0 THEN (c.relpages::bigint
                    + COALESCE((SELECT t.relpages FROM pg_class t WHERE t.oid = c.reltoastrelid), 0)
                    + COALESCE((SELECT sum(i.relpages) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid), 0)
                  ) * current_setting('block_size')::bigint
                ELSE pg_total_relation_size(c.oid) END
         FROM pg_class c
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
         ORDER BY c.relname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &tables {
        let name: String = r.get(0);
        let analyzed: bool = r.get(2);
        snapshot.tables.insert(
            name.clone(),
            Table {
                name,
                row_estimate: analyzed.then(|| r.get::<i64, _>(1) as u64),
                size_bytes: r.get::<Option<i64>, _>(3).map(|b| b as u64),
                ..Default::default()
            },
        );
    }

    let columns = sqlx::query(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%',
                a.attnum
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY c.relname, a.attnum",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    // Key columns come back as attribute numbers and are named here: resolving them in SQL
    // (a subquery per constraint and index) costs more than the rest of introspection at
    // 10,000 tables.
    let mut attribute: HashMap<(String, i16), String> = HashMap::with_capacity(columns.len());
    for r in &columns {
        let table: String = r.get(0);
        attribute.insert((table.clone(), r.get(6)), r.get(1));
        if let Some(t) = snapshot.tables.get_mut(&table) {
            t.columns.push(Column { name: r.get(1), data_type: r.get(2), nullable: r.get(3), default: r.get(4), auto_increment: r.get(5) });
        }
    }
    let names = |table: &str, numbers: &[i16]| -> Vec<String> {
        numbers.iter().map(|n| attribute.get(&(table.to_string(), *n)).cloned().unwrap_or_default()).collect()
    };

    let constraints = sqlx::query(
        "SELECT c.relname, con.conname, con.contype::text, con.convalidated, con.condeferrable,
                COALESCE(con.conkey, '{}'),
                fc.relname,
                -- The referenced table may be in another schema: its columns are named here.
                CASE WHEN con.contype = 'f' THEN ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) END,
                con.confdeltype::text, con.confupdtype::text,
                CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid
         WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND con.contype IN ('p', 'f', 'u', 'c')
         ORDER BY c.relname, con.conname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let action = |code: String| match code.as_str() {
        "r" => Some("RESTRICT".to_string()),
        "c" => Some("CASCADE".to_string()),
        "n" => Some("SET NULL".to_string()),
        "d" => Some("SET DEFAULT".to_string()),
        _ => None, // 'a' = NO ACTION, the default
    };
    for r in &constraints {
        let table: String = r.get(0);
        let columns: Vec<String> = names(&table, &r.get::<Vec<i16>, _>(5));
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        let name: String = r.get(1);
        match r.get::<String, _>(2).as_str() {
            "p" => t.primary_key = columns,
            "u" => t.unique_constraints.push(UniqueConstraint { name: Some(name), columns }),
            "f" => t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                referenced_table: r.get::<Option<String>, _>(6).unwrap_or_default(),
                referenced_columns: r.get::<Option<Vec<String>>, _>(7).unwrap_or_default(),
                on_delete: action(r.get(8)),
                on_update: action(r.get(9)),
                enforced: r.get(3),
                deferrable: r.get(4),
            }),
            "c" => t.check_constraints.push(CheckConstraint {
                name: Some(name),
                expression: r.get::<Option<String>, _>(10).unwrap_or_default(),
                enforced: r.get(3),
            }),
            _ => {}
        }
    }

    let indexes = sqlx::query(
        "SELECT t.relname, i.relname, ix.indisunique, am.amname, pg_get_expr(ix.indpred, ix.indrelid),
                (ix.indkey::int2[])[0:ix.indnkeyatts - 1],
                -- Expression keys (attribute number 0) need the server to print them.
                CASE WHEN ix.indexprs IS NOT NULL THEN ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnkeyatts) k ORDER BY k) END,
                ix.indexrelid IN (SELECT con.conindid FROM pg_constraint con WHERE con.contype IN ('p', 'u', 'x'))
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_am am ON am.oid = i.relam
         WHERE t.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND t.relkind IN ('r', 'p')
         ORDER BY t.relname, i.relname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for r in &indexes {
        let table: String = r.get(0);
        let columns = match r.get::<Option<Vec<String>>, _>(6) {
            Some(printed) => printed.into_iter().map(|c| c.trim_matches('"').to_string()).collect(),
            None => names(&table, &r.get::<Vec<i16>, _>(5)),
        };
        let Some(t) = snapshot.tables.get_mut(&table) else { continue };
        t.indexes.push(Index {
            name: r.get(1),
            unique: r.get(2),
            method: Some(r.get(3)),
            predicate: r.get::<Option<String>, _>(4).map(|p| strip_outer_parens(&p).to_string()),
            columns,
            implicit: r.get(7),
        });
    }

    let enums = sqlx::query(
        "SELECT t.typname::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
         WHERE t.typnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema()))
         GROUP BY t.typname ORDER BY t.typname",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    snapshot.enums = enums.iter().map(|r| (r.get::<String, _>(0), r.get::<Vec<String>, _>(1))).collect();

    snapshot.views = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = COALESCE($1, current_schema())) AND c.relkind IN ('v', 'm') ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    Ok(snapshot)
}
