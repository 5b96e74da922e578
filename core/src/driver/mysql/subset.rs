//! On a large MySQL/MariaDB database the scratch copy holds only what the migration can
//! reach, as the PostgreSQL shadow does (see `postgres/shadow/subset.rs`): the tables the
//! migration's words name, their foreign-key parents (transitively) and direct children, and
//! the views over any of them with the tables those views read (MariaDB keeps no view
//! dependencies, so a view's definition is matched by its words). A selected table with a
//! trigger, or a huge selection, copies everything.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sqlx::mysql::MySqlConnection;

use super::db_message;
use crate::driver::KnownCatalog;
use crate::error::{Error, Result};

/// Databases with fewer tables are copied whole.
const SUBSET_ABOVE: usize = 1_000;
/// A larger selection is copied whole.
const MOST_SELECTED: usize = 2_000;

/// The tables and views to copy for a migration that mentions `names` (lowercased, with the
/// server's spelling), or `None` to copy every one.
pub(super) async fn select(
    target: &mut MySqlConnection,
    names: &BTreeSet<String>,
    known: Option<&KnownCatalog>,
) -> Result<Option<BTreeMap<String, String>>> {
    let err = |e: sqlx::Error| Error::Sandbox(format!("cannot read the target's catalog for the sandbox: {}", db_message(&e)));
    let read;
    let catalog = match known {
        Some(known) => known,
        None => {
            read = read_catalog(target).await.map_err(err)?;
            &read
        }
    };
    if catalog.tables.len() < SUBSET_ABOVE {
        return Ok(None);
    }
    let triggered: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(err)?
    .into_iter()
    .map(|t| t.to_lowercase())
    .collect();
    // Only the views the catalog names: a scan of VIEWS opens every table's definition.
    let views: Vec<(String, BTreeSet<String>)> = if catalog.views.is_empty() {
        Vec::new()
    } else {
        let mut query = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (",
        );
        let mut list = query.separated(", ");
        for view in &catalog.views {
            list.push_bind(view);
        }
        query.push(")");
        query
            .build_query_as::<(String, String)>()
            .fetch_all(&mut *target)
            .await
            .map_err(err)?
            .into_iter()
            .map(|(name, definition)| (name.to_lowercase(), crate::sql::mentions::words(&definition)))
            .collect()
    };
    let objects = catalog.tables.keys().chain(&catalog.views);
    let fks: Vec<(String, String)> =
        catalog.tables.iter().flat_map(|(child, parents)| parents.iter().map(move |p| (child.to_lowercase(), p.to_lowercase()))).collect();
    let spelled: BTreeMap<String, String> = objects.map(|name| (name.to_lowercase(), name.clone())).collect();
    let known: HashSet<String> = spelled.keys().cloned().collect();
    let seeds: HashSet<String> = known.iter().filter(|n| names.contains(*n)).cloned().collect();
    let mut chosen = seeds.clone();
    chosen.extend(fks.iter().filter(|(_, parent)| seeds.contains(parent)).map(|(child, _)| child.clone()));
    loop {
        let before = chosen.len();
        let mut add: Vec<String> = fks.iter().filter(|(child, _)| chosen.contains(child)).map(|(_, parent)| parent.clone()).collect();
        for (view, read) in &views {
            if read.iter().any(|w| chosen.contains(w)) {
                add.push(view.clone());
            }
            if chosen.contains(view) {
                add.extend(read.iter().filter(|w| known.contains(*w)).cloned());
            }
        }
        chosen.extend(add);
        if chosen.len() == before {
            break;
        }
    }
    if chosen.len() > MOST_SELECTED || chosen.iter().any(|t| triggered.contains(t)) {
        return Ok(None);
    }
    Ok(Some(chosen.into_iter().filter_map(|lower| spelled.get(&lower).map(|name| (lower, name.clone()))).collect()))
}

/// The tables with their foreign-key parents, and the views, from the catalog (when the
/// caller has not read them already).
async fn read_catalog(target: &mut MySqlConnection) -> std::result::Result<KnownCatalog, sqlx::Error> {
    let objects: Vec<(String, String)> =
        sqlx::query_as("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            .fetch_all(&mut *target)
            .await?;
    let fks: Vec<(String, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND UNIQUE_CONSTRAINT_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *target)
    .await?;
    let mut catalog = KnownCatalog::default();
    for (name, kind) in objects {
        if kind == "VIEW" {
            catalog.views.push(name);
        } else {
            catalog.tables.entry(name).or_default();
        }
    }
    for (child, parent) in fks {
        catalog.tables.entry(child).or_default().push(parent);
    }
    Ok(catalog)
}
