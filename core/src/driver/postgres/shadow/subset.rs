//! On a large schema the shadow holds only what the migration can reach. Copying 10,000
//! tables' definitions takes pg_restore over 15 s and a sample of each another 12 s, for a
//! migration that alters one. The shadow then gets every object that is not a table (schemas,
//! types, functions, extensions, standalone sequences) and the tables the migration names,
//! closed over what their definitions and behaviour depend on: foreign-key parents (so every
//! constraint restores), direct foreign-key children (what a DROP or a type change of a key
//! reaches), partitions and inheritance both ways, and views over any of them with what those
//! views read. A selected table with user triggers or rules (whose bodies may touch any
//! table) makes the copy whole again, as do migrations that run dynamic SQL.

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};

/// Schemas with fewer tables are copied whole: the subset saves little there.
pub(super) const SUBSET_ABOVE: i64 = 1_000;
/// A selection larger than this is copied whole (each table is one `-t` argument).
const MOST_SELECTED: usize = 2_000;

/// The relations (and standalone sequences) the shadow gets, as `pg_dump -t` patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Selection {
    pub relations: BTreeSet<(String, String)>,
    pub sequences: BTreeSet<(String, String)>,
    /// Tables in the target's user schemas, for the report.
    pub of_tables: usize,
}

impl Selection {
    /// `pg_dump` arguments selecting exactly these objects (names quoted, so no pattern
    /// characters in them match anything else).
    pub fn dump_args(&self) -> Vec<String> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        self.relations
            .iter()
            .chain(&self.sequences)
            .flat_map(|(schema, name)| ["-t".to_string(), format!("{}.{}", quote(schema), quote(name))])
            .collect()
    }

    /// What the report says about the copy.
    pub fn note(&self) -> String {
        format!(
            "the sandbox holds {} of the target's {} tables (with views): those the migration names and their foreign-key, partition and view neighbours",
            self.relations.len(),
            self.of_tables
        )
    }
}

/// What the shadow needs for a migration mentioning `names`, or `None` when the whole schema
/// must be copied (a small schema, a trigger or rule on a selected table, a huge selection).
pub(super) async fn select(target: &mut PgConnection, names: &BTreeSet<String>) -> Result<Option<Selection>> {
    let err =
        |e: sqlx::Error| Error::Sandbox(format!("cannot read the target's catalog for the sandbox: {}", super::super::db_message(&e)));
    let user = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'";
    let relations: Vec<(i64, String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.oid::bigint, n.nspname::text, c.relname::text, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {user}"
    )))
    .fetch_all(&mut *target)
    .await
    .map_err(err)?;
    let tables = relations.iter().filter(|r| r.3 == "r" || r.3 == "p").count();
    if (tables as i64) < SUBSET_ABOVE {
        return Ok(None);
    }
    // (child, parent) foreign keys, (child, parent) inheritance and partitions, (view, read).
    let fks = edges(target, "SELECT conrelid::bigint, confrelid::bigint FROM pg_constraint WHERE contype = 'f'").await?;
    let inherits = edges(target, "SELECT inhrelid::bigint, inhparent::bigint FROM pg_inherits").await?;
    let reads = edges(
        target,
        "SELECT DISTINCT r.ev_class::bigint, d.refobjid::bigint FROM pg_rewrite r
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
         WHERE d.refobjid <> r.ev_class",
    )
    .await?;
    let behaviour: HashSet<i64> = sqlx::query_scalar::<_, i64>(
        "SELECT tgrelid::bigint FROM pg_trigger WHERE NOT tgisinternal
         UNION SELECT ev_class::bigint FROM pg_rewrite WHERE rulename <> '_RETURN'",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(err)?
    .into_iter()
    .collect();
    let standalone: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'S' AND {user}
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))"
    )))
    .fetch_all(&mut *target)
    .await
    .map_err(err)?;

    let by_oid: HashMap<i64, (String, String)> = relations.iter().map(|(oid, s, n, _)| (*oid, (s.clone(), n.clone()))).collect();
    let seeds: Vec<i64> = relations.iter().filter(|r| names.contains(&r.2.to_lowercase())).map(|r| r.0).collect();
    let mut chosen: HashSet<i64> = seeds.iter().copied().collect();
    // Direct foreign-key children of what the migration names.
    chosen.extend(fks.iter().filter(|(_, parent)| seeds.contains(parent)).map(|(child, _)| *child));
    loop {
        let before = chosen.len();
        let mut add = Vec::new();
        for (child, parent) in &fks {
            if chosen.contains(child) {
                add.push(*parent);
            }
        }
        for (child, parent) in &inherits {
            if chosen.contains(child) {
                add.push(*parent);
            }
            if chosen.contains(parent) {
                add.push(*child);
            }
        }
        for (view, read) in &reads {
            if chosen.contains(read) {
                add.push(*view);
            }
            if chosen.contains(view) {
                add.push(*read);
            }
        }
        chosen.extend(add.into_iter().filter(|oid| by_oid.contains_key(oid)));
        if chosen.len() == before {
            break;
        }
    }
    if chosen.len() > MOST_SELECTED || chosen.iter().any(|oid| behaviour.contains(oid)) {
        return Ok(None);
    }
    Ok(Some(Selection {
        relations: chosen.iter().filter_map(|oid| by_oid.get(oid).cloned()).collect(),
        sequences: standalone.into_iter().collect(),
        of_tables: tables,
    }))
}

async fn edges(target: &mut PgConnection, sql: &'static str) -> Result<Vec<(i64, i64)>> {
    sqlx::query_as::<_, (i64, i64)>(sql)
        .fetch_all(&mut *target)
        .await
        .map_err(|e| Error::Sandbox(format!("cannot read the target's catalog for the sandbox: {}", super::super::db_message(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_arguments_quote_names_exactly() {
        let selection = Selection {
            relations: [("public".to_string(), "We\"ird.*".to_string())].into_iter().collect(),
            sequences: BTreeSet::new(),
            of_tables: 1,
        };
        assert_eq!(selection.dump_args(), ["-t", "\"public\".\"We\"\"ird.*\""]);
    }
}
