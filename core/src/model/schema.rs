//! The normalized schema model every driver's introspection produces, so one diff engine
//! serves every dialect.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchemaSnapshot {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// View names.
    pub views: Vec<String>,
    /// Enum types by name with their labels in order (PostgreSQL `CREATE TYPE ... AS ENUM`;
    /// MySQL enums are column types).
    #[serde(default)]
    pub enums: BTreeMap<String, Vec<String>>,
}

impl SchemaSnapshot {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name).or_else(|| self.tables.values().find(|t| t.name.eq_ignore_ascii_case(name)))
    }
}

/// One schema (PostgreSQL schema, MySQL database, SQLite `main`) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchemaSummary {
    pub name: String,
    pub tables: usize,
    pub views: usize,
}

/// A catalog row: name, table count, view count.
impl From<(String, i64, i64)> for SchemaSummary {
    fn from((name, tables, views): (String, i64, i64)) -> Self {
        SchemaSummary { name, tables: tables.max(0) as usize, views: views.max(0) as usize }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Primary-key columns in key order; empty when the table has no primary key.
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub unique_constraints: Vec<UniqueConstraint>,
    pub check_constraints: Vec<CheckConstraint>,
    pub indexes: Vec<Index>,
    /// The database's row estimate (statistics, not a count), when it has one.
    #[serde(default)]
    pub row_estimate: Option<u64>,
    /// Bytes on disk, indexes and TOAST included (PostgreSQL, MySQL/MariaDB), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Column {
    pub name: String,
    /// The type as the database declares it (e.g. `VARCHAR(255)`, `INTEGER`).
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    /// Identity / auto-increment / SQLite rowid alias.
    pub auto_increment: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
    /// False when existing rows are not guaranteed to satisfy it (SQLite with
    /// `foreign_keys` off, PostgreSQL `NOT VALID`, MySQL imports with `FOREIGN_KEY_CHECKS=0`).
    pub enforced: bool,
    /// PostgreSQL `DEFERRABLE`.
    #[serde(default)]
    pub deferrable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UniqueConstraint {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckConstraint {
    pub name: Option<String>,
    /// The boolean expression, as SQL text of the target dialect.
    pub expression: String,
    /// False for PostgreSQL `NOT VALID` and MySQL `NOT ENFORCED` checks.
    #[serde(default)]
    pub enforced: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Index {
    pub name: String,
    /// Column names, or the expression text for expression keys.
    pub columns: Vec<String>,
    pub unique: bool,
    /// `WHERE` predicate of a partial index.
    pub predicate: Option<String>,
    /// Access method (btree, hash, gin...) where the dialect has one.
    pub method: Option<String>,
    /// True when the index only exists to back a PRIMARY KEY or UNIQUE constraint.
    pub implicit: bool,
}
