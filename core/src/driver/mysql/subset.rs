//! On a large MySQL/MariaDB database the scratch copy holds only what the migration can
//! reach, as the PostgreSQL shadow does (see `postgres/shadow/subset.rs`): the tables the
//! migration's words name, their foreign-key parents (transitively) and direct children, and
//! the views over any of them with the tables those views read (MariaDB keeps no view
//! dependencies, so a view's definition is matched by its words). A selected table with a
//! trigger, or a huge selection, copies everything.

use std::collections::{BTreeSet, HashSet};

use sqlx::mysql::MySqlConnection;

use super::db_message;
use crate::error::{Error, Result};

/// Databases with fewer tables are copied whole.
const SUBSET_ABOVE: usize = 1_000;
/// A larger selection is copied whole.
const MOST_SELECTED: usize = 2_000;

/// The tables and views (by name, as the server spells them) to copy for a migration that
/// mentions `names`, or `None` to copy every one.
pub(super) async fn select(target: &mut MySqlConnection, names: &BTreeSet<String>) -> Result<Option<HashSet<String>>> {
    let err = |e: sqlx::Error| Error::Sandbox(format!("cannot read the target's catalog for the sandbox: {}", db_message(&e)));
    let objects: Vec<(String, String)> =
        sqlx::query_as("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            .fetch_all(&mut *target)
            .await
            .map_err(err)?;
    if objects.iter().filter(|(_, kind)| kind != "VIEW").count() < SUBSET_ABOVE {
        return Ok(None);
    }
    let fks: Vec<(String, String)> = sqlx::query_as(
        "SELECT TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND UNIQUE_CONSTRAINT_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(err)?;
    let triggered: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(err)?
    .into_iter()
    .map(|t| t.to_lowercase())
    .collect();
    let views: Vec<(String, BTreeSet<String>)> = sqlx::query_as::<_, (String, String)>(
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *target)
    .await
    .map_err(err)?
    .into_iter()
    .map(|(name, definition)| (name.to_lowercase(), crate::sql::mentions::words(&definition)))
    .collect();
    let known: HashSet<String> = objects.iter().map(|(name, _)| name.to_lowercase()).collect();
    let fks: Vec<(String, String)> = fks.into_iter().map(|(c, p)| (c.to_lowercase(), p.to_lowercase())).collect();
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
    Ok(Some(chosen))
}
